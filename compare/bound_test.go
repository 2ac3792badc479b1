package compare

import (
	"path/filepath"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wsbench/wsbench/results"
)

// writeBound writes s under dir/rel, its load generator made
// loadgen-bound by how: "busy" (the busiest loop at 95 %) or "lag" (a
// schedule lag p99 of 3 ms, 5 conns at 500/s: the 1 ms bound).
func writeBound(t *testing.T, s synth, dir, rel, how string) {
	t.Helper()
	r := s.run()
	switch how {
	case "busy":
		r.Summary.Self = &results.Self{LoopBusy: 0.95}
	case "lag":
		h := results.NewHistogram()
		for i := range 1000 {
			h.RecordValue(int64(50 + i*3))
		}
		r.Histograms = map[string]*hdrhistogram.Histogram{results.MetricLag: h}
	}
	if err := r.Write(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
		t.Fatal(err)
	}
}

// A loadgen-bound side refuses a verdict on every load-phase metric,
// whatever the figures say, and says why; metrics of the connect phase
// are still judged.
func TestLoadgenBoundRows(t *testing.T) {
	policy := onlyRules(Rule{"rtt.p50", 0.10}, Rule{"throughput.msgs_per_s", -0.05}, Rule{"handshake.success_ratio", -0.01})
	for _, tc := range []struct {
		name    string
		write   func(t *testing.T, dir string)
		wouldBe string // rtt.p50's verdict from the figures
		why     string
	}{
		{"current loop busy, same figures", func(t *testing.T, dir string) {
			synth{seed: 1, sigma: 0.3, drift: 0.03}.write(t, dir, "base/rtt")
			writeBound(t, synth{seed: 2, sigma: 0.3, drift: 0.03}, dir, "cur/rtt", "busy")
		}, Pass, "current busiest loop 95% busy > 90%"},
		{"baseline lag, current 20% slower", func(t *testing.T, dir string) {
			writeBound(t, synth{seed: 1, sigma: 0.3, drift: 0.03}, dir, "base/rtt", "lag")
			synth{seed: 2, median: 480, sigma: 0.3, drift: 0.03}.write(t, dir, "cur/rtt")
		}, Regression, "baseline lag p99 3.02ms > 1.00ms"},
		{"one repetition of the baseline", func(t *testing.T, dir string) {
			for i, seed := range []uint64{1, 2, 3} {
				rep := "/rep-" + itoa(i+1)
				if i == 1 {
					writeBound(t, synth{seed: seed, sigma: 0.3, drift: 0.03}, dir, "base/rtt"+rep, "busy")
				} else {
					synth{seed: seed, sigma: 0.3, drift: 0.03}.write(t, dir, "base/rtt"+rep)
				}
				synth{seed: seed + 10, sigma: 0.3, drift: 0.03}.write(t, dir, "cur/rtt"+rep)
			}
		}, Pass, "baseline repetition 2 busiest loop 95% busy > 90%"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.write(t, dir)
			rep := compareDirs(t, dir+"/base", dir+"/cur", policy)
			for _, m := range []string{"rtt.p50", "throughput.msgs_per_s"} {
				row := findRow(t, rep, "rtt", m)
				if row.Verdict != LoadgenBound || !strings.Contains(row.Note, tc.why) || !strings.Contains(row.Note, "not judged") {
					t.Errorf("%s: verdict %s, note %q; want %s saying %q", m, row.Verdict, row.Note, LoadgenBound, tc.why)
				}
			}
			if row := findRow(t, rep, "rtt", "rtt.p50"); row.WouldBe != tc.wouldBe {
				t.Errorf("rtt.p50 would be %q, want %q", row.WouldBe, tc.wouldBe)
			}
			if row := findRow(t, rep, "rtt", "handshake.success_ratio"); row.Verdict != Pass {
				t.Errorf("handshake.success_ratio (connect phase) = %s, want it judged: pass", row.Verdict)
			}
			if rep.Regressions != 0 || rep.LoadgenBound != 2 || rep.Passed {
				t.Errorf("regressions %d, loadgen-bound %d, passed %v; want 0, 2, false", rep.Regressions, rep.LoadgenBound, rep.Passed)
			}
		})
	}
}
