package report

import (
	"io"
	"testing"

	"github.com/wsbench/wsbench/results"
)

// BenchmarkWriteHTML renders report.html of the fixture run (four
// workloads, 19 charts, percentile curves of 5,000-sample histograms);
// bytes/op is the page's size.
func BenchmarkWriteHTML(b *testing.B) {
	o, err := results.LoadOverview(writeReportFixture(b))
	if err != nil {
		b.Fatal(err)
	}
	var n countingWriter
	if err := WriteHTML(&n, o); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteHTML(io.Discard, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadOverview reads the fixture run directory: run.json, and
// every result's summary, interval logs and time series.
func BenchmarkLoadOverview(b *testing.B) {
	dir := writeReportFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := results.LoadOverview(dir); err != nil {
			b.Fatal(err)
		}
	}
}

type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
