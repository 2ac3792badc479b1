package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wsbench/wsbench/results"
)

// engine runs connections: the epoll engine on Linux for ws://, the
// goroutine engine elsewhere and for wss://.
type engine interface {
	adopt(d dialed) bool // take over a dialed connection (called from dialing goroutines); false once the engine has finished
	send(m loopMsg) bool // phase changes from the runner; false once the engine has finished
	run()                // the engine's goroutine
	finished() <-chan struct{}
	recorder() *recorder
	setRedial(func(slot int32, k int64, churn bool))
}

// Progress configures the once-a-second progress line.
type Progress struct {
	W   io.Writer // nil: no progress
	TTY bool      // rewrite one line in place instead of printing lines
}

// Run opens the connections, runs the workload for o.Duration and returns
// the results. When ctx is cancelled it stops early and returns what it
// has, with Summary.Interrupted set.
func Run(ctx context.Context, o Options, pr Progress) (*results.Run, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	// Resolve before waiting for the start time, so that load generators
	// started together start their connect phases together.
	d, err := newDialer(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := waitUntil(ctx, o.StartAt); err != nil {
		return nil, fmt.Errorf("loadgen: interrupted before the start time: %w", err)
	}
	r, err := newRunner(o, pr, d)
	if err != nil {
		return nil, err
	}
	return r.run(ctx)
}

type runner struct {
	o       Options
	clk     clock
	start   time.Time
	plan    *plan
	dialer  *dialer
	engines []engine
	agg     *aggregator
	prog    *progress
	opened  []atomic.Int64 // per engine
	tried   int
	// redialing counts reconnection attempts begun and not yet handed to an
	// engine in time: what is left at the end never finished.
	redialing atomic.Int64
	t0, end   int64
	from      int64 // the measurement window starts: t0 + Options.Warmup
	origin    int64 // what the series and Start count from: from with a warm-up, else 0 (the base)
	intr      bool
	self      [2]selfUsage // at the start and the end of the measurement window
	ramp      *results.Ramp
}

func newRunner(o Options, pr Progress, d *dialer) (*runner, error) {
	r := &runner{o: o, clk: realClock(), dialer: d}
	r.start = r.clk.base
	r.plan = &plan{
		kind: o.Workload, sizes: o.Size, text: o.Opcode == "text", window: o.Window,
		sched:     rttSchedule{n: max(o.Conns, 1), rate: o.Rate},
		pingEvery: int64(o.PingInterval), holdData: o.HoldSend == "data",
		pad: filler(o.Size.Max()), baseUnix: r.clk.base.UnixNano(),
	}
	if n, one := o.Size.Fixed(); one {
		r.plan.size = n // else 0: drawn per message
	}
	n := r.engineCount()
	if o.Churn > 0 {
		r.plan.churn = rttSchedule{n: n, rate: o.Churn}
	}
	r.prog = &progress{w: pr.W, tty: pr.TTY, conns: o.Conns}
	r.agg = newAggregator(n, r.clk, primaryMetric(o.Workload), r.prog)
	r.opened = make([]atomic.Int64, n)
	useEpoll, err := r.useEpoll()
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		rec := newRecorder(i, r.agg.in, r.agg.free)
		d := newDriver(r.plan, rec, uint64(time.Now().UnixNano())+uint64(i)*0x9e3779b97f4a7c15)
		e, err := newEngine(useEpoll, d, r.clk, int64(o.Drain), int64(max(o.TimerSlack, 0)), o.NoRead)
		if err != nil {
			return nil, err
		}
		r.engines = append(r.engines, e)
	}
	return r, nil
}

func (r *runner) engineCount() int {
	n := r.o.Loops
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return max(1, min(n, r.o.Conns))
}

func (r *runner) useEpoll() (bool, error) {
	u, _ := url.Parse(r.o.URL)
	tls := u.Scheme == "wss"
	switch r.o.Engine {
	case "epoll":
		if tls || !epollSupported {
			return false, fmt.Errorf("loadgen: engine epoll: needs Linux and a ws:// url (got %s on %s)", u.Scheme, runtime.GOOS)
		}
		return true, nil
	case "goroutine":
		return false, nil
	}
	return epollSupported && !tls, nil
}

