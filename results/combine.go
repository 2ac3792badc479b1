package results

import (
	"fmt"
	"maps"
)

// Combine joins repetitions of one measurement — the same load run one
// after another (`wsbench run --count N`) — into one run without losing a
// sample. Unlike Merge, whose workers ran side by side and split the load,
// every parameter must match; rates are averages over the repetitions'
// windows added end to end, not sums. Histograms, interval histograms (each
// at its own time), counters, failures and outcomes are merged as Merge
// does them.
func Combine(runs ...*Run) (*Run, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("results: combine: no runs")
	}
	for i, r := range runs[1:] {
		if r != nil && !maps.Equal(r.Summary.Params, runs[0].Summary.Params) {
			return nil, fmt.Errorf("results: combine: repetition %d ran with other parameters than repetition 1; combine repetitions of one load", i+2)
		}
	}
	out, err := merge(runs, fmt.Sprintf("combined from %d repetitions", len(runs)))
	if err != nil {
		return nil, fmt.Errorf("results: combine: %w", err)
	}
	out.Summary.Params = maps.Clone(runs[0].Summary.Params)
	var window float64
	var rss int64
	for _, r := range runs {
		window += r.Summary.Rates.WindowSec
		if r.Summary.Self != nil {
			rss = max(rss, r.Summary.Self.RSSBytes)
		}
	}
	s := &out.Summary
	s.SetRatesOver(window)
	if s.Self != nil && len(runs) > 1 {
		// The processes ran one after another: memory is the largest of
		// them, not a sum; CPU per message stays the sums' ratio.
		s.Self.RSSBytes = rss
		s.Self.RSSPerConnBytes = 0
	}
	return out, nil
}

// SetRatesOver sets s's rates to its message and byte counts divided by
// window, in seconds, and its rate window to window: the rates of runs
// pooled one after another, whose windows add up end to end. With a window
// of zero or less every rate is zero.
func (s *Summary) SetRatesOver(window float64) {
	s.Rates = Rates{WindowSec: window}
	if window > 0 {
		s.Rates.MsgsSentPerSec = float64(s.Messages.Sent) / window
		s.Rates.MsgsRecvPerSec = float64(s.Messages.Received) / window
		s.Rates.BytesSentPerSec = float64(s.Bytes.Sent) / window
		s.Rates.BytesRecvPerSec = float64(s.Bytes.Received) / window
	}
}
