package compare

import "testing"

// BenchmarkGate times what `wsbench compare` does for one pair of
// one-minute rtt runs: read both trees (summaries, interval logs, time
// series), test every default metric, render Markdown.
func BenchmarkGate(b *testing.B) {
	dir := b.TempDir()
	synth{seconds: 60, perSec: 2000, sigma: 0.3, drift: 0.05, seed: 1}.write(b, dir, "base")
	synth{seconds: 60, perSec: 2000, sigma: 0.3, drift: 0.05, median: 460, seed: 2}.write(b, dir, "cur")
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		base, err := Load(dir + "/base")
		if err != nil {
			b.Fatal(err)
		}
		cur, err := Load(dir + "/cur")
		if err != nil {
			b.Fatal(err)
		}
		rep, err := Compare(base, cur, DefaultPolicy())
		if err != nil {
			b.Fatal(err)
		}
		if err := rep.WriteMarkdown(discard{}); err != nil {
			b.Fatal(err)
		}
		rows = len(rep.Rows)
	}
	b.ReportMetric(float64(rows), "rows")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