// primaryMetric is the workload's headline latency, as results defines it.
func primaryMetric(workload Workload) metric {
	name := results.PrimaryMetric(workload.String())
	for m, n := range metricNames {
		if n == name {
			return metric(m)
		}
	}
	return mRTT
}

func (r *runner) run(ctx context.Context) (*results.Run, error) {
	go r.agg.run()
	for _, e := range r.engines {
		go e.run()
	}
	if r.o.Reconnect || r.o.Churn > 0 {
		for _, e := range r.engines {
			e.setRedial(r.redialer(ctx, e))
		}
	}
	r.connect(ctx)
	r.t0 = r.clk.now()
	// The warm-up is the start of the load phase: the schedule runs from
	// t0 without a break, and only what was sent from r.from on is measured.
	r.from = r.t0 + int64(r.o.Warmup)
	r.end = r.from + int64(r.o.Duration)
	if r.o.Workload == WorkloadRamp {
		r.t0 = alignedT0(r.t0)
		r.from, r.end = r.t0, r.t0+int64(r.o.rampSpan())
	}
	if ctx.Err() != nil {
		r.from, r.end, r.intr = r.t0, r.t0, true
	}
	// The rate is spread over the connections that opened; the plan is
	// shared read-only once the engines start, so fix it first.
	total := int64(0)
	for i := range r.opened {
		total += r.opened[i].Load()
	}
	r.plan.sched.n = int(max(total, 1))
	if total == 0 {
		r.from, r.end = r.t0, r.t0 // nothing to measure: don't wait out the duration
	}
	if r.from > r.t0 {
		r.origin = r.from
	}
	g := grid{origin: r.origin}
	r.agg.setGrid(g)
	base := 0
	finished := make(chan struct{})
	stopSelf := r.sampleSelf(ctx, finished)
	started := make(chan struct{}, len(r.engines))
	for i, e := range r.engines {
		e.send(loopMsg{kind: msgStart, t0: r.t0, from: r.from, end: r.end, grid: g, slotBase: base, ack: started, rate: r.o.Rate})
		base += int(r.opened[i].Load())
	}
	for range r.engines {
		<-started
	}
	if r.o.Workload == WorkloadHold {
		// Steady state: the engines have taken every connection over, so
		// the dialing garbage can go back to the OS and memory per held
		// connection is what holding costs. Two collections: the first
		// only moves sync.Pool contents (the handshakes' 4 KiB readers, as
		// many as there were concurrent dials) to the victim cache.
		runtime.GC()
		debug.FreeOSMemory()
	}
	ramp := make(chan *results.Ramp, 1)
	if r.o.Workload == WorkloadRamp && total > 0 {
		go func() { ramp <- r.rampControl(ctx) }()
	} else {
		ramp <- nil
	}
	r.wait(ctx)
	close(finished)
	stopSelf()
	r.ramp = <-ramp
	if n := rampSteps(r.ramp); n > 0 {
		r.end = r.t0 + int64(n)*int64(r.o.StepDuration) // the window the ramp judged
	}
	<-r.agg.done
	r.prog.end()
	return r.result(), nil
}

// sampleSelf reads the process's usage when the measurement window starts
// and when it ends, or when it is interrupted or the engines finish early
// (a ramp that broke), whichever is first. The returned func waits for the
// readings.
func (r *runner) sampleSelf(ctx context.Context, finished <-chan struct{}) func() {
	done := make(chan struct{})
	at := func(ns int64) {
		t := time.NewTimer(time.Until(r.start.Add(time.Duration(ns))))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-finished:
		}
	}
	go func() {
		defer close(done)
		at(r.from)
		r.self[0] = readSelf()
		at(r.end)
		r.self[1] = readSelf()
	}()
	return func() { <-done }
}

