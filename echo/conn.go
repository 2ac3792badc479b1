package echo

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/frame"
	"github.com/wsbench/wsbench/internal/sysio"
)

// lingerTimeout bounds how long a closing connection waits for the peer's
// FIN after our own, so the last frame or error response is not lost to a
// reset caused by unread input.
const lingerTimeout = 2 * time.Second

// errClosing is returned by write once a close frame went out: RFC 6455
// allows no data after it, so the write is dropped.
var errClosing = errors.New("echo: close frame already sent")

// conn is one connection. Its goroutine reads, decodes and answers; timers
// (pings, close_after) and the push sender write concurrently under mu.
type conn struct {
	s        *Server
	nc       net.Conn
	opts     options
	upgraded bool // guarded by s.mu

	// Read side, owned by the connection's goroutine.
	rc      syscall.RawConn       // nil when nc is not a socket (net.Pipe)
	readFn  func(fd uintptr) bool // c.rawRead, bound once
	dec     frame.Decoder
	rbuf    *buffer // nil while idle
	r, w    int     // rbuf.b[r:w] are received, unparsed bytes
	readN   int     // result of the last rawRead
	readErr error

	// Reply batch, owned by the connection's goroutine.
	wbuf      *buffer      // borrowed for one batch
	werr      error        // first write error of the batch
	failed    bool         // a protocol violation: closing with its code
	replyAt   time.Time    // ?delay: replies of this batch leave no earlier
	wait      sysio.Waiter // ?delay: holds the replies until replyAt, on a timerfd (Go timers wake up to 1 ms late)
	in, inB   uint64       // data messages and payload bytes read in this batch
	out, outB uint64       // replies appended since the last write

	// permessage-deflate, when the handshake agreed it: inflate what the
	// client compressed, compress its echo. nil otherwise.
	inflater *frame.Inflater
	deflater *frame.Deflater
	zbuf     []byte // a compressed reply before it is framed

	mu         sync.Mutex // guards writes to nc and the fields below
	closeSent  bool
	closed     bool
	ctl        [2 + 125]byte // a control frame written by a timer
	ping       time.Duration
	pingTimer  *time.Timer
	closeTimer *time.Timer
	pushStop   chan struct{}
	pushDone   chan struct{}
}

// handshake upgrades the connection, sends the hello if asked and keeps the
// bytes that came after the request. It reports whether to go on.
func (c *conn) handshake() bool {
	c.nc.SetDeadline(time.Now().Add(c.s.cfg.HandshakeTimeout))
	h, err := c.s.upgrade(c.nc)
	if err != nil {
		var he *HandshakeError
		errors.As(err, &he)
		c.s.reject(he.Status)
		c.s.log.Debug("handshake failed", "remote", c.nc.RemoteAddr(), "err", err)
		c.lingerClose()
		return false
	}
	c.opts = h.opts
	if p := h.deflate; p != nil {
		c.inflater = frame.NewInflater(!p.ClientNoContextTakeover, c.s.cfg.MaxMessage)
		c.deflater = frame.NewDeflater(!p.ServerNoContextTakeover)
	}
	if ahead := h.readAhead(); len(ahead) > 0 {
		c.rbuf = c.borrow(len(ahead))
		c.w = copy(c.rbuf.b, ahead)
	}
	if c.opts.hello {
		msg := h.hello()
		if _, err := c.nc.Write(frame.AppendFrame(nil, ws.OpText, msg, nil)); err != nil {
			c.nc.Close()
			if c.rbuf != nil {
				c.releaseRead()
			}
			return false
		}
	}
	c.nc.SetDeadline(time.Time{})
	c.s.upgraded(c)
	return true
}

// serve runs the connection until it closes.
func (c *conn) serve() {
	c.dec = frame.Decoder{Server: true, MaxMessage: c.s.cfg.MaxMessage, Deflate: c.inflater != nil}
	if sc, ok := c.nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			c.rc, c.readFn = rc, c.rawRead
		}
	}
	c.startTimers()
	var err error
	for {
		if c.w > c.r {
			if c.process() {
				c.end()
				return
			}
			c.compact()
		}
		if err != nil {
			break
		}
		err = c.fill()
	}
	// The peer went away without a close handshake, or did not answer ours
	// within the drain time (read deadline).
	c.s.log.Debug("connection ended", "remote", c.nc.RemoteAddr(), "err", err)
	c.nc.Close()
	c.finish()
}

// end closes the socket after a close frame went out. After a completed
// close handshake the peer sends nothing more, so the socket is closed at
// once, as RFC 6455 7.1.1 wants of a server. After a protocol violation
// unread input is likely, so the close lingers.
func (c *conn) end() {
	if c.failed {
		c.lingerClose()
	} else {
		c.nc.Close()
	}
	c.finish()
}

// fill reads what is available into the read buffer.
func (c *conn) fill() error {
	if c.rc != nil {
		if err := c.rc.Read(c.readFn); err != nil {
			return err
		}
		c.w += c.readN
		return c.readErr
	}
	if c.rbuf == nil {
		c.rbuf = c.borrow(minBuffer)
	}
	n, err := c.nc.Read(c.rbuf.b[c.w:])
	c.w += n
	return err
}

