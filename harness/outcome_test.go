package harness

import (
	"reflect"
	"testing"
	"time"

	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/scenarios"
)

// run.json keeps what the outcome says of every row: usage, repetitions,
// verdicts (read back as the expectations they were), errors.
func TestOutcomeRoundTrip(t *testing.T) {
	dir := t.TempDir()
	e, err := scenarios.ParseExpectation("rtt.p99 < 2ms")
	if err != nil {
		t.Fatal(err)
	}
	u := &results.Usage{CPU: 150 * time.Millisecond, MemoryGrowth: 2 << 20}
	o := &Outcome{
		RunID: "r", Dir: dir, Start: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Runtime: "local", Network: "host", Scale: 0.5,
		Images: []ImageInfo{{Kind: "nginx", Ref: "n:1", ID: "sha256:1", Version: "nginx/1.22.1"}},
		Scenarios: []*ScenarioOutcome{
			{Name: "s", File: "s.yaml", Rows: []*Row{
				{Target: "refproxy", Kind: "refproxy", Workload: "rtt", Dir: "s/refproxy/rtt", Usage: u,
					Verdicts: []scenarios.Verdict{{Expectation: e, Got: "4.1ms"}},
					Reps:     []Rep{{Dir: "s/refproxy/rtt/rep-1", Usage: u}}},
				{Target: "nginx", Kind: "nginx", Workload: "rtt", Err: "nginx exited", Logs: []string{"s/logs/nginx.log"}},
			}},
			{Name: "broken", Err: "no openssl"},
		},
	}
	if err := o.write(); err != nil {
		t.Fatal(err)
	}
	m, err := results.ReadRunFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	back := outcomeOf(dir, m)
	e.Line = 0 // not recorded
	o.Scenarios[0].Rows[0].Verdicts[0].Expectation = e
	if !reflect.DeepEqual(back, o) {
		t.Fatalf("read back\n%+v\nwant\n%+v", back, o)
	}
}
