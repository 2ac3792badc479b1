package harness

import (
	"bytes"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/golden"
	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/scenarios"
)

// TestWriteTableGolden prints a scenario's table — a row that kept up, one
// whose load generator fell behind (marked loadgen-bound, with the
// figure), one that failed an expectation, one that could not run and
// one skipped — and compares it with testdata/table.golden; go test
// -update rewrites it.
func TestWriteTableGolden(t *testing.T) {
	summary := func(lagP99 int64) *results.Summary {
		return &results.Summary{
			Workload: "rtt", Params: map[string]string{"conns": "20", "rate": "2000"},
			Connections: results.Connections{Attempted: 20, Opened: 20},
			Messages:    results.Traffic{Sent: 5000, Received: 5000},
			Rates:       results.Rates{MsgsRecvPerSec: 2000},
			Histograms: map[string]results.Stats{
				results.MetricHandshake: {Count: 20, P50: 410, P99: 620},
				results.MetricRTT:       {Count: 5000, P50: 350, P99: 900 + lagP99, P999: 2100 + lagP99},
				results.MetricLag:       {Count: 5000, P50: 40, P99: lagP99},
			},
		}
	}
	pass := scenarios.Verdict{Pass: true, Got: "1.2ms"}
	fail := scenarios.Verdict{Got: "4.1ms"}
	fail.Expectation.Text = "rtt.p99 < 2ms"
	so := &ScenarioOutcome{Name: "proxy-cost", Rows: []*Row{
		{Target: "direct", Workload: "rtt", Summary: summary(120), Verdicts: []scenarios.Verdict{pass}},
		{Target: "refproxy", Workload: "rtt", Summary: summary(3200), Verdicts: []scenarios.Verdict{pass, fail},
			Usage: &results.Usage{CPU: 150 * time.Millisecond, MemoryGrowth: 2 << 20}},
		{Target: "nginx", Workload: "rtt", Err: "nginx exited: [emerg] unknown directive"},
		{Target: "haproxy", Workload: "rtt", Skipped: "source addresses need --network host or --runtime local"},
	}}
	var b bytes.Buffer
	writeTable(&b, so)
	golden.Check(t, "table.golden", b.Bytes())
}

// The CPU column shows the cost the workload is made of, never the other
// one as a fallback: per handshake for hold, per message otherwise.
func TestCPUColumnFollowsTheWorkload(t *testing.T) {
	u := &results.Usage{CPU: 100 * time.Millisecond}
	for _, tc := range []struct {
		s    results.Summary
		want string
	}{
		{results.Summary{Workload: "hold", Connections: results.Connections{Attempted: 100}}, "1000/hs"},
		{results.Summary{Workload: "rtt", Connections: results.Connections{Attempted: 100}, Messages: results.Traffic{Sent: 500, Received: 500}}, "100"},
		{results.Summary{Workload: "rtt", Connections: results.Connections{Attempted: 100}}, "-"}, // no message: no figure, not per handshake
	} {
		if got := cpuPerMsg(&Row{Summary: &tc.s, Usage: u}); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.s.Workload, got, tc.want)
		}
	}
}
