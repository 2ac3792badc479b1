package report

import (
	"fmt"
	"io"

	"github.com/wsbench/wsbench/internal/chart"
	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/units"
)

// ChartResources is the data-chart kind of the resource charts: one per
// resource (RSS, descriptors, goroutines), a line per target and process.
const ChartResources = "resources"

// resourceCharts plots, for each resource any target measured, how the
// proxy's and the load generator's moved over the run: flat lines are
// what a soak run wants to see.
func resourceCharts(w *results.OverviewWorkload) []chart.Chart {
	titles := map[string]struct{ title, y string }{
		results.ResourceRSS:        {"resident memory over time", "resident memory (MiB)"},
		results.ResourceFDs:        {"open file descriptors over time", "open descriptors"},
		results.ResourceGoroutines: {"goroutines over time", "goroutines"},
	}
	var charts []chart.Chart
	for k, res := range results.ResourceNames {
		var series []chart.Series
		for _, t := range w.Targets {
			if t.Run == nil {
				continue
			}
			proxy := chart.Series{Name: t.Target + " · " + results.ProcessProxy}
			for _, s := range t.Run.ProxySeries {
				if v := s.Resources.Values()[k]; v > 0 {
					proxy.Points = append(proxy.Points, chart.Point{X: s.T, Y: resourceY(res, v)})
				}
			}
			lg := chart.Series{Name: t.Target + " · " + results.ProcessLoadgen}
			for _, row := range t.Run.Series {
				if v := row.Resources.Values()[k]; v > 0 {
					lg.Points = append(lg.Points, chart.Point{X: row.T, Y: resourceY(res, v)})
				}
			}
			for _, s := range []chart.Series{proxy, lg} {
				if len(s.Points) > 0 {
					series = append(series, s)
				}
			}
		}
		if len(series) == 0 {
			continue
		}
		charts = append(charts, chart.Chart{
			Kind:   ChartResources,
			Title:  titles[res].title,
			Note:   "sampled once a second: the proxy by its admin endpoint (nginx: its memory only), the load generator by itself (its workers summed)",
			X:      chart.Axis{Label: "time since start (s)"},
			Y:      chart.Axis{Label: titles[res].y},
			Series: series,
		})
	}
	return charts
}

func resourceY(res string, v int64) float64 {
	if res == results.ResourceRSS {
		return float64(v) / (1 << 20)
	}
	return float64(v)
}

// repResourcesTable sums up every resource series of a workload: first,
// last and largest value, and the growth over the steady window; a
// growth of 1.00 is flat. No rows when nothing was measured.
func repResourcesTable(w *results.OverviewWorkload) reportTable {
	t := reportTable{head: []string{"resources", "process", "RSS", "fds", "goroutines"}}
	for _, tg := range w.Targets {
		if tg.Run == nil {
			continue
		}
		cells := map[string][]reportCell{}
		var order []string
		for _, tr := range results.ResourceTrends(tg.Run.Series, tg.Run.ProxySeries) {
			if cells[tr.Process] == nil {
				order = append(order, tr.Process)
				cells[tr.Process] = make([]reportCell, len(results.ResourceNames))
				for i := range cells[tr.Process] {
					cells[tr.Process][i] = reportCell{text: "–", tone: repToneMuted}
				}
			}
			for i, r := range results.ResourceNames {
				if r == tr.Resource {
					cells[tr.Process][i] = resourceCell(tr)
				}
			}
		}
		for _, p := range order {
			t.rows = append(t.rows, append([]reportCell{{text: tg.Target}, {text: p}}, cells[p]...))
		}
	}
	return t
}

// resourceCell reads "10.2MiB → 10.3MiB (max 10.9MiB, ×1.01)".
func resourceCell(tr results.ResourceTrend) reportCell {
	f := func(v int64) string {
		if tr.Resource == results.ResourceRSS {
			return units.Bytes(float64(v))
		}
		return units.Thousands(v)
	}
	growth := "growth n/a"
	if tr.Growth > 0 {
		growth = fmt.Sprintf("×%.2f", tr.Growth)
	}
	return reportCell{text: fmt.Sprintf("%s → %s (max %s, %s)", f(tr.First), f(tr.Last), f(tr.Max), growth)}
}

// resourceNote explains the resources table under it.
const resourceNote = "first → last sample while the connections were held (≥ 90 % of the most open), the largest, and the growth: median of the last quarter of those samples over the median of the second quarter (1.00 = flat)"

// mdResources writes the resources table of a workload, if it has one.
func mdResources(w io.Writer, wl *results.OverviewWorkload) {
	if rt := repResourcesTable(wl); len(rt.rows) > 0 {
		fmt.Fprintf(w, "\n")
		mdTable(w, rt, false)
		fmt.Fprintf(w, "\n%s\n", mdEscape(resourceNote))
	}
}
