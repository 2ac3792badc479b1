package results

import (
	"testing"
)

func TestLoadgenBound(t *testing.T) {
	lag := func(p99 int64) map[string]Stats { return map[string]Stats{MetricLag: {Count: 1000, P99: p99}} }
	rtt := func(conns, rate string) map[string]string { return map[string]string{"conns": conns, "rate": rate} }
	tests := []struct {
		name string
		s    Summary
		want string // "" = not loadgen-bound
	}{
		{"rtt within 1ms", Summary{Workload: "rtt", Params: rtt("20", "2000"), Histograms: lag(900)}, ""},
		{"rtt lag over 1ms", Summary{Workload: "rtt", Params: rtt("20", "2000"), Histograms: lag(3200)},
			"lag p99 3.20ms > 1.00ms"},
		{"slow rate: 1ms still holds", Summary{Workload: "rtt", Params: rtt("10", "10"), Histograms: lag(1500)},
			"lag p99 1.50ms > 1.00ms"},
		{"fast rate: a tenth of the interval", Summary{Workload: "rtt", Params: rtt("10", "1600"), Histograms: lag(700)},
			"lag p99 700µs > 625µs (10% of the 6.25ms between a connection's messages)"},
		{"faster still: never below twice the timer slack", Summary{Workload: "rtt", Params: rtt("20", "10000"), Histograms: lag(600)},
			"lag p99 600µs > 500µs (2× the 250µs timer slack)"},
		{"within twice the timer slack", Summary{Workload: "rtt", Params: rtt("20", "10000"), Histograms: lag(450)}, ""},
		{"a larger timer slack asked for", Summary{Workload: "rtt", Params: map[string]string{"conns": "20", "rate": "2000", "timer_slack": "1ms"},
			Histograms: lag(1500)}, ""},
		{"ramp: its highest step sets the interval", Summary{Workload: "ramp", Params: rtt("20", "1000"), Histograms: lag(800),
			Ramp: &Ramp{Unit: "msgs/s", Steps: []RampStep{{Offered: 1000}, {Offered: 16000}}}},
			"lag p99 800µs > 500µs (2× the 250µs timer slack)"},
		{"throughput is closed loop: lag is no sign", Summary{Workload: "throughput", Params: rtt("10", "0"), Histograms: lag(5000)}, ""},
		{"a busy loop bounds any workload", Summary{Workload: "throughput", Self: &Self{LoopBusy: 0.95}},
			"busiest loop 95% busy > 90%"},
		{"loop busy 0 is not measured", Summary{Workload: "throughput", Self: &Self{}}, ""},
		{"loop busy at the bound", Summary{Workload: "hold", Self: &Self{LoopBusy: 0.9}}, ""},
		{"both signs", Summary{Workload: "rtt", Params: rtt("20", "2000"), Histograms: lag(3200), Self: &Self{LoopBusy: 0.99}},
			"lag p99 3.20ms > 1.00ms; busiest loop 99% busy > 90%"},
		{"no rate recorded: 1ms", Summary{Workload: "rtt", Histograms: lag(1100)}, "lag p99 1.10ms > 1.00ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bound, why := tt.s.LoadgenBound()
			if bound != (tt.want != "") || why != tt.want {
				t.Errorf("LoadgenBound() = %v, %q; want %v, %q", bound, why, tt.want != "", tt.want)
			}
		})
	}
}

// summary.json records the judgement, and a merge keeps the busiest
// worker's loop.
func TestLoadgenBoundWritten(t *testing.T) {
	run := sampleRun(t)
	run.Summary.Self = &Self{LoopBusy: 0.97}
	dir := t.TempDir()
	if err := run.Write(dir); err != nil {
		t.Fatal(err)
	}
	s, err := ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.ToolBound != "busiest loop 97% busy > 90%" {
		t.Errorf("summary.json loadgen_bound = %q", s.ToolBound)
	}
	other := sampleRun(t)
	other.Summary.Self = &Self{LoopBusy: 0.2}
	merged, err := Merge(other, run)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Summary.Self.LoopBusy != 0.97 {
		t.Errorf("merged loop busy = %v, want the busiest worker's 0.97", merged.Summary.Self.LoopBusy)
	}
}