// redialer returns the function engine e calls when one of its
// connections drops (with Reconnect) or was closed by churn: it reopens it
// on a new goroutine, backing off while attempts fail, until the load
// phase ends.
func (r *runner) redialer(ctx context.Context, e engine) func(int32, int64, bool) {
	return func(slot int32, k int64, churn bool) {
		if !churn && !r.o.Reconnect {
			return
		}
		go func() {
			backoff := 100 * time.Millisecond
			for ctx.Err() == nil && r.clk.now() < r.end {
				r.redialing.Add(1)
				d := r.dialer.dial(ctx, int(slot))
				d.reconnect, d.slot, d.k, d.churn = true, slot, k, churn
				if e.adopt(d) {
					r.redialing.Add(-1) // the engine counts it, opened or failed
				}
				if d.cause == "" || r.clk.sleep(ctx, backoff) != nil {
					return
				}
				backoff = min(2*backoff, 2*time.Second)
			}
		}()
	}
}

// connect opens the connections on the open-model schedule: attempt k
// starts at k/ConnectRate whatever happened to the earlier ones.
func (r *runner) connect(ctx context.Context) {
	var wg sync.WaitGroup
	for k := 0; k < r.o.Conns; k++ {
		if err := r.clk.sleepUntil(ctx, int64(connectAt(k, r.o.ConnectRate))); err != nil {
			break
		}
		r.tried++
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			d := r.dialer.dial(ctx, k)
			if _, once := r.dialer.resolved(); once && k == 0 {
				d.looked, d.dnsNS = true, r.dialer.onceNS // the lookup made for them all
			}
			i := k % len(r.engines)
			if d.cause == "" {
				r.opened[i].Add(1)
			}
			r.engines[i].adopt(d)
		}(k)
	}
	wg.Wait()
}

func (r *runner) wait(ctx context.Context) {
	var all sync.WaitGroup
	for _, e := range r.engines {
		all.Add(1)
		go func() { <-e.finished(); all.Done() }()
	}
	finished := make(chan struct{})
	go func() { all.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-ctx.Done():
		r.intr = true
		for _, e := range r.engines {
			e.send(loopMsg{kind: msgStop})
		}
		<-finished
	}
}

func waitUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// result assembles the run from the aggregator and the recorders. The
// engines have finished, so their recorders are safe to read.
func (r *runner) result() *results.Run {
	s := results.Summary{
		Schema: results.Schema, Target: r.o.target(), Workload: r.o.Workload.String(),
		Params: r.o.Params(), Start: r.start.Add(time.Duration(r.origin)), End: time.Now(), Interrupted: r.intr,
		Failures: map[string]int64{}, Histograms: map[string]results.Stats{},
	}
	if addrs, once := r.dialer.resolved(); once {
		s.Notes = append(s.Notes, fmt.Sprintf("resolved %s once, before the connect phase, to %s", r.dialer.host, joinAddrs(addrs)))
	}
	if r.origin > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("warm-up of %s before the measurement: connections opened before it; the start, the time series and the rates are the measurement's", r.o.Warmup))
	}
	s.Connections.Attempted = int64(r.tried)
	outcomes := map[string]int64{}
	backends := map[string]int64{}
	var negotiation results.Negotiation
	var drops []int64
	busy := 0.0
	for _, e := range r.engines {
		rec := e.recorder()
		busy = max(busy, rec.busy)
		addCounts(&s.Connections, rec.counts)
		mergeCounts(s.Failures, rec.failures)
		mergeCounts(outcomes, rec.outcomes)
		mergeCounts(backends, rec.backends)
		negotiation = *results.AddNegotiation(&negotiation, &rec.negotiation)
		drops = append(drops, rec.drops...)
		for _, h := range rec.hellos {
			s.Hellos = appendHello(s.Hellos, h)
		}
	}
	s.Connections.OpenAtEnd = outcomes["open"]
	// A reconnection still dialing when the engines finished (a proxy
	// holding it on a dead backend) is a failure, not nothing.
	if n := r.redialing.Load(); n > 0 {
		s.Failures["reconnect_unfinished"] += n
	}
	if len(backends) > 0 {
		s.Backends = backends
	}
	if len(r.o.Subprotocols) > 0 || r.o.Compression {
		s.Negotiation = &negotiation
	}
	run := &results.Run{Summary: s, Histograms: map[string]*hdrHist{}, Intervals: map[string][]*hdrPacked{}, Series: r.agg.series}
	for m, h := range r.agg.total {
		if h != nil && h.TotalCount() > 0 {
			run.Histograms[metricNames[m]] = h
			run.Intervals[metricNames[m]] = r.agg.ivs[m]
			run.Summary.Histograms[metricNames[m]] = results.Summarize(h)
		}
	}
	r.traffic(&run.Summary)
	msgs := max(run.Summary.Messages.Sent, run.Summary.Messages.Received)
	run.Summary.Self = selfReport(r.self[0], r.self[1], msgs, r.openAtEnd())
	run.Summary.Self.LoopBusy = busy
	run.Summary.Ramp = r.ramp
	if r.o.Workload == WorkloadHold {
		run.Summary.Hold = &results.Hold{Outcomes: outcomes, Survival: survival(r.agg.series, drops, s.Connections.Opened, r.end, s.Connections.OpenAtEnd)}
	}
	return run
}

