package report

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/wsbench/wsbench/internal/chart"
	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/units"
)

// Chart kinds, the data-chart attribute of each <svg> in report.html.
const (
	ChartLatency    = "latency"    // latency by percentile, one per metric
	ChartThroughput = "throughput" // messages received per second over time
	ChartP99        = "p99"        // p99 of the primary metric per second
	ChartSurvival   = "survival"   // hold: open connections over time
	ChartBalance    = "balance"    // connections per backend
	ChartRamp       = "ramp"       // ramp: p99 per offered step, with the SLO
)

// chartNines are the x ticks of a latency-by-percentile chart. The
// axis is log10(1/(1−p)), HdrHistogram's: each tick adds a nine.
var chartNines = []chart.Tick{
	{V: 0, Label: "0%"}, {V: 1, Label: "90%"}, {V: 2, Label: "99%"}, {V: 3, Label: "99.9%"}, {V: 4, Label: "99.99%"}, {V: 5, Label: "99.999%"},
}

// chartStepsPerNine is the number of points per nine on a latency curve.
const chartStepsPerNine = 40

// chartMetricMeaning says in a few words what each metric measures, for chart
// notes.
var chartMetricMeaning = map[string]string{
	results.MetricDNS:           "lookup of the target's name (once, or per connection with --resolve-each)",
	results.MetricConnect:       "dial start → TCP established",
	results.MetricHandshake:     "dial start → 101 parsed",
	results.MetricHandshakeFail: "dial start → failed handshake",
	results.MetricRTT:           "receive − intended send (coordinated-omission free)",
	results.MetricService:       "receive − actual send",
	results.MetricLag:           "actual − intended send (the load generator's lateness)",
	results.MetricOneWay:        "receive − server's send timestamp",
	results.MetricDrop:          "connection open → ended",
	results.MetricReconnect:     "handshakes of reopened connections (after a drop, or churn)",
}

// chartsOf returns every chart the workload has data for, in the
// order a report shows them.
func chartsOf(w *results.OverviewWorkload) []chart.Chart {
	var charts []chart.Chart
	for _, m := range chartMetrics(w) {
		charts = append(charts, latencyChart(w, m))
	}
	for _, build := range []func(*results.OverviewWorkload) (chart.Chart, bool){throughputChart, p99Chart, survivalChart, balanceChart, rampChart} {
		if c, ok := build(w); ok {
			charts = append(charts, c)
		}
	}
	return append(charts, resourceCharts(w)...)
}

