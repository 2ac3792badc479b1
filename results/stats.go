package results

import (
	"fmt"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Summarize returns the stats of h (microseconds). A nil or empty histogram
// gives zero stats.
func Summarize(h *hdrhistogram.Histogram) Stats {
	if h == nil || h.TotalCount() == 0 {
		return Stats{}
	}
	return Stats{
		Count:  h.TotalCount(),
		Min:    h.Min(),
		Mean:   h.Mean(),
		StdDev: h.StdDev(),
		P50:    h.ValueAtQuantile(50),
		P90:    h.ValueAtQuantile(90),
		P99:    h.ValueAtQuantile(99),
		P999:   h.ValueAtQuantile(99.9),
		P9999:  h.ValueAtQuantile(99.99),
		Max:    h.Max(),
	}
}

// PrimaryMetric names the histogram whose per-second p50 and p99 fill the
// P50/P99 columns of a workload's timeseries.csv, as the load generator
// chooses it: service time for throughput (nothing is scheduled, so it is
// the latency), oneway for push, drop (time to drop) for hold, and rtt for
// rtt and anything else.
func PrimaryMetric(workload string) string {
	switch workload {
	case "throughput":
		return MetricService
	case "push":
		return MetricOneWay
	case "hold":
		return MetricDrop
	default:
		return MetricRTT
	}
}

// checkMetricName rejects metric names that cannot be a file name in a run
// directory or a tag in an interval log: only ASCII letters, digits, '_' and
// '-' are allowed, so a summary.json can never point a reader outside its
// directory.
func checkMetricName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("metric name %q: want 1 to 64 characters", name)
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("metric name %q: character %q not allowed (want letters, digits, '_' or '-')", name, c)
		}
	}
	return nil
}

// mergeIntervals returns a new dense histogram holding every value of the
// intervals, with the geometry of the first. It fails rather than drop a
// value that does not fit.
func mergeIntervals(ivs []*hdrhistogram.PackedHistogram) (*hdrhistogram.Histogram, error) {
	if len(ivs) == 0 {
		return nil, fmt.Errorf("no intervals to merge")
	}
	first := ivs[0]
	out := hdrhistogram.New(first.LowestTrackableValue(), first.HighestTrackableValue(), int(first.SignificantFigures()))
	for i, h := range ivs {
		if dropped := h.MergeInto(out); dropped != 0 {
			return nil, fmt.Errorf("interval %d: %d values outside the range %d…%d of the first",
				i+1, dropped, out.LowestTrackableValue(), out.HighestTrackableValue())
		}
	}
	return out, nil
}

// packedCopy returns h as a sparse histogram with the same geometry.
func packedCopy(h *hdrhistogram.Histogram) (*hdrhistogram.PackedHistogram, error) {
	p := hdrhistogram.NewPacked(h.LowestTrackableValue(), h.HighestTrackableValue(), int(h.SignificantFigures()))
	if dropped := p.MergeFrom(h); dropped != 0 {
		return nil, fmt.Errorf("%d values do not fit a sparse histogram of the same range", dropped)
	}
	return p, nil
}
