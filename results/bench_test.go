package results

import (
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// benchRun is a ten-minute run: 600 one-second intervals for three metrics,
// 1,000 samples each, and a series row per second.
func benchRun(b *testing.B, start time.Time) *Run {
	r := &Run{Summary: sampleSummary(), Intervals: map[string][]*hdrhistogram.PackedHistogram{}}
	r.Summary.Start, r.Summary.End = start, start.Add(600*time.Second)
	base := start.UnixMilli()
	for _, m := range []string{MetricRTT, MetricService, MetricLag} {
		for s := range int64(600) {
			p := hdrhistogram.NewPacked(LowestUS, HighestUS, SigFigs)
			for i := range int64(1000) {
				p.RecordValue(200 + (i*7919+s*31)%3000)
			}
			p.SetStartTimeMs(base + s*1000)
			p.SetEndTimeMs(base + s*1000 + 1000)
			r.Intervals[m] = append(r.Intervals[m], p)
		}
	}
	for s := range 600 {
		r.Series = append(r.Series, Interval{T: float64(s + 1), Open: 50, MsgsSent: 1000, MsgsRecv: 1000, P50: 1700, P99: 3100})
	}
	return r
}

func BenchmarkRunWrite(b *testing.B) {
	r := benchRun(b, t0)
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Write(dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1800, "µs/interval")
}

func BenchmarkRead(b *testing.B) {
	dir := b.TempDir()
	if err := benchRun(b, t0).Write(dir); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1800, "µs/interval")
}

// BenchmarkMerge merges four workers' ten-minute runs.
func BenchmarkMerge(b *testing.B) {
	var runs []*Run
	for w := range 4 {
		runs = append(runs, benchRun(b, t0.Add(time.Duration(w)*100*time.Millisecond)))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Merge(runs...); err != nil {
			b.Fatal(err)
		}
	}
}