// chartMetrics lists the metrics with data on any target: the primary
// metric first, then the report's usual order, then the rest by name.
func chartMetrics(w *results.OverviewWorkload) []string {
	seen := map[string]bool{}
	primary := ""
	for _, t := range w.Targets {
		if t.Run == nil {
			continue
		}
		if primary == "" {
			primary = results.PrimaryMetric(t.Run.Summary.Workload)
		}
		for m, st := range t.Run.Summary.Histograms {
			if st.Count > 0 {
				seen[m] = true
			}
		}
	}
	var out []string
	if seen[primary] {
		out = append(out, primary)
	}
	for _, m := range metricOrder {
		if seen[m] && m != primary {
			out = append(out, m)
		}
	}
	for _, m := range slices.Sorted(maps.Keys(seen)) {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// chartSeries returns one empty series per target, so a target keeps its
// colour on every chart even where it has no data.
func chartSeries(w *results.OverviewWorkload) []chart.Series {
	out := make([]chart.Series, len(w.Targets))
	for i, t := range w.Targets {
		out[i].Name = t.Target
	}
	return out
}

// chartMarkEmpty names the series without data as such in the legend.
func chartMarkEmpty(series []chart.Series) {
	for i := range series {
		if len(series[i].Points) == 0 {
			series[i].Name += " (no data)"
		}
	}
}

// latencyChart plots metric by percentile for every target, on the
// HdrHistogram percentile axis. A curve ends where its samples do: with n
// values, nothing is known past 1/(1−p) = n.
func latencyChart(w *results.OverviewWorkload, metric string) chart.Chart {
	series := chartSeries(w)
	var counts []string
	var ys []float64
	for i, t := range w.Targets {
		if t.Run == nil || t.Run.Histograms[metric] == nil {
			continue
		}
		h := t.Run.Histograms[metric]
		n := h.TotalCount()
		if n == 0 {
			continue
		}
		end := math.Min(5, math.Log10(float64(n)))
		steps := int(math.Ceil(end * chartStepsPerNine))
		for k := 0; k <= steps; k++ {
			x := math.Min(end, float64(k)/chartStepsPerNine)
			p := 100 * (1 - math.Pow(10, -x))
			v := float64(h.ValueAtQuantile(p)) / 1e3
			series[i].Points = append(series[i].Points, chart.Point{X: x, Y: v})
			ys = append(ys, v)
		}
		counts = append(counts, fmt.Sprintf("%s n=%s", t.Target, units.Thousands(n)))
	}
	chartMarkEmpty(series)
	y := chartLatencyAxis(ys, "latency (ms)")
	note := chartMetricMeaning[metric]
	if note != "" {
		note += "; "
	}
	note += strings.Join(counts, ", ")
	return chart.Chart{
		Kind:   ChartLatency,
		Title:  metric + " latency by percentile",
		Note:   note,
		X:      chart.Axis{Label: "percentile (log scale: each step adds a nine)", Min: 0, Max: 5, Ticks: chartNines},
		Y:      y,
		Series: series,
	}
}

// chartLatencyAxis is a linear millisecond axis, or a log one when the values
// span more than a factor of 50 (a tail that would flatten the body).
func chartLatencyAxis(ms []float64, label string) chart.Axis {
	a := chart.Axis{Label: label, Format: chartTickMs}
	lo, hi := math.Inf(1), 0.0
	for _, v := range ms {
		if v > 0 && chart.Finite(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi > 0 && hi/lo > 50 {
		a.Scale = chart.Log
		a.Label = strings.TrimSuffix(label, ")") + ", log scale)"
	}
	return a
}

// chartTickMs prints a millisecond tick: 0.05, 2.5, 1,200.
func chartTickMs(v float64) string {
	if v >= 1000 {
		return units.Thousands(int64(math.Round(v)))
	}
	return chart.Trim(v)
}

// chartMinInterval is the shortest interval whose rate a throughput chart
// shows: the tail row after the load phase may span milliseconds, and a
// rate over so little time is noise.
const chartMinInterval = 0.5

// throughputChart plots messages received per second, per target.
func throughputChart(w *results.OverviewWorkload) (chart.Chart, bool) {
	series := chartSeries(w)
	has := false
	for i, t := range w.Targets {
		if t.Run == nil {
			continue
		}
		prev := 0.0
		for _, iv := range t.Run.Series {
			dt := iv.T - prev
			prev = iv.T
			if dt < chartMinInterval {
				continue
			}
			series[i].Points = append(series[i].Points, chart.Point{X: iv.T, Y: float64(iv.MsgsRecv) / dt})
			has = has || iv.MsgsRecv > 0
		}
	}
	chartMarkEmpty(series)
	return chart.Chart{
		Kind:   ChartThroughput,
		Title:  "throughput over time",
		Note:   "data messages received per second, per 1 s interval (the short tail interval after the load phase is left out)",
		X:      chart.Axis{Label: "time since start (s)"},
		Y:      chart.Axis{Label: "messages received per second (msgs/s)"},
		Series: series,
	}, has
}

// p99Chart plots the primary metric's p99 in each second.
func p99Chart(w *results.OverviewWorkload) (chart.Chart, bool) {
	series := chartSeries(w)
	var ys []float64
	metric := ""
	for i, t := range w.Targets {
		if t.Run == nil {
			continue
		}
		if metric == "" {
			metric = results.PrimaryMetric(t.Run.Summary.Workload)
		}
		if metric == results.MetricDrop {
			// Time to drop is when a connection ended, not a latency
			// per second: the survival curve shows it.
			return chart.Chart{}, false
		}
		for _, iv := range t.Run.Series {
			if iv.P99 > 0 {
				v := float64(iv.P99) / 1e3
				series[i].Points = append(series[i].Points, chart.Point{X: iv.T, Y: v})
				ys = append(ys, v)
			}
		}
	}
	chartMarkEmpty(series)
	return chart.Chart{
		Kind:   ChartP99,
		Title:  metric + " p99 over time",
		Note:   "p99 of " + metric + " within each 1 s interval (seconds without samples are left out)",
		X:      chart.Axis{Label: "time since start (s)"},
		Y:      chartLatencyAxis(ys, metric+" p99 (ms)"),
		Series: series,
	}, len(ys) > 0
}

// survivalChart plots how many held connections stayed open over time.
func survivalChart(w *results.OverviewWorkload) (chart.Chart, bool) {
	series := chartSeries(w)
	has := false
	for i, t := range w.Targets {
		if t.Run == nil || t.Run.Summary.Hold == nil {
			continue
		}
		for _, p := range t.Run.Summary.Hold.Survival {
			series[i].Points = append(series[i].Points, chart.Point{X: p.T, Y: float64(p.Open)})
			has = true
		}
		series[i].Step = true
	}
	chartMarkEmpty(series)
	return chart.Chart{
		Kind:   ChartSurvival,
		Title:  "hold: connections still open",
		Note:   "survival curve: open connections after the first one opened",
		X:      chart.Axis{Label: "time since the first connection opened (s)"},
		Y:      chart.Axis{Label: "open connections"},
		Series: series,
	}, has
}

// balanceChart draws, per backend, the connections each target sent it.
func balanceChart(w *results.OverviewWorkload) (chart.Chart, bool) {
	names := map[string]bool{}
	spread := false // one backend per target says nothing about balance
	for _, t := range w.Targets {
		if t.Run != nil {
			for b := range t.Run.Summary.Backends {
				names[b] = true
			}
			spread = spread || len(t.Run.Summary.Backends) > 1
		}
	}
	if !spread {
		return chart.Chart{}, false
	}
	bars := &chart.Bars{Categories: slices.Sorted(maps.Keys(names))}
	series := chartSeries(w)
	var ratios []string
	for i, t := range w.Targets {
		vals, labels := make([]float64, len(bars.Categories)), make([]string, len(bars.Categories))
		var total int64
		var backends map[string]int64
		if t.Run != nil {
			backends = t.Run.Summary.Backends
		}
		for _, n := range backends {
			total += n
		}
		for k, b := range bars.Categories {
			n, ok := backends[b]
			if !ok {
				vals[k] = math.NaN()
				continue
			}
			vals[k] = float64(n)
			labels[k] = fmt.Sprintf("%.0f%%", 100*float64(n)/float64(max(total, 1)))
		}
		bars.Values = append(bars.Values, vals)
		bars.Labels = append(bars.Labels, labels)
		if len(backends) == 0 {
			series[i].Name += " (no data)"
		} else {
			ratios = append(ratios, fmt.Sprintf("%s %.2f", t.Target, repMaxMean(backends)))
		}
	}
	return chart.Chart{
		Kind:   ChartBalance,
		Title:  "balance: connections per backend",
		Note:   "max/mean over the backends each target reached (1.00 is even): " + strings.Join(ratios, ", "),
		X:      chart.Axis{Label: "backend (X-Wsbench-Backend); bar labels: share of the target's connections"},
		Y:      chart.Axis{Label: "connections"},
		Series: series,
		Bars:   bars,
	}, true
}

// repMaxMean is the busiest backend's count over the mean.
func repMaxMean(b map[string]int64) float64 {
	var total, most int64
	for _, n := range b {
		total += n
		most = max(most, n)
	}
	if total == 0 {
		return 0
	}
	return float64(most) / (float64(total) / float64(len(b)))
}

// rampChart plots p99 against the offered load of each ramp step, the SLO
// as a horizontal line and each target's highest step within it.
func rampChart(w *results.OverviewWorkload) (chart.Chart, bool) {
	series := chartSeries(w)
	var rules []chart.Rule
	var offered, ys []float64
	unit := ""
	slos := map[int64]bool{}
	for i, t := range w.Targets {
		if t.Run == nil || t.Run.Summary.Ramp == nil || len(t.Run.Summary.Ramp.Steps) == 0 {
			continue
		}
		r := t.Run.Summary.Ramp
		unit = cmp.Or(unit, r.Unit)
		series[i].Marks = true
		for _, s := range r.Steps {
			v := float64(s.P99) / 1e3
			series[i].Points = append(series[i].Points, chart.Point{X: s.Offered, Y: v, Bad: !s.OK})
			offered, ys = append(offered, s.Offered), append(ys, v)
		}
		if r.SLOUS > 0 && !slos[r.SLOUS] {
			slos[r.SLOUS] = true
			rules = append(rules, chart.Rule{V: float64(r.SLOUS) / 1e3, Label: "SLO: p99 ≤ " + units.Micros(float64(r.SLOUS)), Series: -1})
			ys = append(ys, float64(r.SLOUS)/1e3)
		}
		if r.MaxOK > 0 {
			rules = append(rules, chart.Rule{Vertical: true, V: r.MaxOK, Series: i,
				Label: fmt.Sprintf("%s: %s %s", t.Target, chart.Number(r.MaxOK), r.Unit)})
		}
	}
	if len(offered) == 0 {
		return chart.Chart{}, false
	}
	chartMarkEmpty(series)
	unit = cmp.Or(unit, "msgs/s")
	x := chart.Axis{Label: "offered load (" + unit + ")"}
	lo, hi := slices.Min(offered), slices.Max(offered)
	if lo > 0 && hi/lo >= 10 {
		x.Scale, x.Label = chart.Log, "offered load ("+unit+", log scale)"
	}
	return chart.Chart{
		Kind:   ChartRamp,
		Title:  "ramp: p99 per offered load",
		Note:   "filled: step within the SLO without errors; hollow: broke it; dashed: highest step within",
		X:      x,
		Y:      chartLatencyAxis(ys, "p99 (ms)"),
		Series: series,
		Rules:  rules,
	}, true
}

// chartTitles lists a workload's charts by title, for report.md, which
// has no pictures.
func chartTitles(charts []chart.Chart) string {
	names := make([]string, len(charts))
	for i, c := range charts {
		names[i] = c.Title
	}
	return strings.Join(names, "; ")
}
