package scenarios

import (
	"strings"
	"testing"
	"time"
)

// warmupYAML has one rtt workload; the cases edit its load line.
const warmupYAML = `name: warm
targets:
  - name: direct
    kind: direct
workloads:
  - name: w
    load: {workload: rtt, rate: 100, duration: 2s, warmup: 500ms}
`

func TestWarmup(t *testing.T) {
	s, err := Parse("w.yaml", []byte(warmupYAML))
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(s.Workloads[0].Load.Warmup); got != 500*time.Millisecond {
		t.Fatalf("warmup %v, want 500ms", got)
	}
	if got := time.Duration(s.Scaled(2).Workloads[0].Load.Warmup); got != time.Second {
		t.Fatalf("scaled ×2 warmup %v, want 1s (scaled like the duration)", got)
	}
	if s.Estimate() < 2500*time.Millisecond {
		t.Fatalf("estimate %v leaves out the warm-up", s.Estimate())
	}
	tests := []struct {
		name, load, want string
	}{
		{"throughput", "{workload: throughput, duration: 2s, warmup: 1s}", ""},
		{"push", "{workload: push, duration: 2s, warmup: 1s}", ""},
		{"hold", "{workload: hold, duration: 2s, warmup: 1s}",
			"w.yaml:7: workloads[0].load.warmup: applies to the rtt and throughput and push workload only, this one is hold"},
		{"not a duration", "{workload: rtt, warmup: soon}", `w.yaml:7: workloads[0].load.warmup: duration "soon"`},
		{"negative", "{workload: rtt, warmup: -1s}", `workloads[0].load.warmup: duration "-1s": must not be negative`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(warmupYAML, "{workload: rtt, rate: 100, duration: 2s, warmup: 500ms}", tt.load, 1)
			_, err := Parse("w.yaml", []byte(src))
			if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse: %v, want %q", err, tt.want)
			}
		})
	}
}
