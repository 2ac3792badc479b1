package harness

import (
	"slices"
	"testing"

	"github.com/wsbench/wsbench/loadgen"
	"github.com/wsbench/wsbench/scenarios"
	"github.com/wsbench/wsbench/units"
)

// TestPlanArgsSplitConns: a workload's connections are split over its
// workers; one that leaves conns out gets the load generator's default,
// as the scenario schema says, not one connection.
func TestPlanArgsSplitConns(t *testing.T) {
	tests := []struct {
		conns int
		want  []string // --conns per worker
	}{
		{5, []string{"3", "2"}},
		{0, []string{"25", "25"}},
	}
	for _, tt := range tests {
		p := plan{w: scenarios.Workload{Load: scenarios.Load{Conns: units.Count(tt.conns)}}, workers: 2, url: "ws://x/"}
		for i, want := range tt.want {
			a := p.args(i)
			j := slices.Index(a, "--conns")
			if j < 0 || a[j+1] != want {
				t.Errorf("conns %d, worker %d: args %v, want --conns %s", tt.conns, i, a, want)
			}
		}
	}
	if loadgen.DefaultConns != 50 {
		t.Fatalf("the table assumes the default of 50 connections, it is %d", loadgen.DefaultConns)
	}
}
