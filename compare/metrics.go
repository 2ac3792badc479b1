package compare

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/wsbench/wsbench/results"
)

// Usage is what a proxy under test spent over the measurement window, as
// run.json records it (absent for direct targets).
type Usage struct {
	CPU          time.Duration // user + system CPU time
	MemoryGrowth int64         // bytes: memory at the end of the window minus at its start
}

// Direction says which way a metric improves, and so which kind of limit
// it takes: latencies and costs take a --max, throughput a --min.
type Direction int

const (
	LowerIsBetter  Direction = iota // a rise is a regression (--max)
	HigherIsBetter                  // a fall is a regression (--min)
)

// metric is one comparable figure of a result.
type metric struct {
	name   string
	unit   string // µs, msgs/s, bytes/s, ratio, µs/msg, µs/handshake, bytes/conn
	better Direction
	// value computes the metric from a summary and the proxy's usage; a
	// non-empty reason says why it cannot (no such histogram, no proxy…).
	value func(s *results.Summary, u *Usage) (v float64, reason string)
	// sample is value for one repetition, where a percentile needs fewer
	// values (minSampleValues): nil means value.
	sample func(s *results.Summary, u *Usage) (v float64, reason string)
	// intervals gives per-second samples from a run's files, or nil when
	// the metric has none (whole-window figures such as proxy CPU).
	intervals func(r *results.Run) ([]float64, string)
	// quantile is the percentile a histogram statistic estimates (0.99
	// for p99), 0 for other metrics: it sets how many values it needs.
	quantile float64
}

// histogramNames are the histograms a result may hold, as results names
// them: every "<histogram>.<statistic>" is a metric.
var histogramNames = []string{
	results.MetricConnect, results.MetricHandshake, results.MetricHandshakeFail, results.MetricRTT,
	results.MetricService, results.MetricLag, results.MetricOneWay, results.MetricDrop, results.MetricReconnect,
}

// histogramStats are the statistics of a histogram metric, by suffix; q is
// the percentile as a fraction (0 for min, mean and max).
var histogramStats = []struct {
	name string
	q    float64
	get  func(results.Stats) float64
}{
	{"min", 0, func(s results.Stats) float64 { return float64(s.Min) }},
	{"mean", 0, func(s results.Stats) float64 { return s.Mean }},
	{"p50", 0.50, func(s results.Stats) float64 { return float64(s.P50) }},
	{"p90", 0.90, func(s results.Stats) float64 { return float64(s.P90) }},
	{"p99", 0.99, func(s results.Stats) float64 { return float64(s.P99) }},
	{"p999", 0.999, func(s results.Stats) float64 { return float64(s.P999) }},
	{"p9999", 0.9999, func(s results.Stats) float64 { return float64(s.P9999) }},
	{"max", 0, func(s results.Stats) float64 { return float64(s.Max) }},
}

// namedMetrics are the metrics that are not histogram statistics. Their
// names match the ones scenario expectations use.
var namedMetrics = []metric{
	{name: "throughput.msgs_per_s", unit: "msgs/s", better: HigherIsBetter,
		value:     rate(func(r results.Rates) float64 { return r.MsgsRecvPerSec }),
		intervals: seriesRate(func(iv results.Interval) int64 { return iv.MsgsRecv })},
	{name: "throughput.bytes_per_s", unit: "bytes/s", better: HigherIsBetter,
		value:     rate(func(r results.Rates) float64 { return r.BytesRecvPerSec }),
		intervals: seriesRate(func(iv results.Interval) int64 { return iv.BytesRecv })},
	{name: "handshake.success_ratio", unit: "ratio", better: HigherIsBetter,
		value: func(s *results.Summary, _ *Usage) (float64, string) {
			if s.Connections.Attempted == 0 {
				return 0, "no connection was attempted"
			}
			return float64(s.Connections.Opened) / float64(s.Connections.Attempted), ""
		}},
	// CPU per message only where messages are the work (not hold), and per
	// handshake only where connections are (hold): in a throughput run the
	// CPU "per handshake" is the relaying divided by a fixed number of
	// connections, and moves with throughput.
	{name: "proxy.cpu_us_per_msg", unit: "µs/msg", better: LowerIsBetter,
		value: proxyPer(func(s *results.Summary) (int64, string) {
			if s.Workload == "hold" {
				return 0, "a hold run: its CPU goes to connections, see proxy.cpu_us_per_handshake"
			}
			return s.Messages.Sent + s.Messages.Received, "no data message was sent or received"
		})},
	{name: "proxy.cpu_us_per_handshake", unit: "µs/handshake", better: LowerIsBetter,
		value: proxyPer(func(s *results.Summary) (int64, string) {
			if s.Workload != "hold" {
				return 0, "a " + s.Workload + " run: its CPU goes to messages, see proxy.cpu_us_per_msg"
			}
			return s.Connections.Attempted, "no connection was attempted"
		})},
	{name: "proxy.mem_per_conn", unit: "bytes/conn", better: LowerIsBetter,
		value: func(s *results.Summary, u *Usage) (float64, string) {
			if u == nil {
				return 0, noProxy
			}
			if s.Connections.Opened == 0 {
				return 0, "no connection opened"
			}
			return float64(u.MemoryGrowth) / float64(s.Connections.Opened), ""
		}},
}

