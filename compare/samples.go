package compare

import (
	"fmt"
	"slices"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wsbench/wsbench/results"
)

// Where a metric's samples came from.
const (
	FromRepetitions = "repetitions" // one value per repetition (wsbench run --count N)
	FromIntervals   = "intervals"   // one value per second (or per few seconds) of each run
	FromNone        = "none"        // no samples: judged on the threshold alone
)

// intervalStats computes stat over each interval of a run's interval log.
// Intervals shorter than minIntervalSec (the few milliseconds of a run's
// drain) are left out. A percentile needs minSampleValues in each sample,
// so when a typical interval holds fewer, runs of consecutive intervals are
// merged (exactly: HDR histograms add) until they do; groups that still
// fall short are left out.
func intervalStats(all []*hdrhistogram.PackedHistogram, stat string, q float64) ([]float64, string) {
	var ivs []*hdrhistogram.PackedHistogram
	for _, iv := range all {
		if float64(iv.EndTimeMs()-iv.StartTimeMs())/1e3 >= minIntervalSec {
			ivs = append(ivs, iv)
		}
	}
	if len(ivs) == 0 {
		return nil, fmt.Sprintf("no interval of %g s or more in the interval log", minIntervalSec)
	}
	need := minSampleValues(q)
	var counts []int64
	for _, iv := range ivs {
		if c := iv.TotalCount(); c > 0 {
			counts = append(counts, c)
		}
	}
	if len(counts) == 0 {
		return nil, "no values in the interval log"
	}
	slices.Sort(counts)
	typical := counts[len(counts)/2]
	group := int((need + typical - 1) / typical)
	first := ivs[0]
	h := hdrhistogram.New(first.LowestTrackableValue(), first.HighestTrackableValue(), int(first.SignificantFigures()))
	var out []float64
	for i := 0; i < len(ivs); i += group {
		h.Reset()
		for _, iv := range ivs[i:min(i+group, len(ivs))] {
			iv.MergeInto(h)
		}
		if h.TotalCount() < need {
			continue
		}
		out = append(out, histogramStat(h, stat, q))
	}
	if len(out) == 0 {
		return nil, fmt.Sprintf("no interval holds the %d values %s needs", need, stat)
	}
	return out, ""
}

func histogramStat(h *hdrhistogram.Histogram, stat string, q float64) float64 {
	switch stat {
	case "min":
		return float64(h.Min())
	case "mean":
		return h.Mean()
	case "max":
		return float64(h.Max())
	}
	return float64(h.ValueAtQuantile(q * 100))
}

// minIntervalSec is the shortest interval or time-series row used as a
// sample: the last of a run covers the few milliseconds of its drain and
// would read as a collapse in throughput, or a latency of its own.
const minIntervalSec = 0.5

// seriesRate turns a time-series column into per-second rates, one per row
// of at least minIntervalSec.
func seriesRate(get func(results.Interval) int64) func(*results.Run) ([]float64, string) {
	return func(r *results.Run) ([]float64, string) {
		var out []float64
		prev := 0.0
		for _, iv := range r.Series {
			if dt := iv.T - prev; dt >= minIntervalSec {
				out = append(out, float64(get(iv))/dt)
			}
			prev = iv.T
		}
		if len(out) == 0 {
			return nil, "no time series"
		}
		return out, ""
	}
}
