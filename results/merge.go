package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// splitParams are the load parameters that are divided among workers when
// one load is spread over several load-generator processes: each worker
// gets a share of the connections, the message rate, the connect rate and
// the source addresses. Merge sums them; every other parameter must match.
var splitParams = []string{"conns", "rate", "connect_rate", "source_ips", "churn"}

// Merge combines the runs of several load-generator workers that together
// made one load, without losing a sample:
//
//   - the runs must share schema, tool version and commit, target, workload
//     and every parameter except the split ones (conns, rate, connect_rate,
//     source_ips, churn), which must be numbers and are summed;
//   - counters, failures, backends and hold outcomes are summed; rates are
//     summed (the workers ran side by side) over the longest window; start
//     is the earliest, end the latest; interrupted if any was;
//   - whole-run histograms are merged exactly; interval histograms are
//     merged per second of the merged run (an interval belongs to the second
//     in which it starts, counted from the earliest start), as are the rows
//     of the time series, whose p50/p99 are recomputed from the merged
//     intervals of the workload's PrimaryMetric, and whose resources (each
//     worker's own process) are summed;
//   - proxy samples are put on the merged run's time axis, in time order;
//   - survival curves are added point by point, each on its own time axis
//     (seconds after that worker's first connection opened);
//   - hello messages and notes are kept once each, in order.
//
// Merge first makes each run consistent as Write does, which may update the
// runs in place (interval tags, summary stats). Histograms of different
// ranges are an error if a value would not fit.
func Merge(runs ...*Run) (*Run, error) {
	return merge(runs, fmt.Sprintf("merged from %d load-generator runs", len(runs)))
}

// merge is Merge, noting how the runs were joined with note: Merge's
// workers ran side by side, Combine's repetitions one after another. The
// runs' own notes (e.g. that a repetition was merged from workers) are kept.
func merge(runs []*Run, note string) (*Run, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("results: merge: no runs to merge")
	}
	for i, r := range runs {
		if r == nil {
			return nil, fmt.Errorf("results: merge: run %d is nil", i+1)
		}
		if err := r.normalize(); err != nil {
			return nil, fmt.Errorf("results: merge: run %d: %w", i+1, err)
		}
	}
	if err := checkMergeable(runs); err != nil {
		return nil, fmt.Errorf("results: merge: %w", err)
	}
	out := &Run{Summary: mergeSummaries(runs, note)}
	var err error
	if out.Summary.Params, err = mergeParams(runs); err != nil {
		return nil, fmt.Errorf("results: merge: %w", err)
	}
	if out.Histograms, err = mergeWholes(runs); err != nil {
		return nil, fmt.Errorf("results: merge: %w", err)
	}
	startMs := out.Summary.Start.UnixMilli()
	if out.Intervals, err = mergeIntervalSlots(runs, startMs); err != nil {
		return nil, fmt.Errorf("results: merge: %w", err)
	}
	out.Series = mergeSeries(runs, startMs, out.Intervals[PrimaryMetric(out.Summary.Workload)])
	out.ProxySeries = mergeProxySeries(runs, startMs)
	out.Summary.Histograms = map[string]Stats{}
	for m, h := range out.Histograms {
		out.Summary.Histograms[m] = Summarize(h)
	}
	return out, nil
}

func checkMergeable(runs []*Run) error {
	a := &runs[0].Summary
	for i, r := range runs[1:] {
		b := &r.Summary
		n := i + 2
		switch {
		case b.Tool.Version != a.Tool.Version || b.Tool.Commit != a.Tool.Commit:
			return fmt.Errorf("run %d was made by wsbench %s (commit %s), run 1 by %s (commit %s); merge runs of one build",
				n, b.Tool.Version, b.Tool.Commit, a.Tool.Version, a.Tool.Commit)
		case b.Target != a.Target:
			return fmt.Errorf("run %d measured %q, run 1 %q; merge runs of one target", n, b.Target, a.Target)
		case b.Workload != a.Workload:
			return fmt.Errorf("run %d ran workload %q, run 1 %q; merge runs of one workload", n, b.Workload, a.Workload)
		}
		for _, k := range unionKeys(a.Params, b.Params) {
			if slices.Contains(splitParams, k) {
				continue
			}
			va, oka := a.Params[k]
			vb, okb := b.Params[k]
			if va != vb || oka != okb {
				return fmt.Errorf("run %d has %s=%q, run 1 %s=%q; only the split parameters (%s) may differ",
					n, k, vb, k, va, strings.Join(splitParams, ", "))
			}
		}
	}
	return nil
}

