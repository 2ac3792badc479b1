package loadgen

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/frame"
	"github.com/wsbench/wsbench/internal/sysio"
)

// transport is the I/O an engine gives the shared connection logic.
type transport interface {
	// write sends p without blocking for long; it may write part of it.
	write(s *session, p []byte) (int, error)
	// waitWritable asks to be told (via flush) when s can take more bytes.
	waitWritable(s *session, on bool)
	// release closes s's socket and forgets it.
	release(s *session)
	// again reports whether err means "try later" rather than failure.
	again(err error) bool
}

// core is the connection logic both engines share: framing, the workload
// driver, timers, and the end-of-run phases. One goroutine owns it.
type core struct {
	io       transport
	all      []*session
	timers   sysio.TimerHeap[*session]
	d        *driver
	rec      *recorder
	clk      clock
	drain    int64
	slack    int64 // timer slack, ns: see Options.TimerSlack
	phase    phase
	deadline int64 // end of the current phase
	slotNext int32
	open     int
	slab     []session // sessions are carved from blocks; see newSession
	// redial, when set, reopens a connection in its slot: one that
	// dropped, or one closed by churn.
	redial func(slot int32, k int64, churn bool)
	churn  churnState
	ended  int        // sessions in all that have ended (see compact)
	reuse  bool       // ended sessions can be handed out again (epoll engine)
	free   []*session // ended sessions to reuse
	idle   int64      // ns of the measurement window spent waiting for events
}

// waited counts a wait for events from a to b (monotonic ns) as idle, the
// part of it inside the measurement window [d.from, d.end); the engines
// read the clock on both sides of their wait anyway.
func (c *core) waited(a, b int64) {
	c.idle += max(0, min(b, c.d.end)-max(a, c.d.from))
}

// busy is the share of the measurement window the engine's goroutine
// spent outside its wait (0 when there was no window).
func (c *core) busy() float64 {
	win := c.d.end - c.d.from
	if win <= 0 {
		return 0
	}
	return min(1, max(0, 1-float64(c.idle)/float64(win)))
}

func (c *core) setRedial(f func(slot int32, k int64, churn bool)) { c.redial = f }

// newSession allocates from a block of sessions. Connections are set up
// among the dialing goroutines' garbage; allocated one by one, each session
// would pin a mostly empty heap span after the dial storm, which showed as
// ~3 KiB of resident memory per held connection instead of ~0.2.
func (c *core) newSession() *session {
	if n := len(c.free); n > 0 {
		s := c.free[n-1]
		c.free = c.free[:n-1]
		*s = session{}
		return s
	}
	if len(c.slab) == 0 {
		c.slab = make([]session, 256)
	}
	s := &c.slab[0]
	c.slab = c.slab[1:]
	return s
}

func (c *core) recorder() *recorder { return c.rec }

// timeout is how long the engine may sleep: until the next timer (plus
// the slack, so timers due close together fire in one wake-up), the end of
// the current second (to hand its interval over) or the phase deadline.
func (c *core) timeout(now int64) int64 {
	next := c.rec.next
	if s, ok := c.timers.Peek(); ok && s.due.At+c.slack < next {
		next = s.due.At + c.slack
	}
	if c.deadline > 0 && c.deadline < next {
		next = c.deadline
	}
	if c.churn.next > 0 && c.churn.next < next {
		next = c.churn.next
	}
	return max(next-now, 0)
}

func (c *core) handle(m loopMsg, now int64, add func(loopMsg) *session) {
	switch m.kind {
	case msgAdd:
		if c.recordDial(m.dial) {
			if s := add(m); s != nil {
				c.adopted(s, m.dial, now)
			}
		}
	case msgStart:
		c.start(m, now)
		if m.ack != nil {
			m.ack <- struct{}{}
		}
	case msgStop:
		if c.phase == phaseLoad && now < c.d.end {
			c.d.end, c.deadline = now, now
		}
	case msgRate:
		c.d.t0, c.d.rate = m.t0, m.rate
		for _, s := range c.all {
			if !s.closed {
				c.d.rampTo(s)
				c.schedule(s)
			}
		}
	}
}

