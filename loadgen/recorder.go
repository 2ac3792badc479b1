package loadgen

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wsbench/wsbench/results"
)

// metric indexes the fixed set of histograms, so recording is an array
// index and a RecordValue — no map lookup, no lock.
type metric uint8

const (
	mConnect metric = iota
	mHandshake
	mRTT
	mService
	mLag
	mOneWay
	mDrop
	mHandshakeFail
	mReconnect
	mDNS
	numMetrics
)

var metricNames = [numMetrics]string{
	mConnect:       results.MetricConnect,
	mHandshake:     results.MetricHandshake,
	mRTT:           results.MetricRTT,
	mService:       results.MetricService,
	mLag:           results.MetricLag,
	mOneWay:        results.MetricOneWay,
	mDrop:          results.MetricDrop,
	mHandshakeFail: results.MetricHandshakeFail,
	mReconnect:     results.MetricReconnect,
	mDNS:           results.MetricDNS,
}

const intervalNS = int64(time.Second)

// grid places the one-second intervals: whole seconds from the run's base
// and, once a warm-up has ended at origin, whole seconds from origin, so
// the measurement window's series and interval logs start with it. The
// interval the origin falls in ends there. Origin 0 (no warm-up) is whole
// seconds from the base throughout, which the ramp's steps rely on.
type grid struct{ origin int64 }

// start is when interval idx starts, in monotonic ns since the base.
func (g grid) start(idx int64) int64 {
	k := g.origin / intervalNS
	if g.origin%intervalNS == 0 || idx <= k {
		return idx * intervalNS
	}
	return g.origin + (idx-k-1)*intervalNS
}

// interval is one second of one recorder's measurements. Ownership passes
// to the aggregator when the second is over; it returns it for reuse.
type interval struct {
	idx    int64
	rec    int // the recorder it came from
	hist   [numMetrics]*hdrhistogram.Histogram
	sent   int64 // data messages
	recv   int64
	bsent  int64 // payload bytes
	brecv  int64
	errors int64 // failed attempts and dropped connections
	open   int64 // connections open on this recorder at the end
	final  bool  // the recorder's last interval
}

func newInterval() *interval { return &interval{} }

// histogram returns metric m's histogram, allocated on first use: a dense
// histogram costs 184 KB and most workloads use half the metrics.
func (iv *interval) histogram(m metric) *hdrhistogram.Histogram {
	if iv.hist[m] == nil {
		iv.hist[m] = results.NewHistogram()
	}
	return iv.hist[m]
}

func (iv *interval) reset(idx int64) {
	for _, h := range iv.hist {
		if h != nil && h.TotalCount() > 0 {
			h.Reset()
		}
	}
	*iv = interval{idx: idx, hist: iv.hist}
}

// recorder holds one goroutine's measurements. Only that goroutine touches
// it; finished seconds leave through out.
type recorder struct {
	id   int
	cur  *interval
	next int64 // monotonic ns at which cur ends
	grid grid
	out  chan<- *interval
	free chan *interval

	// Per-connection facts, low-frequency, whole-run.
	failures    map[string]int64
	outcomes    map[string]int64
	backends    map[string]int64
	hellos      [][]byte
	negotiation results.Negotiation // of the connections opened (first attempts)
	drops       []int64             // monotonic ns at which each dropped connection ended
	open        int64
	counts      results.Connections
	busy        float64 // the engine's share of the measurement window spent working (Self.LoopBusy)
}

func newRecorder(id int, out chan<- *interval, free chan *interval) *recorder {
	r := &recorder{
		id: id, out: out, free: free,
		failures: map[string]int64{}, outcomes: map[string]int64{}, backends: map[string]int64{},
	}
	r.cur = r.take(0)
	r.next = intervalNS
	return r
}

func (r *recorder) take(idx int64) *interval {
	var iv *interval
	select {
	case iv = <-r.free:
	default:
		iv = newInterval()
	}
	iv.reset(idx)
	iv.rec = r.id
	return iv
}

// tick hands over every second that ended before now (monotonic ns since
// the run's base), including empty ones, so the aggregator sees a complete
// series from every recorder.
func (r *recorder) tick(now int64) {
	for now >= r.next {
		idx := r.cur.idx + 1 // read before handing cur over: it is not ours after
		r.cur.open = r.open
		r.out <- r.cur
		r.cur = r.take(idx)
		r.next = r.grid.start(idx + 1)
	}
}

// setGrid moves the interval boundaries to g (at the load phase's start,
// before its origin).
func (r *recorder) setGrid(g grid) {
	r.grid = g
	r.next = g.start(r.cur.idx + 1)
}

// finish hands over the current, partial second as the last one.
func (r *recorder) finish() {
	r.cur.open = r.open
	r.cur.final = true
	r.out <- r.cur
	r.cur = nil
}

// record adds a latency sample in nanoseconds to metric m.
func (r *recorder) record(m metric, ns int64) {
	us := ns / 1000
	if us < 0 {
		us = 0
	} else if us > results.HighestUS {
		us = results.HighestUS
	}
	_ = r.cur.histogram(m).RecordValue(us) // in range by the clamp above
}

func (r *recorder) fail(cause string) {
	r.failures[cause]++
	r.counts.Failed++
	r.cur.errors++
}

func (r *recorder) opened(backend string) {
	r.open++
	r.counts.Opened++
	if backend != "" {
		r.backends[backend]++
	}
}

// agreed counts what an opened connection's handshake agreed.
func (r *recorder) agreed(a agreement) {
	n := &r.negotiation
	if a.protocol != "" {
		if n.Protocols == nil {
			n.Protocols = map[string]int64{}
		}
		n.Protocols[a.protocol]++
	}
	if a.extension != "" {
		if n.Extensions == nil {
			n.Extensions = map[string]int64{}
		}
		n.Extensions[a.extension]++
	}
	if a.sawProtocols {
		n.ProtocolsSeen++
	}
	if a.sawDeflate {
		n.DeflateSeen++
	}
}

// reopened counts a connection opened again in a closed one's place: a
// dropped one (reconnect: counted as a reconnect) or a churned one.
func (r *recorder) reopened(backend string, reconnect bool) {
	r.open++
	if reconnect {
		r.counts.Reconnects++
	}
	if backend != "" {
		r.backends[backend]++
	}
}

// ended records how an open connection ended; dropped is false when the
// load generator itself closed it at the end of the run.
func (r *recorder) ended(now, openedAt int64, outcome string, dropped bool) {
	r.open--
	r.outcomes[outcome]++
	if dropped {
		r.counts.Dropped++
		r.cur.errors++
		r.drops = append(r.drops, now)
		r.record(mDrop, now-openedAt)
	}
}