func mergeParams(runs []*Run) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range runs[0].Summary.Params {
		out[k] = v
	}
	for _, k := range splitParams {
		sum, seen := 0.0, false
		for i, r := range runs {
			v, ok := r.Summary.Params[k]
			if !ok {
				continue
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("run %d: split parameter %s=%q: want a number to sum", i+1, k, v)
			}
			sum, seen = sum+f, true
		}
		if seen {
			out[k] = strconv.FormatFloat(sum, 'f', -1, 64)
		}
	}
	return out, nil
}

// mergeSummaries combines everything in the summaries but the parameters
// and the stats, and adds note after the runs' notes.
func mergeSummaries(runs []*Run, note string) Summary {
	first := runs[0].Summary
	s := Summary{
		Schema: Schema, Tool: first.Tool, Host: first.Host,
		Target: first.Target, Workload: first.Workload,
		Start: first.Start, End: first.End,
		Failures: map[string]int64{},
	}
	var hosts, notes []string
	for _, r := range runs {
		in := &r.Summary
		s.AddTotals(in)
		addRates(&s.Rates, in.Rates)
		addCounts(&s.Backends, in.Backends)
		s.Hold = addHold(s.Hold, in.Hold)
		s.Hellos = appendNewHellos(s.Hellos, in.Hellos)
		s.Self = addSelf(s.Self, in.Self, 0, 0)
		notes = appendNew(notes, in.Notes...)
		hosts = appendNew(hosts, in.Host.Hostname)
	}
	if s.Hold != nil {
		var curves [][]SurvivalPoint
		for _, r := range runs {
			if r.Summary.Hold != nil {
				curves = append(curves, r.Summary.Hold.Survival)
			}
		}
		s.Hold.Survival = mergeSurvival(curves)
	}
	s.Notes = append(notes, note)
	if len(hosts) > 1 {
		s.Notes = append(s.Notes, "load generated on hosts "+strings.Join(hosts, ", ")+"; host facts are the first's")
	}
	return s
}

// AddTotals widens s's start and end to take in in's, and adds in's
// connection, message, byte and failure counts: what every way of pooling
// summaries (workers side by side, repetitions one after another) shares.
func (s *Summary) AddTotals(in *Summary) {
	if s.Start.IsZero() || in.Start.Before(s.Start) {
		s.Start = in.Start
	}
	if in.End.After(s.End) {
		s.End = in.End
	}
	s.Interrupted = s.Interrupted || in.Interrupted
	addConnections(&s.Connections, in.Connections)
	s.Messages.Sent += in.Messages.Sent
	s.Messages.Received += in.Messages.Received
	s.Bytes.Sent += in.Bytes.Sent
	s.Bytes.Received += in.Bytes.Received
	addCounts(&s.Failures, in.Failures)
	s.Negotiation = AddNegotiation(s.Negotiation, in.Negotiation)
}

// AddNegotiation adds n's counts to dst's and returns dst, a new one when
// dst is nil; a nil n adds nothing.
func AddNegotiation(dst, n *Negotiation) *Negotiation {
	if n == nil {
		return dst
	}
	if dst == nil {
		dst = &Negotiation{}
	}
	addCounts(&dst.Protocols, n.Protocols)
	addCounts(&dst.Extensions, n.Extensions)
	dst.ProtocolsSeen += n.ProtocolsSeen
	dst.DeflateSeen += n.DeflateSeen
	return dst
}