// recordDial records an attempt's outcome; it reports whether a
// connection came of it. Reconnections are kept apart from the first
// attempts so handshake.* describes the initial connection storm.
func (c *core) recordDial(d dialed) bool {
	if d.looked {
		c.rec.record(mDNS, d.dnsNS)
	}
	switch {
	case d.cause != "" && d.churn:
		c.rec.failures["churn_"+d.cause]++
		c.rec.cur.errors++
	case d.cause != "" && d.reconnect:
		c.rec.failures["reconnect_"+d.cause]++
		c.rec.cur.errors++
	case d.cause != "":
		c.rec.fail(d.cause)
	case d.reconnect:
		c.rec.record(mReconnect, d.shakeNS)
		c.rec.reopened(d.backend, !d.churn)
		return true
	default:
		c.rec.record(mConnect, d.connectNS)
		c.rec.record(mHandshake, d.shakeNS)
		c.rec.opened(d.backend)
		c.rec.agreed(d.agreed)
		return true
	}
	if d.cause != causeDNS { // an attempt whose lookup failed never dialed
		c.rec.record(mHandshakeFail, d.shakeNS)
	}
	return false
}

func (c *core) adopted(s *session, d dialed, now int64) {
	s.openedAt, s.slot = now, -1
	if a := d.agreed; a.deflate {
		s.z = &deflateState{sendTakeover: a.sendTakeover, recvTakeover: a.recvTakeover}
		s.dec.Deflate = true
	}
	if d.reconnect {
		s.slot, s.k = d.slot, d.k
	}
	c.compact()
	c.all = append(c.all, s)
	c.open++
	if c.phase == phaseLoad {
		c.startSession(s, now)
	}
	if len(d.rest) > 0 {
		c.consume(s, d.rest, now)
		c.flush(s, now)
	}
}

func (c *core) start(m loopMsg, now int64) {
	c.d.t0, c.d.from, c.d.end, c.d.loading, c.d.rate = m.t0, m.from, m.end, true, m.rate
	c.rec.setGrid(m.grid)
	c.phase, c.deadline = phaseLoad, m.end
	c.slotNext = int32(m.slotBase)
	c.churnStart(m.t0)
	for _, s := range c.all {
		if !s.closed {
			c.startSession(s, now)
		}
	}
}

func (c *core) startSession(s *session, now int64) {
	if s.slot < 0 {
		s.slot = c.slotNext
		c.slotNext++
	}
	c.d.begin(s, now)
	c.schedule(s)
	c.flush(s, now)
}

// received handles bytes read from s, then writes what they produced.
func (c *core) received(s *session, data []byte, now int64) {
	c.consume(s, data, now)
	c.flush(s, now)
}

// consume decodes every complete frame in data (after any bytes carried
// over from the last read) and keeps the incomplete rest.
func (c *core) consume(s *session, data []byte, now int64) {
	b := data
	if len(s.in) > 0 {
		s.in = append(s.in, data...)
		b = s.in
	}
	for len(b) > 0 && !s.closed {
		msg, n, err := s.dec.Decode(b)
		if err != nil {
			c.protocolError(s, err, now)
			return
		}
		if n == 0 {
			break
		}
		b = b[n:]
		switch {
		case msg.Op == ws.OpClose:
			c.peerClosed(s, msg.Payload, now)
			return
		case msg.Op == 0: // a fragment; the message is not complete yet
		case s.z != nil && s.dec.Compressed():
			if !c.inflated(s, msg, now) {
				return
			}
		default:
			c.d.message(s, msg, now)
			c.schedule(s)
		}
	}
	if !s.closed {
		keep(s, b)
	}
}

// inflated handles a compressed message: inflated (a text message's
// UTF-8 checked now that it can be read), then as any other. It reports
// false when the message failed the connection.
func (c *core) inflated(s *session, msg frame.Message, now int64) bool {
	p, err := s.z.inflater().Inflate(msg.Payload)
	if err == nil && msg.Op == ws.OpText && !utf8.Valid(p) {
		err = frame.ErrTextUTF8
	}
	if err != nil {
		c.protocolError(s, err, now)
		return false
	}
	msg.Payload = p
	c.d.message(s, msg, now)
	c.schedule(s)
	return true
}

// keep stores the undecoded tail of the last read. A buffer that grew
// large is dropped once empty, so idle connections stay small.
func keep(s *session, rest []byte) {
	switch {
	case len(rest) == 0 && cap(s.in) > 4096:
		s.in = nil
	case len(rest) == 0:
		s.in = s.in[:0]
	case len(s.in) > 0 && &rest[0] == &s.in[len(s.in)-len(rest)]:
		s.in = s.in[:copy(s.in, rest)]
	default:
		s.in = append(s.in[:0], rest...)
	}
}

func (c *core) protocolError(s *session, err error, now int64) {
	code := ws.StatusProtocolError
	var fe *frame.Error
	if errors.As(err, &fe) {
		code = fe.Code
	}
	s.out = frame.AppendClose(s.out[:0], code, "", ptr(c.d.mask()))
	c.flush(s, now)
	c.end(s, now, fmt.Sprintf("protocol_%d", code))
}

