package report

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/chart/charttest"
	"github.com/wsbench/wsbench/results"
)

// soakRun is a hold of 1,000 connections for 40 s (connect in the first
// second, closing after): the load generator flat, the proxy's memory
// growing by grow per second, its descriptors flat.
func soakRun(grow int64) *results.Run {
	r := &results.Run{Summary: results.Summary{Schema: results.Schema, Workload: "hold", Target: "refproxy", Start: reportStart, End: reportStart.Add(42 * time.Second)}}
	for i := range 41 {
		open := int64(1000)
		if i == 0 {
			open = 400
		}
		r.Series = append(r.Series, results.Interval{T: float64(i + 1), Open: open,
			Resources: results.Resources{RSS: 30<<20 + int64(i%3)<<10, FDs: 1010, Goroutines: 9}})
		r.ProxySeries = append(r.ProxySeries, results.ResourceSample{T: float64(i) + 0.5,
			Resources: results.Resources{RSS: 20<<20 + grow*int64(i), FDs: 2003 + int64(i%2), Goroutines: 7}})
	}
	r.Series = append(r.Series, results.Interval{T: 41.2, Open: 0, Resources: results.Resources{RSS: 31 << 20, FDs: 12, Goroutines: 4}})
	return r
}

// A workload with resource series gets the resources table in both
// reports and a chart per resource in report.html.
func TestReportResources(t *testing.T) {
	root := t.TempDir()
	nginx := soakRun(0)
	nginx.Summary.Target = "nginx"
	for i := range nginx.ProxySeries {
		nginx.ProxySeries[i].FDs, nginx.ProxySeries[i].Goroutines = 0, 0
	}
	for name, r := range map[string]*results.Run{"refproxy": soakRun(256 << 10), "nginx": nginx} {
		if err := r.Write(filepath.Join(root, "soak", name, "churn")); err != nil {
			t.Fatal(err)
		}
	}
	o, err := results.LoadOverview(root)
	if err != nil {
		t.Fatal(err)
	}
	var md, page bytes.Buffer
	if err := WriteMarkdown(&md, o); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&page, o); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| resources | process | RSS | fds | goroutines |",
		"| refproxy | proxy | 20.5MiB → 30.0MiB (max 30.0MiB, ×1.21) | 2,003 → 2,003 (max 2,004, ×1.00) | 7 → 7 (max 7, ×1.00) |",
		"| nginx | proxy | 20.0MiB → 20.0MiB (max 20.0MiB, ×1.00) | – | – |",
		"| nginx | loadgen | 30.0MiB → 30.0MiB (max 30.0MiB, ×1.00) | 1,010 → 1,010 (max 1,010, ×1.00) | 9 → 9 (max 9, ×1.00) |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md.String())
		}
	}
	var res []string
	for _, s := range svgElement.FindAllString(page.String(), -1) {
		if strings.Contains(s, `data-chart="`+ChartResources+`"`) {
			res = append(res, s)
			if st := charttest.Parse(t, s); len(st.Legend) == 0 || st.Data == 0 {
				t.Errorf("resource chart %q draws %d series, legend %q", st.Title, st.Data, st.Legend)
			}
		}
	}
	if len(res) != 3 {
		t.Fatalf("%d resource charts, want RSS, descriptors and goroutines", len(res))
	}
	for _, want := range []string{"nginx · proxy", "refproxy · proxy", "refproxy · loadgen"} {
		if !strings.Contains(res[0], want) {
			t.Errorf("the memory chart has no line %q", want)
		}
	}
	if strings.Contains(res[1], "nginx · proxy") {
		t.Error("the descriptors chart shows nginx's proxy, which has no descriptor samples")
	}
}
