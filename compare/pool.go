package compare

import (
	"fmt"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wsbench/wsbench/results"
)

// pool merges a result's repetitions when no merged summary was written
// (e.g. `make bench` run once per rep-<i> directory): histograms are
// merged exactly from the repetitions' interval logs, counts are added,
// rates are the totals over the summed windows, and the proxy's usage is
// added up (so CPU per message stays total CPU over total messages). The
// repetitions must share their load parameters.
func pool(r *Result) (*results.Summary, *results.Usage, error) {
	first := r.Reps[0].Summary
	for _, rep := range r.Reps[1:] {
		if k, a, b, differ := paramDiff(first.Params, rep.Summary.Params); differ {
			return nil, nil, fmt.Errorf("compare: %s: repetitions %d and %d ran different loads: parameter %q is %s and %s",
				r.Key, r.Reps[0].N, rep.N, k, a, b)
		}
	}
	out := *first
	out.Connections, out.Messages, out.Bytes = results.Connections{}, results.Traffic{}, results.Traffic{}
	out.Failures, out.Histograms = map[string]int64{}, map[string]results.Stats{}
	out.Hold, out.Ramp, out.Self, out.Notes = nil, nil, nil, nil
	hists := map[string]*hdrhistogram.Histogram{}
	usage := &results.Usage{}
	var window float64
	for _, rep := range r.Reps {
		s := rep.Summary
		out.AddTotals(s)
		window += s.Rates.WindowSec
		if usage != nil && rep.Usage != nil {
			usage.CPU += rep.Usage.CPU
			usage.MemoryGrowth += rep.Usage.MemoryGrowth
		} else {
			usage = nil // a repetition without usage: no pooled figure
		}
		if len(s.Histograms) == 0 {
			continue
		}
		run, err := results.Read(rep.Dir)
		if err != nil {
			return nil, nil, err
		}
		r.keepRun(rep.Dir, run)
		for m, h := range run.Histograms {
			if hists[m] == nil {
				hists[m] = results.NewHistogram()
			}
			if dropped := hists[m].Merge(h); dropped != 0 {
				return nil, nil, fmt.Errorf("compare: %s: repetition %d: %d %s values outside the histogram range", r.Key, rep.N, dropped, m)
			}
		}
	}
	out.SetRatesOver(window)
	for m, h := range hists {
		out.Histograms[m] = results.Summarize(h)
	}
	// The first repetition's judgement is not the pool's; Compare looks
	// at every repetition's too.
	_, out.ToolBound = out.LoadgenBound()
	return &out, usage, nil
}