// peerClosed answers a close frame from the server and ends the session.
func (c *core) peerClosed(s *session, payload []byte, now int64) {
	if s.closing {
		c.end(s, now, "") // the reply to our own close at the end of the run
		return
	}
	code, _ := frame.ParseClose(payload)
	s.out = frame.AppendClose(s.out[:0], code, "", ptr(c.d.mask()))
	c.flush(s, now)
	c.end(s, now, fmt.Sprintf("close_%d", code))
}

func (c *core) flush(s *session, now int64) {
	if s.closed || s.outWait || len(s.out) == 0 {
		return
	}
	n, err := c.io.write(s, s.out)
	switch {
	case n == len(s.out):
		s.out = s.out[:0]
		if cap(s.out) > 64<<10 {
			s.out = nil
		}
	case n > 0 || c.io.again(err):
		s.out = s.out[:copy(s.out, s.out[max(n, 0):])]
		c.io.waitWritable(s, true)
	default:
		c.end(s, now, causeOf(err))
	}
}

// writable is called when a socket that was full can take bytes again.
func (c *core) writable(s *session, now int64) {
	if s.closed {
		return
	}
	c.io.waitWritable(s, false)
	c.flush(s, now)
}

// schedule puts s in the timer heap at s.due.At, or takes it out when that
// is 0 (no timer).
func (c *core) schedule(s *session) {
	if s.due.At == 0 {
		c.timers.Remove(&s.due)
		return
	}
	c.timers.Set(s, &s.due)
}

func (c *core) runTimers(now int64) {
	c.churnDue(now)
	for {
		s, ok := c.timers.Peek()
		if !ok || s.due.At > now {
			return
		}
		c.timers.Remove(&s.due)
		if s.churned { // closed by churn, and the server never answered
			c.end(s, now, "")
			continue
		}
		c.d.timer(s, now)
		c.schedule(s)
		c.flush(s, now)
	}
}

// end closes s; outcome says how it ended. Connections the run closes at
// its end count as "open": they survived. So does one that ends any other
// way once the run has sent its close (a reset racing the close handshake
// at the end of a hold is not a drop during it). One the run closed for
// churn is "churned", and reopened while the load phase lasts.
func (c *core) end(s *session, now int64, outcome string) {
	if s.closed {
		return
	}
	switch {
	case s.churned:
		outcome = "churned"
	case s.closing:
		outcome = "open"
	}
	s.closed = true
	c.timers.Remove(&s.due)
	c.io.release(s)
	s.in, s.out = nil, nil
	c.open--
	c.ended++
	c.d.inflight -= int64(s.inflight)
	dropped := outcome != "open" && !s.churned
	c.rec.ended(now, s.openedAt, outcome, dropped)
	if dropped && c.d.p.kind != WorkloadHold {
		c.rec.failures["drop_"+outcome]++
	}
	if s.churned {
		c.rec.counts.Churned++
	}
	if (dropped || s.churned) && c.redial != nil && c.phase == phaseLoad && now < c.d.end {
		c.redial(s.slot, s.k, s.churned)
	}
}

// advance moves through the end-of-run phases: drain the replies in
// flight, then close every connection with a close handshake.
func (c *core) advance(now int64) {
	if c.phase == phaseLoad && now >= c.d.end {
		c.d.loading, c.d.draining = false, true
		c.phase, c.deadline = phaseDrain, now+c.drain
	}
	if c.phase == phaseDrain && (now >= c.deadline || c.d.inflight <= 0 || c.d.p.kind == WorkloadHold) {
		if c.d.p.kind != WorkloadHold {
			// Unanswered: in flight at the drain's end, or due and never
			// sent because the reply before them never came.
			n := c.d.inflight
			for _, s := range c.all {
				n += c.d.backlog(s)
			}
			if n > 0 {
				c.rec.failures["unanswered"] += n
			}
		}
		c.d.draining = false // replies from now on are late: not counted
		c.sendCloses(now)
		c.phase, c.deadline = phaseClose, now+closeWait
	}
	if c.phase == phaseClose && (now >= c.deadline || c.open == 0) {
		c.closeAll(now)
		c.phase = phaseDone
	}
}

func (c *core) sendCloses(now int64) {
	for _, s := range c.all {
		if s.closed || s.churned { // a churned one has sent its close already
			continue
		}
		s.closing = true
		s.due.At = 0
		c.schedule(s)
		s.out = frame.AppendClose(s.out, ws.StatusNormalClosure, "", ptr(c.d.mask()))
		c.flush(s, now)
	}
}

func (c *core) closeAll(now int64) {
	for _, s := range c.all {
		c.end(s, now, "open")
	}
	c.all = nil
}

// causeOf names a socket error as a connection outcome.
func causeOf(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, io.EOF):
		return "eof"
	}
	return "other"
}
