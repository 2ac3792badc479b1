package loadgen

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wsbench/wsbench/internal/selfusage"
	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/units"
)

// aggregator merges the recorders' seconds, in order, into whole-run
// histograms, interval histograms and the time series, and prints progress.
// It is the only goroutine that touches those.
type aggregator struct {
	in    chan *interval
	free  chan *interval
	n     int
	base  time.Time
	clk   clock
	prim  metric // the workload's primary latency metric, for the series
	prog  *progress
	total [numMetrics]*hdrhistogram.Histogram

	mu   sync.Mutex // guards what the ramp controller reads (ivs, ivIdx, series) and grid
	grid grid       // where intervals start; series times count from grid.origin
	ivs  [numMetrics][]*hdrhistogram.PackedHistogram
	// ivIdx is the interval each of ivs[m] covers: the second, when the
	// grid has no origin (ramp runs).
	ivIdx [numMetrics][]int64
	// series has one row per interval, in order; with a warm-up only those
	// of the measurement window.
	series []results.Interval

	pending  map[int64]*interval // merged so far, by second
	got      map[int64]int       // recorders that delivered that second
	finalAt  []int64             // per recorder: its last second, -1 while running
	finals   int
	nextEmit int64
	done     chan struct{}
}

func newAggregator(n int, clk clock, prim metric, prog *progress) *aggregator {
	a := &aggregator{
		in: make(chan *interval, 8*n), free: make(chan *interval, 8*n),
		n: n, base: clk.base, clk: clk, prim: prim, prog: prog,
		pending: map[int64]*interval{}, got: map[int64]int{},
		finalAt: make([]int64, n), done: make(chan struct{}),
	}
	for i := range a.finalAt {
		a.finalAt[i] = -1
	}
	return a
}

func (a *aggregator) run() {
	defer close(a.done)
	for a.finals < a.n {
		iv := <-a.in
		a.merge(iv)
		if iv.final {
			a.finalAt[iv.rec] = iv.idx
			a.finals++
		}
		a.recycle(iv)
		for a.complete(a.nextEmit) {
			a.emit(a.nextEmit)
			a.nextEmit++
		}
	}
	for idx := a.nextEmit; len(a.pending) > 0; idx++ {
		if _, ok := a.pending[idx]; ok {
			a.emit(idx)
		}
	}
}

func (a *aggregator) recycle(iv *interval) {
	select {
	case a.free <- iv:
	default:
	}
}

func (a *aggregator) merge(iv *interval) {
	m, ok := a.pending[iv.idx]
	if !ok {
		m = newInterval()
		m.idx = iv.idx
		a.pending[iv.idx] = m
	}
	for i, h := range iv.hist {
		if h != nil && h.TotalCount() > 0 {
			m.histogram(metric(i)).Merge(h)
		}
	}
	m.sent += iv.sent
	m.recv += iv.recv
	m.bsent += iv.bsent
	m.brecv += iv.brecv
	m.errors += iv.errors
	m.open += iv.open
	m.final = m.final || iv.final
	a.got[iv.idx]++
}

// complete reports whether every recorder still running at second idx has
// delivered it.
func (a *aggregator) complete(idx int64) bool {
	if _, ok := a.pending[idx]; !ok {
		return false
	}
	want := 0
	for _, f := range a.finalAt {
		if f < 0 || f >= idx {
			want++
		}
	}
	return a.got[idx] >= want
}

// setGrid sets the interval boundaries, before any interval past the
// grid's origin can have been handed over.
func (a *aggregator) setGrid(g grid) {
	a.mu.Lock()
	a.grid = g
	a.mu.Unlock()
}

func (a *aggregator) emit(idx int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.pending[idx]
	delete(a.pending, idx)
	delete(a.got, idx)
	start := a.base.Add(time.Duration(a.grid.start(idx)))
	end := a.base.Add(time.Duration(a.grid.start(idx + 1)))
	if now := a.base.Add(time.Duration(a.clk.now())); m.final && now.Before(end) {
		end = now
	}
	for i, h := range m.hist {
		if h == nil || h.TotalCount() == 0 {
			continue
		}
		if a.total[i] == nil {
			a.total[i] = results.NewHistogram()
		}
		a.total[i].Merge(h)
		p := hdrhistogram.NewPacked(results.LowestUS, results.HighestUS, results.SigFigs)
		p.MergeFrom(h)
		p.SetStartTimeMs(start.UnixMilli())
		p.SetEndTimeMs(end.UnixMilli())
		p.SetTag(metricNames[i])
		a.ivs[i] = append(a.ivs[i], p)
		a.ivIdx[i] = append(a.ivIdx[i], idx)
	}
	origin := a.base.Add(time.Duration(a.grid.origin))
	row := results.Interval{
		T: end.Sub(origin).Seconds(), Open: m.open,
		MsgsSent: m.sent, MsgsRecv: m.recv, BytesSent: m.bsent, BytesRecv: m.brecv,
		Errors: m.errors,
	}
	if h := m.hist[a.prim]; h != nil && h.TotalCount() > 0 {
		row.P50, row.P99 = h.ValueAtPercentile(50), h.ValueAtPercentile(99)
	}
	// The process's own memory, descriptors and goroutines, once a
	// second off the event loops: what a soak run watches for growth.
	u := selfusage.Read()
	row.Resources = results.Resources{RSS: u.RSSBytes, FDs: u.FDs, Goroutines: u.Goroutines}
	// The connect phase and the warm-up before a measurement window stay
	// out of the series (their handshakes are in the interval logs); the
	// progress line shows them at negative times.
	if a.grid.origin == 0 || end.After(origin) {
		a.series = append(a.series, row)
	}
	a.prog.line(row, metricNames[a.prim], end.Sub(start).Seconds())
}

// span summarises seconds [from, to) of metric m once they have all been
// emitted: the merged histogram, messages received and errors. ok is false
// while a second is still missing.
func (a *aggregator) span(m metric, from, to int64) (h *hdrhistogram.Histogram, recv, errs int64, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if int64(len(a.series)) < to {
		return nil, 0, 0, false
	}
	h = results.NewHistogram()
	for i, idx := range a.ivIdx[m] {
		if idx >= from && idx < to {
			a.ivs[m][i].MergeInto(h)
		}
	}
	for _, row := range a.series[from:to] {
		recv += row.MsgsRecv
		errs += row.Errors
	}
	return h, recv, errs, true
}

// progress prints one line a second: in place on a terminal, as plain
// lines otherwise (logs, CI).
type progress struct {
	w     io.Writer
	tty   bool
	conns int
	wrote bool
}

func (p *progress) line(r results.Interval, prim string, secs float64) {
	if p == nil || p.w == nil {
		return
	}
	if secs <= 0 {
		secs = 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%6.1fs  open %d/%d  sent %s/s  recv %s/s", r.T, r.Open, p.conns,
		units.Scaled(float64(r.MsgsSent)/secs), units.Scaled(float64(r.MsgsRecv)/secs))
	if r.P99 > 0 {
		fmt.Fprintf(&b, "  %s p50 %s p99 %s", prim, units.Micros(float64(r.P50)), units.Micros(float64(r.P99)))
	}
	fmt.Fprintf(&b, "  errors %d", r.Errors)
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\x1b[K", b.String())
		p.wrote = true
		return
	}
	fmt.Fprintln(p.w, b.String())
}

// end finishes an in-place progress line.
func (p *progress) end() {
	if p != nil && p.tty && p.wrote {
		fmt.Fprintln(p.w)
	}
}
