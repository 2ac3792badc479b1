package harness

import (
	"slices"
	"testing"
	"time"

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

// A workload's warm-up reaches the load generator, and the plan's length
// counts it; without one no flag is passed.
func TestPlanArgsWarmup(t *testing.T) {
	tests := []struct {
		name   string
		warmup time.Duration
		want   []string // the --warmup flag and value; nil = absent
	}{
		{"warm-up", 500 * time.Millisecond, []string{"--warmup", "500ms"}},
		{"none", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := scenarios.Workload{Load: scenarios.Load{Workload: "rtt", Duration: units.Duration(2 * time.Second), Warmup: units.Duration(tt.warmup)}}
			p := plan{w: w, workers: 1, url: "ws://x/", dur: w.Load.LoadDuration(), warmup: time.Duration(w.Load.Warmup)}
			a := p.args(0)
			j := slices.Index(a, "--warmup")
			switch {
			case tt.want == nil && j >= 0, tt.want != nil && (j < 0 || a[j+1] != tt.want[1]):
				t.Fatalf("args %v, want %v", a, tt.want)
			}
			if p.total() != 2*time.Second+tt.warmup {
				t.Fatalf("plan length %v, want the duration and the warm-up", p.total())
			}
		})
	}
}
