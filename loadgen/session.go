package loadgen

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/frame"
	"github.com/wsbench/wsbench/internal/sysio"
	"github.com/wsbench/wsbench/wire"
)

// session is one connection's protocol and workload state. It does no I/O:
// the engine that owns it feeds it bytes and timer expiries and writes out
// what it appends to out. It is kept small because hold runs keep tens of
// thousands of them.
type session struct {
	fd       int32 // epoll engine only
	slot     int32 // position in the rate schedule
	inflight int32 // messages sent and not yet answered
	closing  bool  // we sent a close frame
	churned  bool  // closed by churn (Options.Churn): to be reopened, not a drop
	closed   bool
	outWait  bool  // waiting for the socket to become writable
	k        int64 // rtt: index of the next message in the schedule
	seq      uint64
	openedAt int64     // monotonic ns
	due      sysio.Due // next timer: At monotonic ns, 0 = none; its place in the timer heap
	dec      frame.Decoder
	in       []byte        // bytes of an incomplete frame carried to the next read
	out      []byte        // bytes waiting to be written
	z        *deflateState // permessage-deflate, when agreed; nil otherwise
}

// maxHellos bounds the distinct hello messages kept for the summary.
const maxHellos = 8

// driver runs a workload over the sessions of one engine goroutine. All
// its methods run on that goroutine, so it records without locks.
type driver struct {
	p   *plan
	rec *recorder
	rng uint64 // xorshift state for masking keys and message sizes

	// Compressed sends: the message before and after compression.
	scratch, zbuf []byte

	loading  bool    // between t0 and end
	t0, end  int64   // load phase, monotonic ns
	from     int64   // the measurement starts here: t0, or the end of the warm-up
	draining bool    // after end: no new sends
	inflight int64   // messages sent and not yet answered, all sessions
	rate     float64 // rtt/ramp: the current step's total rate; t0 is its start
}

// at is the intended send time of slot's k-th message in the current step.
func (d *driver) at(slot int32, k int64) int64 {
	return d.t0 + rttSchedule{n: d.p.sched.n, rate: d.rate}.at(int(slot), k)
}

// rampTo restarts s's schedule from its first slot of a new step; the
// caller has already set the step's start (d.t0) and rate (d.rate).
func (d *driver) rampTo(s *session) {
	s.k = 0
	if s.inflight == 0 && !s.closing {
		s.due.At = d.at(s.slot, 0)
	}
}

// plan is a run's workload, shared read-only by every driver.
type plan struct {
	kind      Workload
	size      int   // every message's size; 0: drawn from sizes
	sizes     Sizes // the distribution, when size is 0
	text      bool  // data messages are text (else binary): numbers are written 7 bits a byte
	window    int
	sched     rttSchedule
	pingEvery int64
	holdData  bool
	pad       []byte // text to fill messages up to their size (see filler)
	baseUnix  int64  // the run clock's base as Unix ns: push send times are wall-clock

	// churn deals churn events to the engines: slot i is engine i
	// (Options.Churn; rate 0 = none). See churn.go.
	churn rttSchedule
}

func newDriver(p *plan, rec *recorder, seed uint64) *driver {
	return &driver{p: p, rec: rec, rng: seed | 1}
}

// rand is the next number of the driver's xorshift64 sequence.
func (d *driver) rand() uint64 {
	d.rng ^= d.rng << 13
	d.rng ^= d.rng >> 7
	d.rng ^= d.rng << 17
	return d.rng
}

func (d *driver) mask() [4]byte {
	var m [4]byte
	binary.LittleEndian.PutUint32(m[:], uint32(d.rand()))
	return m
}

// begin starts the load phase on s.
func (d *driver) begin(s *session, now int64) {
	switch d.p.kind {
	case WorkloadRTT, WorkloadRamp:
		s.due.At = d.at(s.slot, s.k)
	case WorkloadThroughput:
		for i := 0; i < d.p.window; i++ {
			d.sendMessage(s, now, now)
		}
	case WorkloadHold:
		if d.p.pingEvery > 0 {
			// Stagger the first ping over one interval so pings don't burst.
			s.due.At = now + d.p.pingEvery*int64(s.slot%1000)/1000 + 1
		}
	}
}

// timer runs when s.due.At has passed.
func (d *driver) timer(s *session, now int64) {
	s.due.At = 0
	if s.closing {
		return
	}
	switch d.p.kind {
	case WorkloadRTT, WorkloadRamp:
		d.sendDue(s, now) // in the drain too: see sendDue
	case WorkloadHold:
		if d.draining {
			return
		}
		if d.p.holdData {
			d.sendMessage(s, now, now)
		} else {
			s.out = frame.AppendFrame(s.out, ws.OpPing, nil, ptr(d.mask()))
		}
		s.due.At = now + d.p.pingEvery
	}
}