// traffic sums the series and turns it into rates over the load window.
func (r *runner) traffic(s *results.Summary) {
	for _, row := range r.agg.series {
		s.Messages.Sent += row.MsgsSent
		s.Messages.Received += row.MsgsRecv
		s.Bytes.Sent += row.BytesSent
		s.Bytes.Received += row.BytesRecv
	}
	win := float64(r.end-r.from) / 1e9
	if win <= 0 {
		return
	}
	s.Rates = results.Rates{
		WindowSec:       win,
		MsgsSentPerSec:  float64(s.Messages.Sent) / win,
		MsgsRecvPerSec:  float64(s.Messages.Received) / win,
		BytesSentPerSec: float64(s.Bytes.Sent) / win,
		BytesRecvPerSec: float64(s.Bytes.Received) / win,
	}
}

// survival lists open connections over the run until the load phase
// ended (after that the load generator closes them itself): every opened
// connection at t=0, the per-second series, a point at every drop (at
// most 2,000), and the end.
func survival(series []results.Interval, drops []int64, opened int64, endNS int64, openAtEnd int64) []results.SurvivalPoint {
	endSec := float64(endNS) / 1e9
	pts := make([]results.SurvivalPoint, 0, len(series)+len(drops)+2)
	pts = append(pts, results.SurvivalPoint{T: 0, Open: opened})
	for _, row := range series {
		if row.T < endSec {
			pts = append(pts, results.SurvivalPoint{T: row.T, Open: row.Open})
		}
	}
	sort.Slice(drops, func(i, j int) bool { return drops[i] < drops[j] })
	const maxPoints = 2000
	step := max(1, len(drops)/maxPoints)
	for i := step - 1; i < len(drops) && drops[i] <= endNS; i += step {
		pts = append(pts, results.SurvivalPoint{T: float64(drops[i]) / 1e9, Open: opened - int64(i+1)})
	}
	pts = append(pts, results.SurvivalPoint{T: endSec, Open: openAtEnd})
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].T < pts[j].T })
	return pts
}

// openAtEnd is the number of connections open when the load phase ended,
// from the time series.
func (r *runner) openAtEnd() int64 {
	endSec := float64(r.end-r.origin) / 1e9
	var open int64
	for _, row := range r.agg.series {
		if row.T <= endSec+1e-9 {
			open = row.Open
		}
	}
	return open
}

func joinAddrs(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

func addCounts(dst *results.Connections, c results.Connections) {
	dst.Opened += c.Opened
	dst.Failed += c.Failed
	dst.Dropped += c.Dropped
	dst.Reconnects += c.Reconnects
	dst.Churned += c.Churned
}

func mergeCounts(dst, src map[string]int64) {
	for k, v := range src {
		dst[k] += v
	}
}

func appendHello(hs []json.RawMessage, h []byte) []json.RawMessage {
	for _, x := range hs {
		if string(x) == string(h) {
			return hs
		}
	}
	if len(hs) >= maxHellos || !json.Valid(h) {
		return hs
	}
	return append(hs, json.RawMessage(h))
}

type (
	hdrHist   = hdrhistogram.Histogram
	hdrPacked = hdrhistogram.PackedHistogram
)