// tooFew marks the reason of a metric that applies but has too few values
// (see absent).
const tooFew = "needs at least"

const noProxy = "no proxy usage recorded (a direct target, or not a wsbench run directory)"

// lookupMetric returns the metric called name, or an error that says what
// names exist.
func lookupMetric(name string) (metric, error) {
	for _, m := range namedMetrics {
		if m.name == name {
			return m, nil
		}
	}
	hist, stat, ok := strings.Cut(name, ".")
	if !ok || !slices.Contains(histogramNames, hist) {
		return metric{}, fmt.Errorf("unknown metric %q: want <histogram>.<statistic> (histograms %s) or one of %s",
			name, strings.Join(histogramNames, ", "), strings.Join(namedMetricNames(), ", "))
	}
	for _, st := range histogramStats {
		if st.name == stat {
			return histogramMetric(hist, st.name, st.q, st.get), nil
		}
	}
	var stats []string
	for _, st := range histogramStats {
		stats = append(stats, st.name)
	}
	return metric{}, fmt.Errorf("unknown metric %q: statistic %q, want one of %s", name, stat, strings.Join(stats, ", "))
}

func namedMetricNames() []string {
	var names []string
	for _, m := range namedMetrics {
		names = append(names, m.name)
	}
	return names
}

func histogramMetric(hist, stat string, q float64, get func(results.Stats) float64) metric {
	value := func(need int64) func(*results.Summary, *Usage) (float64, string) {
		return func(s *results.Summary, _ *Usage) (float64, string) {
			st, ok := s.Histograms[hist]
			if !ok || st.Count == 0 {
				return 0, "no " + hist + " values"
			}
			if st.Count < need {
				return 0, fmt.Sprintf("%d %s values; %s %s %d", st.Count, hist, stat, tooFew, need)
			}
			return get(st), ""
		}
	}
	return metric{
		name: hist + "." + stat, unit: "µs", better: LowerIsBetter, quantile: q,
		value:     value(minValues(q)),
		sample:    value(minSampleValues(q)),
		intervals: func(r *results.Run) ([]float64, string) { return intervalStats(r.Intervals[hist], stat, q) },
	}
}

// minValues is how many values a whole-run percentile needs to be worth
// gating on: ten beyond it (p99: 1,000; p50: 20), so that it is not just
// the largest few values. Min, mean and max need one.
func minValues(q float64) int64 {
	if q == 0 {
		return 1
	}
	return int64(math.Ceil(10/(1-q) - 1e-9))
}

// minSampleValues is how many values one per-interval sample of a
// percentile needs: one beyond it (p99: 100). Fewer, and consecutive
// intervals are merged until they have that many.
func minSampleValues(q float64) int64 {
	if q == 0 {
		return 1
	}
	return int64(math.Ceil(1/(1-q) - 1e-9))
}

func rate(get func(results.Rates) float64) func(*results.Summary, *Usage) (float64, string) {
	return func(s *results.Summary, _ *Usage) (float64, string) {
		if s.Rates.WindowSec <= 0 {
			return 0, "no measurement window"
		}
		return get(s.Rates), ""
	}
}

// proxyPer divides the proxy's CPU by the events the workload spends it
// on; events returns 0 and why when there are none to divide by.
func proxyPer(events func(*results.Summary) (int64, string)) func(*results.Summary, *Usage) (float64, string) {
	return func(s *results.Summary, u *Usage) (float64, string) {
		if u == nil {
			return 0, noProxy
		}
		n, none := events(s)
		if n == 0 {
			return 0, none
		}
		return float64(u.CPU) / 1e3 / float64(n), ""
	}
}
