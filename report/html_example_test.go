package report_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/wsbench/wsbench/report"
	"github.com/wsbench/wsbench/results"
)

// A report reads every result under a directory. Laid out as `wsbench
// run` lays them out (<scenario>/<target>/<workload>/), the targets of a
// workload end up side by side; report.html overlays them on each chart.
func ExampleWriteMarkdown() {
	root, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(root)
	dir := filepath.Join(root, "20260301T120000Z")
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, target := range []string{"direct", "nginx"} {
		h := results.NewHistogram()
		for us := int64(100); us < 1100; us++ {
			h.RecordValue(us + int64(i)*50) // nginx adds 50 µs
		}
		run := &results.Run{
			Summary: results.Summary{
				Target: target, Workload: "rtt", Params: map[string]string{"rate": "1000"},
				Start: start, End: start.Add(time.Second),
				Connections: results.Connections{Attempted: 10, Opened: 10, OpenAtEnd: 10},
				Host:        results.Host{Hostname: "ci", OS: "linux", Arch: "amd64", CPUModel: "cpu", Cores: 2, Kernel: "6.1"},
			},
			Histograms: map[string]*hdrhistogram.Histogram{results.MetricRTT: h},
		}
		if err := run.Write(filepath.Join(dir, "proxy-cost", target, "rtt")); err != nil {
			fmt.Println(err)
			return
		}
	}
	o, err := results.LoadOverview(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	var md strings.Builder
	report.WriteMarkdown(&md, o)
	_, body, _ := strings.Cut(md.String(), "## proxy-cost")
	fmt.Print("## proxy-cost" + body)
	// Output:
	// ## proxy-cost
	//
	// ### rtt
	//
	// rtt · rate=1000
	//
	// |   | direct | nginx |
	// |---|---:|---:|
	// | connections opened | 10 of 10 | 10 of 10 |
	// | rtt p50 | 599µs | 649µs |
	// | rtt p99 | 1.09ms | 1.14ms |
	// | rtt p99.9 | 1.10ms | 1.15ms |
	// | rtt max | 1.10ms | 1.15ms |
	//
	// Charts in report.html: rtt latency by percentile.
}
