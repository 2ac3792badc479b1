package loadgen

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/frame"
	"github.com/wsbench/wsbench/results"
)

// simServer is the far end of simulated connections: the transport the
// core writes to. It decodes the client's frames and schedules each echo
// for reply(arrival), in order per connection (TCP keeps it), and answers
// a close with a close. Time is whatever the simulation says it is.
type simServer struct {
	now   int64
	reply func(arrival int64) int64
	conns map[*session]*simConn
}

type simConn struct {
	dec  frame.Decoder
	in   []byte
	out  []simReply
	last int64
}

type simReply struct {
	at int64
	b  []byte
}

func (f *simServer) write(s *session, p []byte) (int, error) {
	c := f.conns[s]
	if c == nil {
		c = &simConn{dec: frame.Decoder{Server: true}}
		f.conns[s] = c
	}
	c.in = append(c.in, p...)
	for {
		msg, n, err := c.dec.Decode(c.in)
		if err != nil || n == 0 {
			break
		}
		c.in = c.in[n:]
		at := f.now
		b := frame.AppendFrame(nil, msg.Op, msg.Payload, nil)
		if msg.Op == ws.OpBinary {
			at = max(f.reply(f.now), c.last)
		}
		c.last = at
		c.out = append(c.out, simReply{at, b})
	}
	return len(p), nil
}

func (*simServer) waitWritable(*session, bool) {}
func (*simServer) release(*session)            {}
func (*simServer) again(error) bool            { return false }

// simulate runs an rtt load of rate messages/s over conns connections for
// dur against reply, in simulated time, exactly as an engine drives the
// core (timers, reads, phases), and returns the recorded histograms and
// failures.
func simulate(t *testing.T, rate float64, conns int, dur time.Duration, reply func(int64) int64) (map[metric]*hdrhistogram.Histogram, map[string]int64) {
	t.Helper()
	out := make(chan *interval, 1024)
	rec := newRecorder(0, out, make(chan *interval, 1))
	p := &plan{kind: WorkloadRTT, size: MinRTTSize, sched: rttSchedule{n: conns, rate: rate}, pad: make([]byte, MinRTTSize)}
	d := newDriver(p, rec, 1)
	// The load starts a second into the run (a timer at 0 means none);
	// reply sees times from the start.
	const t0 = int64(time.Second)
	srv := &simServer{now: t0, reply: func(a int64) int64 { return t0 + reply(a-t0) }, conns: map[*session]*simConn{}}
	c := &core{io: srv, d: d, rec: rec, drain: int64(time.Second)}
	for i := 0; i < conns; i++ {
		c.adopted(c.newSession(), dialed{}, t0)
	}
	c.handle(loopMsg{kind: msgStart, t0: t0, from: t0, end: t0 + int64(dur), rate: rate}, t0, nil)
	for steps := 0; c.phase != phaseDone; steps++ {
		if steps > 1e6 {
			t.Fatal("the simulation does not end")
		}
		now := srv.now + c.timeout(srv.now)
		for _, sc := range srv.conns {
			if len(sc.out) > 0 {
				now = min(now, sc.out[0].at)
			}
		}
		srv.now = max(now, srv.now)
		for _, s := range slices.Clone(c.all) {
			sc := srv.conns[s]
			for sc != nil && len(sc.out) > 0 && sc.out[0].at <= srv.now && !s.closed {
				b := sc.out[0].b
				sc.out = sc.out[1:]
				c.rec.tick(srv.now)
				c.received(s, b, srv.now)
			}
		}
		c.rec.tick(srv.now)
		c.runTimers(srv.now)
		c.advance(srv.now)
	}
	rec.finish()
	hs := map[metric]*hdrhistogram.Histogram{}
	for len(out) > 0 {
		iv := <-out
		for m, h := range iv.hist {
			if h == nil {
				continue
			}
			if hs[metric(m)] == nil {
				hs[metric(m)] = results.NewHistogram()
			}
			hs[metric(m)].Merge(h)
		}
	}
	return hs, rec.failures
}

