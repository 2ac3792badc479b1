package compare

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/wsbench/wsbench/metrics"
	"github.com/wsbench/wsbench/results"
)

// Direction says which way a metric improves, and so which kind of limit
// it takes: latencies and costs take a --max, throughput a --min.
type Direction = metrics.Direction

const (
	LowerIsBetter  = metrics.LowerIsBetter  // a rise is a regression (--max)
	HigherIsBetter = metrics.HigherIsBetter // a fall is a regression (--min)
)

// metric is one comparable figure of a result: a metric of the vocabulary
// (package metrics) that has a better direction, with what the gate needs
// besides its value.
type metric struct {
	name   string
	unit   string // µs, msgs/s, bytes/s, ratio, µs/msg, µs/handshake, bytes/conn
	better Direction
	// value computes the metric from a summary and the proxy's usage; a
	// non-empty reason says why it cannot (no such histogram, no proxy…).
	value func(s *results.Summary, u *results.Usage) (v float64, reason string)
	// sample is value for one repetition, where a percentile needs fewer
	// values (minSampleValues): nil means value.
	sample func(s *results.Summary, u *results.Usage) (v float64, reason string)
	// intervals gives per-second samples from a run's files, or nil when
	// the metric has none (whole-window figures such as proxy CPU).
	intervals func(r *results.Run) ([]float64, string)
	// quantile is the percentile a histogram statistic estimates (0.99
	// for p99), 0 for other metrics: it sets how many values it needs.
	quantile float64
}

// tooFew marks the reason of a metric that applies but has too few values
// (see absent).
const tooFew = "needs at least"

// lookupMetric returns the metric called name, or an error that says what
// names the gate compares.
func lookupMetric(name string) (metric, error) {
	m, err := metrics.Lookup(name)
	if err == nil && m.Better == metrics.Unordered {
		err = metrics.ErrUnknown
	}
	if err != nil {
		hist, _, _ := strings.Cut(name, ".")
		if errors.Is(err, metrics.ErrUnknown) || !slices.Contains(histogramNames(), hist) {
			return metric{}, fmt.Errorf("unknown metric %q: want <histogram>.<statistic> (histograms %s) or one of %s",
				name, strings.Join(histogramNames(), ", "), strings.Join(namedMetricNames(), ", "))
		}
		return metric{}, fmt.Errorf("unknown metric %q: statistic %q, want one of %s", name, strings.TrimPrefix(name, hist+"."), metrics.StatNames())
	}
	value := func(need int64) func(*results.Summary, *results.Usage) (float64, string) {
		return func(s *results.Summary, u *results.Usage) (float64, string) {
			v, why := m.Value(metrics.Facts{Summary: s, Proxy: u})
			if why != "" || m.Histogram == "" {
				return v, why
			}
			if n := s.Histograms[m.Histogram].Count; n < need {
				return 0, fmt.Sprintf("%d %s values; %s %s %d", n, m.Histogram, m.Stat, tooFew, need)
			}
			return v, ""
		}
	}
	g := metric{name: m.Name, unit: m.Label(), better: m.Better, quantile: m.Quantile, value: value(minValues(m.Quantile))}
	switch {
	case m.Histogram != "":
		g.sample = value(minSampleValues(m.Quantile))
		g.intervals = func(r *results.Run) ([]float64, string) {
			return intervalStats(r.Intervals[m.Histogram], m.Stat, m.Quantile)
		}
	case m.Interval != nil:
		g.intervals = seriesRate(m.Interval)
	}
	return g, nil
}

func histogramNames() []string {
	var names []string
	for _, h := range metrics.Histograms {
		names = append(names, h.Name)
	}
	return names
}

// namedMetricNames are the gated metrics that are not histogram statistics.
func namedMetricNames() []string {
	var names []string
	for _, m := range metrics.Fixed() {
		if m.Better != metrics.Unordered {
			names = append(names, m.Name)
		}
	}
	return names
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