// sendDue sends s's next scheduled rtt message if nothing is in flight;
// otherwise the reply will send it. A late message keeps its intended time,
// so a stall shows up as response time (no coordinated omission). Messages
// due before the end of the load phase are still sent during the drain:
// a server slower than the rate leaves a backlog at the end, and dropping
// it would leave out the slowest response times of the run.
func (d *driver) sendDue(s *session, now int64) {
	if s.inflight > 0 {
		return
	}
	intended := d.at(s.slot, s.k)
	if intended >= d.end {
		return
	}
	if intended > now {
		s.due.At = intended
		return
	}
	s.k++
	d.sendMessage(s, intended, now)
}

// sendMessage appends one masked data message carrying its sequence
// number, intended and actual send times, its size drawn from the plan's.
// The default (one size, binary, uncompressed) is written here; a text or
// compressed message by sendEncoded, so the default stays as short.
func (d *driver) sendMessage(s *session, intended, actual int64) {
	size := d.p.size
	if size == 0 {
		size = d.drawSize()
	}
	if s.z != nil || d.p.text {
		d.sendEncoded(s, size, intended, actual)
	} else {
		m := d.mask()
		s.out = frame.AppendHeader(s.out, ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: m, Length: int64(size)})
		start := len(s.out)
		if size >= MinRTTSize {
			s.out = binary.BigEndian.AppendUint64(s.out, s.seq)
			s.out = binary.BigEndian.AppendUint64(s.out, uint64(intended))
			s.out = binary.BigEndian.AppendUint64(s.out, uint64(actual))
			s.out = append(s.out, d.p.pad[:size-MinRTTSize]...)
		} else {
			s.out = append(s.out, d.p.pad[:size]...)
		}
		ws.Cipher(s.out[start:], m, 0)
	}
	s.seq++
	s.inflight++
	d.inflight++
	if (d.loading || d.draining) && intended >= d.from && intended < d.end {
		d.rec.cur.sent++
		d.rec.cur.bsent += int64(size)
	}
}

// drawSize draws a message size from the plan's distribution. Not inlined:
// inlined, it made sendMessage slower for the one size most runs send.
//
//go:noinline
func (d *driver) drawSize() int { return d.p.sizes.pick(d.rand()) }

// sendEncoded appends a text message, or one compressed (permessage-deflate).
func (d *driver) sendEncoded(s *session, size int, intended, actual int64) {
	m, op := d.mask(), ws.OpBinary
	if d.p.text {
		op = ws.OpText
	}
	if s.z == nil {
		s.out = frame.AppendHeader(s.out, ws.Header{Fin: true, OpCode: op, Masked: true, Mask: m, Length: int64(size)})
		start := len(s.out)
		s.out = d.appendPayload(s.out, s.seq, size, intended, actual)
		ws.Cipher(s.out[start:], m, 0)
		return
	}
	d.scratch = d.appendPayload(d.scratch[:0], s.seq, size, intended, actual)
	d.zbuf = s.z.deflater().Append(d.zbuf[:0], d.scratch)
	s.out = frame.AppendHeader(s.out, ws.Header{Fin: true, Rsv: frame.Compressed, OpCode: op, Masked: true, Mask: m, Length: int64(len(d.zbuf))})
	start := len(s.out)
	s.out = append(s.out, d.zbuf...)
	ws.Cipher(s.out[start:], m, 0)
}

// appendPayload appends a message of size bytes: the sequence number, the
// intended and the actual send time (when it has room for them), then
// filler. A text message writes the numbers 7 bits a byte, so every byte
// is ASCII and the payload valid UTF-8.
func (d *driver) appendPayload(b []byte, seq uint64, size int, intended, actual int64) []byte {
	if size < MinRTTSize {
		return append(b, d.p.pad[:size]...)
	}
	if d.p.text {
		b = append7(append7(append7(b, seq), uint64(intended)), uint64(actual))
	} else {
		b = binary.BigEndian.AppendUint64(b, seq)
		b = binary.BigEndian.AppendUint64(b, uint64(intended))
		b = binary.BigEndian.AppendUint64(b, uint64(actual))
	}
	return append(b, d.p.pad[:size-MinRTTSize]...)
}

// stamp reads the i-th number (0 sequence, 1 intended, 2 actual send
// time) of a message the driver sent, echoed back; p holds at least
// MinRTTSize bytes.
func (d *driver) stamp(p []byte, i int) int64 {
	f := p[8*i : 8*i+8]
	if d.p.text {
		return int64(read7(f))
	}
	return int64(binary.BigEndian.Uint64(f))
}

// append7 writes the low 56 bits of v in 8 bytes of 7 bits each, most
// significant first: sequence numbers and nanoseconds since the run's
// base (2^56 ns is over two years) fit.
func append7(b []byte, v uint64) []byte {
	return append(b, byte(v>>49)&0x7f, byte(v>>42)&0x7f, byte(v>>35)&0x7f, byte(v>>28)&0x7f,
		byte(v>>21)&0x7f, byte(v>>14)&0x7f, byte(v>>7)&0x7f, byte(v)&0x7f)
}