// values lists a histogram's samples in µs, smallest first.
func values(h *hdrhistogram.Histogram) []int64 {
	var v []int64
	if h == nil {
		return v
	}
	for _, b := range h.Distribution() {
		for i := int64(0); i < b.Count; i++ {
			v = append(v, b.From)
		}
	}
	return v
}

func repeat(v int64, n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func us(v ...int64) []int64 { return v }

// Coordinated omission, in simulated time: response time counts from the
// intended send, so a stalled server shows up as latency of the messages
// due during the stall, never as fewer samples; service time counts from
// the actual send; lag is the difference.
func TestCoordinatedOmissionAccounting(t *testing.T) {
	ms := int64(time.Millisecond)
	tests := []struct {
		name              string
		rate              float64
		conns             int
		reply             func(arrival int64) int64
		rtt, service, lag []int64 // µs, sorted
	}{{
		name: "prompt server", rate: 1000, conns: 1,
		reply: func(a int64) int64 { return a + 100_000 },
		rtt:   repeat(100, 10), service: repeat(100, 10), lag: repeat(0, 10),
	}, {
		// Nothing is answered from 3 ms to 6 ms. Message 3 waits for it;
		// 4 and 5, due during it, leave late (one message in flight per
		// connection) and their response times hold the wait.
		name: "3ms stall", rate: 1000, conns: 1,
		reply: func(a int64) int64 {
			if a >= 3*ms && a < 6*ms {
				return 6*ms + 100_000
			}
			return a + 100_000
		},
		rtt:     us(100, 100, 100, 100, 100, 100, 400, 1300, 2200, 3100),
		service: append(repeat(100, 9), 3100),
		lag:     us(0, 0, 0, 0, 0, 0, 0, 300, 1200, 2100),
	}, {
		// Two connections share the schedule (0.5 ms apart overall): the
		// server holds the replies to what arrives from 2 ms to 3 ms
		// until 3 ms, one message of each connection.
		name: "two connections, stall", rate: 2000, conns: 2,
		reply: func(a int64) int64 {
			if a >= 2*ms && a < 3*ms {
				return 3 * ms
			}
			return a + 50_000
		},
		rtt:     us(50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 500, 1000),
		service: us(50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 500, 1000),
		lag:     repeat(0, 20),
	}, {
		// Replies take 1.5 ms at one message per ms: a backlog grows, and
		// the messages due before the end but still queued then are sent
		// in the drain and measured, the slowest of the run among them.
		name: "server slower than the rate", rate: 1000, conns: 1,
		reply:   func(a int64) int64 { return a + 1_500_000 },
		rtt:     us(1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000, 5500, 6000),
		service: repeat(1500, 10),
		lag:     us(0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs, failures := simulate(t, tt.rate, tt.conns, 10*time.Millisecond, tt.reply)
			if len(failures) > 0 {
				t.Errorf("failures %v, want none", failures)
			}
			for _, c := range []struct {
				m    metric
				want []int64
			}{{mRTT, tt.rtt}, {mService, tt.service}, {mLag, tt.lag}} {
				if got := values(hs[c.m]); !reflect.DeepEqual(got, c.want) {
					t.Errorf("%s: got %v µs, want %v", metricNames[c.m], got, c.want)
				}
			}
		})
	}
}

// A server that stops answering at 3 ms: the message in flight and every
// one due after it until the end are unanswered, none silently dropped.
func TestUnansweredCountsTheBacklog(t *testing.T) {
	ms := int64(time.Millisecond)
	hs, failures := simulate(t, 1000, 1, 10*time.Millisecond, func(a int64) int64 {
		if a >= 3*ms {
			return int64(time.Hour)
		}
		return a + 100_000
	})
	if got := values(hs[mRTT]); !reflect.DeepEqual(got, repeat(100, 3)) {
		t.Errorf("rtt %v µs, want the three answers", got)
	}
	if failures["unanswered"] != 7 {
		t.Errorf("unanswered %d (failures %v), want 7: one in flight, six due behind it", failures["unanswered"], failures)
	}
}

// fakeTime is a clock that moves only when something sleeps: a sleep
// until t jumps to t.
type fakeTime struct {
	mu sync.Mutex
	ns int64
}

func (f *fakeTime) now() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ns
}