func addConnections(dst *Connections, c Connections) {
	dst.Attempted += c.Attempted
	dst.Opened += c.Opened
	dst.Failed += c.Failed
	dst.Dropped += c.Dropped
	dst.OpenAtEnd += c.OpenAtEnd
	dst.Reconnects += c.Reconnects
	dst.Churned += c.Churned
}

// addSelf sums the workers' own usage; per-message and per-connection
// figures are recomputed from the sums (each worker ran its own process),
// and the loop busy share is the largest.
func addSelf(dst, in *Self, msgs, open float64) *Self {
	if in == nil {
		return dst
	}
	if dst == nil {
		dst = &Self{}
	}
	dst.CPUUserSec += in.CPUUserSec
	dst.CPUSysSec += in.CPUSysSec
	dst.RSSBytes += in.RSSBytes
	// The busiest loop of all the workers: one saturated worker is enough
	// to hold the load back.
	dst.LoopBusy = max(dst.LoopBusy, in.LoopBusy)
	if in.CPUPerMsgUS > 0 {
		msgs = (in.CPUUserSec + in.CPUSysSec) * 1e6 / in.CPUPerMsgUS
	}
	if in.RSSPerConnBytes > 0 {
		open = float64(in.RSSBytes) / in.RSSPerConnBytes
	}
	dst.msgs += msgs
	dst.open += open
	if dst.msgs > 0 {
		dst.CPUPerMsgUS = (dst.CPUUserSec + dst.CPUSysSec) * 1e6 / dst.msgs
	}
	if dst.open > 0 {
		dst.RSSPerConnBytes = float64(dst.RSSBytes) / dst.open
	}
	return dst
}

func addRates(dst *Rates, r Rates) {
	dst.WindowSec = max(dst.WindowSec, r.WindowSec)
	dst.MsgsSentPerSec += r.MsgsSentPerSec
	dst.MsgsRecvPerSec += r.MsgsRecvPerSec
	dst.BytesSentPerSec += r.BytesSentPerSec
	dst.BytesRecvPerSec += r.BytesRecvPerSec
}

func addCounts(dst *map[string]int64, src map[string]int64) {
	for k, v := range src {
		if *dst == nil {
			*dst = map[string]int64{}
		}
		(*dst)[k] += v
	}
}

func addHold(dst, h *Hold) *Hold {
	if h == nil {
		return dst
	}
	if dst == nil {
		dst = &Hold{Outcomes: map[string]int64{}}
	}
	addCounts(&dst.Outcomes, h.Outcomes)
	return dst
}