func read7(f []byte) uint64 {
	var v uint64
	for _, c := range f[:8] {
		v = v<<7 | uint64(c&0x7f)
	}
	return v
}

// filler is n bytes of pseudo-text to pad messages with: printable ASCII
// (valid in a text message), as repetitive as chat or JSON traffic and so
// compressing about as well, the same in every run.
func filler(n int) []byte {
	words := []string{"the ", "message ", "websocket ", `{"id":`, "42, ", `"ok":true}`, "proxy ", "frame ", "wsbench ", "load "}
	b := make([]byte, 0, n+16)
	for x := uint64(0x9e3779b97f4a7c15); len(b) < n; {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b = append(b, words[x%uint64(len(words))]...)
	}
	return b[:n]
}

// message handles one complete message or control frame: it answers a
// ping with a pong and records data messages.
func (d *driver) message(s *session, msg frame.Message, now int64) {
	switch msg.Op {
	case ws.OpPing:
		s.out = frame.AppendFrame(s.out, ws.OpPong, msg.Payload, ptr(d.mask()))
	case ws.OpPong:
	case ws.OpText:
		if !d.hello(msg.Payload) {
			d.data(s, msg.Payload, now)
		}
	case ws.OpBinary:
		d.data(s, msg.Payload, now)
	}
}

// hello keeps a backend's hello message; it reports whether p was one.
func (d *driver) hello(p []byte) bool {
	if !bytes.HasPrefix(p, []byte(wire.HelloPrefix)) {
		return false
	}
	for _, h := range d.rec.hellos {
		if bytes.Equal(h, p) {
			return true
		}
	}
	if len(d.rec.hellos) < maxHellos {
		d.rec.hellos = append(d.rec.hellos, append([]byte(nil), p...))
	}
	return true
}

func (d *driver) data(s *session, p []byte, now int64) {
	if s.inflight > 0 {
		s.inflight--
		d.inflight--
	}
	if !d.loading && !d.draining {
		return // before the load phase: not measured
	}
	// now >= from too: a push sent by another clock a hair ahead of ours
	// must not be measured and binned into the warm-up's last interval.
	measured := now >= d.from && d.sentAt(p, now) >= d.from
	if measured {
		d.rec.cur.recv++
		d.rec.cur.brecv += int64(len(p))
	}
	switch d.p.kind {
	case WorkloadRTT, WorkloadRamp:
		d.rttReply(s, p, now, measured)
	case WorkloadThroughput:
		if measured && len(p) >= MinRTTSize {
			d.rec.record(mService, now-d.stamp(p, 2))
		}
		if !d.draining && now < d.end {
			d.sendMessage(s, now, now)
		}
	case WorkloadPush:
		if sent, _, ok := wire.ParsePushHeader(p); ok && measured {
			d.rec.record(mOneWay, time.Now().UnixNano()-sent)
		}
	}
}

// sentAt is when the message p answers was (meant to be) sent, in run
// clock ns: it puts the message in the warm-up or the measurement, so a
// reply that arrives after the warm-up to a message due before it is not
// measured, and one sent at the end is (during the drain). rtt: the
// intended send time; throughput: the actual one; push: the server's.
// A message that does not say counts from its arrival.
func (d *driver) sentAt(p []byte, now int64) int64 {
	switch d.p.kind {
	case WorkloadRTT, WorkloadRamp:
		if len(p) >= MinRTTSize {
			return d.stamp(p, 1)
		}
	case WorkloadThroughput:
		if len(p) >= MinRTTSize {
			return d.stamp(p, 2)
		}
	case WorkloadPush:
		if sent, _, ok := wire.ParsePushHeader(p); ok {
			return sent - d.p.baseUnix
		}
	}
	return now
}

func (d *driver) rttReply(s *session, p []byte, now int64, measured bool) {
	if len(p) < MinRTTSize {
		d.rec.failures["bad_echo"]++
		return
	}
	if measured {
		intended, actual := d.stamp(p, 1), d.stamp(p, 2)
		d.rec.record(mRTT, now-intended)
		d.rec.record(mService, now-actual)
		d.rec.record(mLag, actual-intended)
	}
	if !s.closing {
		d.sendDue(s, now)
	}
}

// backlog counts the measured messages of s due before the end of the
// load phase and never sent.
func (d *driver) backlog(s *session) int64 {
	if d.p.kind != WorkloadRTT && d.p.kind != WorkloadRamp || s.closed || d.rate <= 0 {
		return 0
	}
	var n int64
	for k := s.k; ; k++ {
		at := d.at(s.slot, k)
		if at >= d.end {
			return n
		}
		if at >= d.from {
			n++
		}
	}
}

func ptr[T any](v T) *T { return &v }
