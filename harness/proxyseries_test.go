package harness

import (
	"slices"
	"testing"
	"time"

	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/scenarios"
	"github.com/wsbench/wsbench/units"
)

// Each worker churns its share of the connections.
func TestPlanArgsSplitChurn(t *testing.T) {
	p := plan{w: scenarios.Workload{Load: scenarios.Load{Workload: "hold", Conns: 9000, Churn: units.Rate(100)}}, workers: 2, url: "ws://x/"}
	for i := range 2 {
		a := p.args(i)
		j := slices.Index(a, "--churn")
		if j < 0 || a[j+1] != "50" {
			t.Errorf("worker %d: args %v, want --churn 50", i, a)
		}
	}
	p.w.Load.Churn = 0
	if a := p.args(0); slices.Contains(a, "--churn") {
		t.Errorf("no churn: args %v, want no --churn", a)
	}
}

// The proxy's readings are put on the run's axis; those before it started
// or after it ended are left out.
func TestProxySeriesAxis(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	run := &results.Run{Summary: results.Summary{Start: start, End: start.Add(10 * time.Second)}}
	r := results.Resources{RSS: 1 << 20}
	got := proxySeries([]timedSample{
		{at: start.Add(-time.Second), Resources: r},
		{at: start.Add(1500 * time.Millisecond), Resources: r},
		{at: start.Add(9 * time.Second), Resources: r},
		{at: start.Add(11 * time.Second), Resources: r},
	}, run)
	want := []results.ResourceSample{{T: 1.5, Resources: r}, {T: 9, Resources: r}}
	if !slices.Equal(got, want) {
		t.Errorf("proxySeries = %+v, want %+v", got, want)
	}
}