// rawRead is the RawConn read function. It reads without waiting; when
// nothing is there and nothing is buffered it gives the buffer back before
// the goroutine parks, so an idle connection holds no buffer. Returning false
// makes the runtime wait for readability and call it again.
func (c *conn) rawRead(fd uintptr) bool {
	if c.rbuf == nil {
		c.rbuf = c.borrow(minBuffer)
	}
	for {
		n, err := sysio.Recv(int(fd), c.rbuf.b[c.w:])
		switch {
		case err == unix.EAGAIN:
			if c.r == c.w {
				c.releaseRead()
			}
			return false
		case err != nil:
			c.readN, c.readErr = 0, os.NewSyscallError("read", err)
		case n == 0:
			c.readN, c.readErr = 0, io.EOF
		default:
			c.readN, c.readErr = n, nil
		}
		return true
	}
}

// borrow and giveBack count the buffers connections hold (Stats.Buffers).
func (c *conn) borrow(n int) *buffer {
	c.s.st.buffers.Add(1)
	return getBuffer(n)
}

func (c *conn) giveBack(b *buffer) {
	c.s.st.buffers.Add(-1)
	putBuffer(b)
}

func (c *conn) releaseRead() {
	c.giveBack(c.rbuf)
	c.rbuf, c.r, c.w = nil, 0, 0
}

// compact moves a partial frame to the front of the read buffer and grows
// the buffer when the frame (Decoder.Pending) does not fit.
func (c *conn) compact() {
	if c.r == c.w {
		c.r, c.w = 0, 0
		if len(c.rbuf.b) > minBuffer { // a large message is done: don't keep its buffer
			c.releaseRead()
		}
		return
	}
	if c.r > 0 {
		c.w = copy(c.rbuf.b, c.rbuf.b[c.r:c.w])
		c.r = 0
	}
	need := max(c.dec.Pending(), c.w+1) // room for at least one more byte
	if need > len(c.rbuf.b) {
		nb := c.borrow(need)
		copy(nb.b, c.rbuf.b[:c.w])
		c.giveBack(c.rbuf)
		c.rbuf = nb
	}
}

// process handles every complete frame in the read buffer and sends all the
// replies in one write. It reports whether the connection is closing.
func (c *conn) process() (closing bool) {
	if c.opts.stall > 0 { // stallLeft is 0 otherwise: skip the clock read
		if left := stallLeft(time.Now(), c.opts.stall, c.opts.stallEvery); left > 0 {
			time.Sleep(left)
		}
	}
	if c.opts.delay > 0 {
		c.replyAt = time.Now().Add(c.opts.delay)
	}
	c.wbuf = c.borrow(minBuffer)
	o := c.wbuf.b[:0]
	for !closing && c.werr == nil {
		msg, n, err := c.dec.Decode(c.rbuf.b[c.r:c.w])
		if err != nil {
			o, closing = c.fail(o, err), true
			break
		}
		if n == 0 {
			break
		}
		c.r += n
		o, closing = c.handle(o, msg)
	}
	c.flush(o, closing)
	c.giveBack(c.wbuf)
	c.wbuf = nil
	c.s.st.msgsIn.Add(c.in)
	c.s.st.bytesIn.Add(c.inB)
	c.in, c.inB = 0, 0
	return closing || c.werr != nil
}

// handle appends the reply to one message, if any, and reports whether the
// message was a close (or a protocol error the connection closes on).
func (c *conn) handle(o []byte, msg frame.Message) ([]byte, bool) {
	l := len(msg.Payload)
	switch msg.Op {
	case ws.OpText, ws.OpBinary:
		compressed := c.dec.Compressed()
		if compressed {
			p, err := c.inflate(msg)
			if err != nil {
				return c.fail(o, err), true
			}
			msg.Payload, l = p, len(p)
		}
		c.in++
		c.inB += uint64(l)
		if c.opts.workload != WorkloadEcho {
			return o, false
		}
		if compressed { // the echo goes back the way the message came
			return c.appendCompressed(o, msg), false
		}
		o = c.reserve(o, frame.HeaderLen(int64(l), false)+l)
		o = frame.AppendFrame(o, msg.Op, msg.Payload, nil)
		c.out++
		c.outB += uint64(l)
	case ws.OpPing:
		o = c.reserve(o, 2+l)
		o = frame.AppendFrame(o, ws.OpPong, msg.Payload, nil)
	case ws.OpClose:
		// Echo the peer's status code; an empty close gets an empty close.
		code, _ := frame.ParseClose(msg.Payload)
		if code == ws.StatusNoStatusRcvd {
			code = 0
		}
		o = c.reserve(o, 4)
		return frame.AppendClose(o, code, "", nil), true
	}
	return o, false
}

// inflate returns a compressed message's payload, checking a text
// message's UTF-8 now that it can be read.
func (c *conn) inflate(msg frame.Message) ([]byte, error) {
	p, err := c.inflater.Inflate(msg.Payload)
	if err == nil && msg.Op == ws.OpText && !utf8.Valid(p) {
		err = frame.ErrTextUTF8
	}
	return p, err
}