func appendNew(dst []string, items ...string) []string {
	for _, s := range items {
		if s != "" && !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

func appendNewHellos(dst, items []json.RawMessage) []json.RawMessage {
	for _, h := range items {
		if !slices.ContainsFunc(dst, func(d json.RawMessage) bool { return bytes.Equal(d, h) }) {
			dst = append(dst, h)
		}
	}
	return dst
}

// mergeSurvival adds step functions: at each time any curve has a point,
// the total is the sum of every curve's last value at or before it.
func mergeSurvival(curves [][]SurvivalPoint) []SurvivalPoint {
	var times []float64
	for _, c := range curves {
		for _, p := range c {
			times = append(times, p.T)
		}
	}
	slices.Sort(times)
	times = slices.Compact(times)
	next := make([]int, len(curves))    // index of each curve's next unused point
	value := make([]int64, len(curves)) // each curve's value so far
	out := make([]SurvivalPoint, 0, len(times))
	for _, t := range times {
		var total int64
		for i, c := range curves {
			for next[i] < len(c) && c[next[i]].T <= t {
				value[i] = c[next[i]].Open
				next[i]++
			}
			total += value[i]
		}
		out = append(out, SurvivalPoint{T: t, Open: total})
	}
	return out
}

func mergeWholes(runs []*Run) (map[string]*hdrhistogram.Histogram, error) {
	out := map[string]*hdrhistogram.Histogram{}
	for i, r := range runs {
		for _, m := range slices.Sorted(maps.Keys(r.Histograms)) {
			h := r.Histograms[m]
			if out[m] == nil {
				out[m] = h.Clone()
				continue
			}
			if dropped := out[m].Merge(h); dropped != 0 {
				return nil, fmt.Errorf("run %d: metric %q: %d values outside the range of run 1's", i+1, m, dropped)
			}
		}
	}
	return out, nil
}

// slotOf is the second of the merged run, counted from startMs, that a time
// falls in. Times before the start belong to the first second.
func slotOf(ms, startMs int64) int64 {
	return max(0, (ms-startMs)/1000)
}

func mergeIntervalSlots(runs []*Run, startMs int64) (map[string][]*hdrhistogram.PackedHistogram, error) {
	out := map[string][]*hdrhistogram.PackedHistogram{}
	slots := map[string]map[int64]*hdrhistogram.PackedHistogram{}
	for i, r := range runs {
		for _, m := range slices.Sorted(maps.Keys(r.Intervals)) {
			if slots[m] == nil {
				slots[m] = map[int64]*hdrhistogram.PackedHistogram{}
			}
			for _, iv := range r.Intervals[m] {
				k := slotOf(iv.StartTimeMs(), startMs)
				dst := slots[m][k]
				if dst == nil {
					slots[m][k] = iv.Clone()
					continue
				}
				if dropped := dst.Merge(iv); dropped != 0 {
					return nil, fmt.Errorf("run %d: metric %q: %d values outside the range of the histogram they merge into", i+1, m, dropped)
				}
				dst.SetStartTimeMs(min(dst.StartTimeMs(), iv.StartTimeMs()))
				dst.SetEndTimeMs(max(dst.EndTimeMs(), iv.EndTimeMs()))
			}
		}
	}
	for m, bySlot := range slots {
		for _, k := range slices.Sorted(maps.Keys(bySlot)) {
			out[m] = append(out[m], bySlot[k])
		}
	}
	return out, nil
}

// mergeSeries adds the workers' rows second by second (a row belongs to the
// second of the merged run in which it starts) and takes p50/p99 from the
// merged primary-metric interval of that second.
func mergeSeries(runs []*Run, startMs int64, primary []*hdrhistogram.PackedHistogram) []Interval {
	type slot struct {
		row   Interval
		endMs int64
	}
	slots := map[int64]*slot{}
	for _, r := range runs {
		runStart, prevT := r.Summary.Start.UnixMilli(), 0.0
		for _, row := range r.Series {
			k := slotOf(runStart+int64(math.Round(prevT*1000)), startMs)
			s := slots[k]
			if s == nil {
				s = &slot{}
				slots[k] = s
			}
			s.endMs = max(s.endMs, runStart+int64(math.Round(row.T*1000)))
			s.row.Open += row.Open
			s.row.MsgsSent += row.MsgsSent
			s.row.MsgsRecv += row.MsgsRecv
			s.row.BytesSent += row.BytesSent
			s.row.BytesRecv += row.BytesRecv
			s.row.Errors += row.Errors
			s.row.Resources.add(row.Resources)
			prevT = row.T
		}
	}
	latency := map[int64]*hdrhistogram.PackedHistogram{}
	for _, h := range primary {
		latency[slotOf(h.StartTimeMs(), startMs)] = h
	}
	keys := slices.Sorted(maps.Keys(slots))
	out := make([]Interval, 0, len(keys))
	for _, k := range keys {
		s := slots[k]
		s.row.T = float64(max(0, s.endMs-startMs)) / 1000
		if h := latency[k]; h != nil && h.TotalCount() > 0 {
			s.row.P50, s.row.P99 = h.ValueAtPercentile(50), h.ValueAtPercentile(99)
		}
		out = append(out, s.row)
	}
	return out
}

func unionKeys(a, b map[string]string) []string {
	keys := slices.Sorted(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
