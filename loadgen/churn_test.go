package loadgen

import (
	"testing"
	"time"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/results"
)

// Churn closes connections at its rate, reopens them in their place, and
// counts them as churned: no drop, no reconnect, no failure. Every second
// of the time series carries the load generator's own resources.
func TestChurn(t *testing.T) {
	addr := startEcho(t, echo.Config{ID: "b1"})
	const conns, rate, secs = 200, 40, 3
	for _, eng := range engines() {
		t.Run(eng, func(t *testing.T) {
			run := mustRun(t, Options{
				URL: "ws://" + addr + "/echo", Workload: WorkloadHold, Conns: conns, Duration: secs * time.Second,
				PingInterval: 500 * time.Millisecond, HoldSend: "data", Churn: rate, Engine: eng, Loops: 2,
			})
			s := run.Summary
			c := s.Connections
			// The schedule is open-model: every event due before the end
			// fires, however late the loop got to it (each engine's first
			// comes one interval in).
			if c.Churned < rate*secs-2 || c.Churned > rate*secs {
				t.Errorf("churned %d, want %d (%d/s for %ds)", c.Churned, rate*secs, rate, secs)
			}
			if c.Opened != conns || c.Dropped != 0 || c.Reconnects != 0 || len(s.Failures) != 0 {
				t.Errorf("connections %+v failures %v, want %d opened and churn neither dropped, reconnected nor failed", c, s.Failures, conns)
			}
			if got := s.Hold.Outcomes["churned"]; got != c.Churned {
				t.Errorf("outcome churned %d, want the %d churned", got, c.Churned)
			}
			if n := s.Histograms[results.MetricReconnect].Count; n == 0 || n > c.Churned {
				t.Errorf("%d reopening handshakes timed, want one per churned connection reopened (%d churned)", n, c.Churned)
			}
			if s.Params["churn"] != "40" {
				t.Errorf("params %v, want churn=40", s.Params)
			}
			if s.Messages.Received == 0 {
				t.Error("no data echoed: the held connections carried no traffic")
			}
			for _, row := range run.Series {
				if row.RSS <= 0 || row.FDs <= 0 || row.Goroutines <= 0 {
					t.Errorf("row at %.2fs: resources %+v, want the load generator's RSS, descriptors and goroutines", row.T, row.Resources)
				}
			}
		})
	}
}

// compact drops ended sessions from the engine's list once they are half
// of it, and an engine that may reuse them hands them out again, zeroed.
func TestCompact(t *testing.T) {
	cases := []struct {
		name          string
		total, closed int
		reuse         bool
		wantAll       int
		wantFree      int
	}{
		{"few ended: left alone", 100, 40, true, 100, 0},
		{"half ended", 200, 150, true, 50, 150},
		{"half ended, no reuse", 200, 150, false, 50, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			co := &core{reuse: c.reuse}
			for i := range c.total {
				s := co.newSession()
				s.slot, s.closed = int32(i), i < c.closed
				co.all = append(co.all, s)
			}
			co.ended = c.closed
			co.compact()
			if len(co.all) != c.wantAll || len(co.free) != c.wantFree {
				t.Fatalf("%d sessions listed, %d free; want %d and %d", len(co.all), len(co.free), c.wantAll, c.wantFree)
			}
			for _, s := range co.all {
				if c.wantAll < c.total && s.closed {
					t.Fatalf("ended session %d still listed", s.slot)
				}
			}
			if c.wantFree > 0 {
				if s := co.newSession(); s.closed || s.slot != 0 {
					t.Errorf("reused session %+v, want it zeroed", *s)
				}
			}
		})
	}
}

func TestChurnOptions(t *testing.T) {
	cases := []struct {
		name string
		o    Options
		want string // "" = valid
	}{
		{"hold", Options{Workload: WorkloadHold, Churn: 10}, ""},
		{"negative", Options{Workload: WorkloadHold, Churn: -1}, "loadgen: churn -1: want 0 (none) or more connections per second"},
		{"rtt", Options{Workload: WorkloadRTT, Churn: 10}, "loadgen: churn: only for the hold workload, not rtt"},
		{"no-read", Options{Workload: WorkloadHold, Churn: 10, NoRead: true}, "loadgen: churn: a client that never reads cannot see the close replies (no-read)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.o.URL = "ws://127.0.0.1:1/echo"
			err := c.o.Validate()
			if c.want == "" && err != nil || c.want != "" && (err == nil || err.Error() != c.want) {
				t.Errorf("Validate() = %v, want %q", err, c.want)
			}
		})
	}
}
