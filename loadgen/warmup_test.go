package loadgen

import (
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/results"
)

// With a warm-up W and a duration D, what is recorded is D's worth: the
// load ran for W+D, but messages sent during the warm-up are in no count,
// histogram or series row, and the window, the start and the series begin
// after it.
func TestWarmupIsNotRecorded(t *testing.T) {
	addr := startEcho(t, echo.Config{})
	const (
		warm = time.Second
		dur  = time.Second
	)
	tests := []struct {
		name     string
		o        Options
		want     int64 // messages D alone would record
		primary  string
		received bool // counts received messages (push sends nothing)
	}{
		{name: "rtt", o: Options{URL: "ws://" + addr + "/echo", Workload: WorkloadRTT, Conns: 4, Rate: 400}, want: 400, primary: results.MetricRTT},
		{name: "push", o: Options{URL: "ws://" + addr, Workload: WorkloadPush, Conns: 4, PushRate: 100, Size: FixedSize(64)}, want: 400, primary: results.MetricOneWay},
	}
	for _, eng := range engines() {
		for _, tt := range tests {
			t.Run(eng+"/"+tt.name, func(t *testing.T) {
				o := tt.o
				o.Engine, o.Warmup, o.Duration = eng, warm, dur
				before := time.Now()
				run := mustRun(t, o)
				s := run.Summary
				got := s.Messages.Received
				// D alone is want messages; W+D would be twice that. The
				// bounds leave room for a busy machine on one side and
				// cannot be met by recording the warm-up on the other.
				if got < tt.want*6/10 || got > tt.want*13/10 {
					t.Fatalf("received %d messages, want about %d (the duration's), not %d (with the warm-up)", got, tt.want, 2*tt.want)
				}
				if n := s.Histograms[tt.primary].Count; n != got {
					t.Fatalf("%s has %d samples for %d messages received", tt.primary, n, got)
				}
				if s.Rates.WindowSec < 0.99 || s.Rates.WindowSec > 1.01 {
					t.Fatalf("rates over %.3f s, want the duration, 1 s", s.Rates.WindowSec)
				}
				if !s.Start.After(before.Add(warm)) {
					t.Fatalf("start %v is not after the warm-up (run began %v)", s.Start, before)
				}
				var inSeries int64
				for _, row := range run.Series {
					inSeries += row.MsgsRecv
				}
				if len(run.Series) == 0 || run.Series[0].T <= 0 || run.Series[0].T > 1.001 || inSeries != got {
					t.Fatalf("series %+v: want rows from the measurement's start, holding all %d messages", run.Series, got)
				}
				if s.Params["warmup"] != "1s" || !strings.Contains(strings.Join(s.Notes, "\n"), "warm-up of 1s") {
					t.Fatalf("params %v notes %q: want warmup=1s and a note", s.Params, s.Notes)
				}
				if s.Histograms[results.MetricHandshake].Count != 4 || s.Connections.Opened != 4 {
					t.Fatalf("connections %+v, handshakes %d: connections count as usual", s.Connections, s.Histograms[results.MetricHandshake].Count)
				}
			})
		}
	}
}

// Throughput with a warm-up: sent and received count the same messages
// (those sent after the warm-up), so nothing sent before it shows as lost.
func TestWarmupThroughputBalances(t *testing.T) {
	addr := startEcho(t, echo.Config{})
	for _, eng := range engines() {
		t.Run(eng, func(t *testing.T) {
			run := mustRun(t, Options{URL: "ws://" + addr + "/echo", Workload: WorkloadThroughput, Conns: 2, Window: 4,
				Warmup: 300 * time.Millisecond, Duration: 500 * time.Millisecond, Engine: eng})
			s := run.Summary
			if s.Messages.Received == 0 || s.Messages.Sent-s.Messages.Received != s.Failures["unanswered"] {
				t.Fatalf("sent %d, received %d, unanswered %d: want sent = received + unanswered",
					s.Messages.Sent, s.Messages.Received, s.Failures["unanswered"])
			}
		})
	}
}

func TestWarmupOptions(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		err  string // "" = valid
	}{
		{"rtt", Options{Workload: WorkloadRTT, Warmup: time.Second}, ""},
		{"throughput", Options{Workload: WorkloadThroughput, Warmup: time.Second}, ""},
		{"push", Options{Workload: WorkloadPush, Warmup: time.Second}, ""},
		{"hold", Options{Workload: WorkloadHold, Warmup: time.Second}, "loadgen: warmup 1s: only for the rtt, throughput and push workloads, not hold"},
		{"ramp", Options{Workload: WorkloadRamp, Warmup: time.Second}, "not ramp"},
		{"hold without", Options{Workload: WorkloadHold}, ""},
		{"negative", Options{Warmup: -time.Second}, "loadgen: warmup -1s: want 0 (none) or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.URL = "ws://127.0.0.1:9/echo"
			err := tt.o.Validate()
			if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Validate: %v, want %q", err, tt.err)
			}
		})
	}
	if p := (Options{Workload: WorkloadHold}).Params(); p["warmup"] != "" {
		t.Fatalf("hold params %v: warmup does not apply", p)
	}
	if p := (Options{Workload: WorkloadRTT}).Params(); p["warmup"] != "0s" {
		t.Fatalf("rtt params %v: want warmup=0s", p)
	}
}

// The interval grid: whole seconds from the base, then from the origin.
func TestGrid(t *testing.T) {
	const s = intervalNS
	tests := []struct {
		name   string
		origin int64
		want   []int64 // starts of intervals 0, 1, 2, …
	}{
		{"no warm-up", 0, []int64{0, s, 2 * s, 3 * s}},
		{"origin inside second 2", 2*s + s/2, []int64{0, s, 2 * s, 2*s + s/2, 3*s + s/2}},
		{"origin inside second 0", s / 4, []int64{0, s / 4, s + s/4}},
		{"origin on a second", 2 * s, []int64{0, s, 2 * s, 3 * s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, want := range tt.want {
				if got := (grid{origin: tt.origin}).start(int64(i)); got != want {
					t.Fatalf("interval %d starts at %d, want %d", i, got, want)
				}
			}
		})
	}
}

// LoopBusy is the busiest loop's working share of the measurement window:
// above 0 once there was work, never above 1.
func TestLoopBusy(t *testing.T) {
	addr := startEcho(t, echo.Config{})
	for _, eng := range engines() {
		t.Run(eng, func(t *testing.T) {
			run := mustRun(t, Options{URL: "ws://" + addr + "/echo", Workload: WorkloadThroughput, Conns: 2,
				Duration: 500 * time.Millisecond, Engine: eng, Loops: 2})
			if b := run.Summary.Self.LoopBusy; b <= 0 || b > 1 {
				t.Fatalf("loop busy %v, want a share in (0, 1]", b)
			}
		})
	}
}

func TestCoreBusy(t *testing.T) {
	tests := []struct {
		name     string
		from     int64
		end      int64
		waits    [][2]int64
		wantBusy float64
	}{
		{"idle throughout", 100, 200, [][2]int64{{0, 300}}, 0},
		{"half", 100, 200, [][2]int64{{50, 125}, {150, 175}}, 0.5},
		{"no wait", 100, 200, nil, 1},
		{"no window", 0, 0, [][2]int64{{0, 10}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := core{d: &driver{from: tt.from, end: tt.end}}
			for _, w := range tt.waits {
				c.waited(w[0], w[1])
			}
			if got := c.busy(); got != tt.wantBusy {
				t.Fatalf("busy %v, want %v", got, tt.wantBusy)
			}
		})
	}
}