// appendCompressed appends msg's echo compressed, with RSV1 set.
func (c *conn) appendCompressed(o []byte, msg frame.Message) []byte {
	c.zbuf = c.deflater.Append(c.zbuf[:0], msg.Payload)
	if cap(c.zbuf) > 64<<10 { // one large message must not pin its buffer
		defer func() { c.zbuf = nil }()
	}
	z := int64(len(c.zbuf))
	o = c.reserve(o, frame.HeaderLen(z, false)+len(c.zbuf))
	o = frame.AppendHeader(o, ws.Header{Fin: true, Rsv: frame.Compressed, OpCode: msg.Op, Length: z})
	o = append(o, c.zbuf...)
	c.out++
	c.outB += uint64(len(msg.Payload))
	return o
}

// fail appends the close frame a protocol violation calls for.
func (c *conn) fail(o []byte, err error) []byte {
	code, reason := ws.StatusProtocolError, err.Error()
	var fe *frame.Error
	if errors.As(err, &fe) {
		code, reason = fe.Code, fe.Reason
	}
	c.failed = true
	c.s.log.Debug("closing on protocol error", "remote", c.nc.RemoteAddr(), "code", int(code), "err", err)
	o = c.reserve(o, 2+125)
	return frame.AppendClose(o, code, reason, nil)
}

// reserve makes room for need more bytes in the batch, writing out what is
// there or borrowing a bigger buffer, so append never reallocates.
func (c *conn) reserve(o []byte, need int) []byte {
	if len(o)+need <= cap(o) {
		return o
	}
	c.flush(o, false)
	if need > len(c.wbuf.b) {
		c.giveBack(c.wbuf)
		c.wbuf = c.borrow(need)
	}
	return c.wbuf.b[:0]
}

// flush writes the batch o; hasClose says it ends with a close frame.
func (c *conn) flush(o []byte, hasClose bool) {
	if len(o) == 0 {
		return
	}
	if !c.replyAt.IsZero() {
		if d := time.Until(c.replyAt); d > 0 {
			c.wait.Sleep(d)
		}
	}
	err := c.write(o, hasClose)
	if err == nil {
		c.s.st.msgsOut.Add(c.out)
		c.s.st.bytesOut.Add(c.outB)
	}
	c.out, c.outB = 0, 0
	if err != nil && err != errClosing && c.werr == nil {
		c.werr = err
	}
}

// write sends b unless a close frame already went out.
func (c *conn) write(b []byte, hasClose bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent || c.closed {
		return errClosing
	}
	_, err := c.nc.Write(b)
	if hasClose {
		c.closeSent = true
	}
	return err
}

// closeWith starts a server-side close handshake: it sends a close frame
// and gives the peer Config.Drain to answer before the read fails.
func (c *conn) closeWith(code ws.StatusCode, reason string) {
	c.mu.Lock()
	if c.closeSent || c.closed {
		c.mu.Unlock()
		return
	}
	c.closeSent = true
	_, err := c.nc.Write(frame.AppendClose(c.ctl[:0], code, reason, nil))
	c.mu.Unlock()
	if err != nil {
		c.nc.Close()
		return
	}
	c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.Drain))
}

func (c *conn) startTimers() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ping = c.s.cfg.PingInterval
	if c.opts.pingSet {
		c.ping = c.opts.ping
	}
	if c.ping > 0 {
		c.pingTimer = time.AfterFunc(c.ping, c.sendPing)
	}
	if c.opts.closeAfter > 0 {
		c.closeTimer = time.AfterFunc(c.opts.closeAfter, func() { c.closeWith(c.opts.closeCode, "close_after") })
	}
	if c.opts.workload == WorkloadPush {
		c.pushStop, c.pushDone = make(chan struct{}), make(chan struct{})
		p := newPusher(c, c.opts.rate, c.opts.size)
		go func() {
			defer close(c.pushDone)
			p.run(c.pushStop)
		}()
	}
}

func (c *conn) sendPing() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent || c.closed {
		return
	}
	if _, err := c.nc.Write(frame.AppendFrame(c.ctl[:0], ws.OpPing, nil, nil)); err != nil {
		return
	}
	c.pingTimer.Reset(c.ping)
}

// lingerClose sends our FIN, waits (bounded) for the peer's, then closes.
// Closing with unread input would send a reset that can destroy the last
// frame or error response before the peer reads it.
func (c *conn) lingerClose() {
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		c.nc.SetReadDeadline(time.Now().Add(lingerTimeout))
		var buf [512]byte
		for {
			if _, err := c.nc.Read(buf[:]); err != nil {
				break
			}
		}
	}
	c.nc.Close()
}

// finish stops the timers and the push sender and returns the buffers.
func (c *conn) finish() {
	c.mu.Lock()
	c.closed = true
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	if c.closeTimer != nil {
		c.closeTimer.Stop()
	}
	c.mu.Unlock()
	if c.pushStop != nil {
		close(c.pushStop)
		<-c.pushDone
	}
	if c.rbuf != nil {
		c.releaseRead()
	}
	c.wait.Close()
}