func (f *fakeTime) sleepUntil(ctx context.Context, ns int64) error {
	f.mu.Lock()
	f.ns = max(f.ns, ns)
	f.mu.Unlock()
	return ctx.Err()
}

// fakeEngine keeps what the runner sends it.
type fakeEngine struct {
	engine
	got []loopMsg
}

func (e *fakeEngine) send(m loopMsg) bool { e.got = append(e.got, m); return true }

// The ramp in a clock the test moves: each second's response times and
// errors are given, the steps are judged from them, the rates the engines
// are told follow RampFactor, and the ramp stops where it should.
func TestRampControl(t *testing.T) {
	type sec struct{ p99US, errs int64 }
	ok, slow, failing := sec{2000, 0}, sec{20_000, 0}, sec{2000, 3}
	tests := []struct {
		name     string
		seconds  []sec // one per second from the ramp's start
		step     time.Duration
		maxSteps int
		offered  []float64 // the steps judged
		maxOK    float64
		broken   string
		rates    []float64 // msgRate broadcasts, then one msgStop
	}{
		{"meets the SLO to the last step", []sec{ok, ok, ok}, time.Second, 3, []float64{100, 200, 400}, 400, "last step", []float64{200, 400}},
		{"p99 over the SLO", []sec{ok, ok, slow, ok}, time.Second, 4, []float64{100, 200, 400}, 200, "p99 over SLO", []float64{200, 400, 800}},
		{"errors", []sec{ok, failing}, time.Second, 4, []float64{100, 200}, 100, "errors", []float64{200, 400}},
		{"two-second steps: one slow second breaks the step", []sec{ok, ok, ok, slow}, 2 * time.Second, 3, []float64{100, 200}, 100, "p99 over SLO", []float64{200, 400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Workload: WorkloadRamp, Rate: 100, RampFactor: 2, StepDuration: tt.step, SLO: 10 * time.Millisecond, MaxSteps: tt.maxSteps}.withDefaults()
			e := &fakeEngine{}
			r := &runner{o: o, clk: clock{src: &fakeTime{}}, engines: []engine{e}}
			r.agg = newAggregator(1, r.clk, mRTT, nil)
			go r.agg.run()
			for i, s := range tt.seconds {
				iv := newInterval()
				iv.reset(int64(i))
				for j := 0; j < 100; j++ {
					_ = iv.histogram(mRTT).RecordValue(s.p99US * int64(j+1) / 100)
				}
				iv.recv, iv.errors, iv.final = 100, s.errs, i == len(tt.seconds)-1
				r.agg.in <- iv
			}
			<-r.agg.done
			got := r.rampControl(context.Background())
			var offered []float64
			for _, st := range got.Steps {
				offered = append(offered, st.Offered)
			}
			if !reflect.DeepEqual(offered, tt.offered) || got.MaxOK != tt.maxOK || got.Broken != tt.broken {
				t.Errorf("steps offered %v, max ok %v, broken %q; want %v, %v, %q", offered, got.MaxOK, got.Broken, tt.offered, tt.maxOK, tt.broken)
			}
			var rates []float64
			for _, m := range e.got[:len(e.got)-1] {
				if m.kind != msgRate {
					t.Fatalf("sent %v before the end, want only rate changes", m.kind)
				}
				rates = append(rates, m.rate)
			}
			if last := e.got[len(e.got)-1]; last.kind != msgStop || !reflect.DeepEqual(rates, tt.rates) {
				t.Errorf("told the engines rates %v then %v; want %v then stop", rates, last.kind, tt.rates)
			}
		})
	}
}
