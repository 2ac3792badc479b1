//go:build linux

package loadgen

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/internal/sysio"
)

const readBufSize = 64 << 10

// epollLoop runs many connections on one goroutine: it waits for readiness
// with epoll instead of parking a goroutine (and a buffer) per connection,
// which is what lets one process hold 15,000 idle connections in a few KiB
// each, and it sends on timers with nanosecond timeouts (epoll_pwait2).
type epollLoop struct {
	core
	epfd   int
	waker  sysio.Waker // wakes the loop when inbox has messages
	inbox  chan loopMsg
	buf    []byte
	events []unix.EpollEvent
	byFD   []*session
	done   chan struct{}
	// watch is what every connection is watched for: readable, or only
	// the peer's FIN/RST for connections that never read (Options.NoRead).
	watch uint32
}

func newEpollLoop(d *driver, clk clock, drain, slack int64, noRead bool) (*epollLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("loadgen: epoll: %w", err)
	}
	waker, err := sysio.NewWaker()
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("loadgen: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(waker.Fd())}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, waker.Fd(), &ev); err != nil {
		unix.Close(epfd)
		waker.Close()
		return nil, fmt.Errorf("loadgen: epoll add eventfd: %w", err)
	}
	l := &epollLoop{
		epfd: epfd, waker: waker,
		inbox:  make(chan loopMsg, 1024),
		buf:    make([]byte, readBufSize),
		events: make([]unix.EpollEvent, 256),
		done:   make(chan struct{}),
		watch:  unix.EPOLLIN,
	}
	if noRead {
		l.watch = unix.EPOLLRDHUP
	}
	// Nothing refers to an ended session here (its descriptor's slot in
	// byFD is cleared), so churn can reuse them.
	l.core = core{io: l, d: d, rec: d.rec, clk: clk, drain: drain, slack: slack, reuse: true}
	return l, nil
}

// send queues m for the loop and wakes it. Once the loop has finished (a
// late reconnection), the connection in m is closed instead and send
// reports false.
func (l *epollLoop) send(m loopMsg) bool {
	select {
	case l.inbox <- m:
	case <-l.done:
		if m.kind == msgAdd && m.dial.cause == "" {
			unix.Close(m.fd)
		}
		return false
	}
	l.waker.Wake()
	return true
}

func (l *epollLoop) finished() <-chan struct{} { return l.done }

func (l *epollLoop) run() {
	// The kernel adds its own timer slack (50µs by default) to every
	// sleep; the loop's thread asks for none, so Options.TimerSlack is the
	// only one and a timer set 0 fires within microseconds.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
	defer close(l.done)
	defer unix.Close(l.epfd)
	defer l.waker.Close()
	for l.phase != phaseDone {
		now := l.clk.now()
		n, err := sysio.EpollWait(l.epfd, l.events, l.timeout(now))
		if err != nil {
			l.rec.failures["loop_error"]++
			l.closeAll(l.clk.now())
			break
		}
		woke := l.clk.now()
		l.waited(now, woke) // both clock reads were there already: no extra cost
		now = woke
		// Hand over the seconds that ended first, so that what happens
		// at now is recorded in now's interval (a measurement window
		// that starts at now must not lose it to the warm-up's).
		l.rec.tick(now)
		for i := 0; i < n; i++ {
			l.event(l.events[i], now)
		}
		l.runTimers(now)
		l.rec.tick(now)
		l.advance(now)
	}
	l.rec.busy = l.busy()
	l.rec.finish()
}

func (l *epollLoop) event(ev unix.EpollEvent, now int64) {
	if int(ev.Fd) == l.waker.Fd() {
		l.waker.Clear()
		l.drainInbox(now)
		return
	}
	fd := int(ev.Fd)
	if fd >= len(l.byFD) || l.byFD[fd] == nil {
		return
	}
	s := l.byFD[fd]
	switch {
	case l.watch == unix.EPOLLRDHUP && ev.Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0:
		l.end(s, now, peerGone(int(s.fd), ev.Events))
		return
	case ev.Events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR) != 0:
		l.readable(s, now)
	}
	if ev.Events&unix.EPOLLOUT != 0 {
		l.writable(s, now)
	}
}

func (l *epollLoop) drainInbox(now int64) {
	for {
		select {
		case m := <-l.inbox:
			l.handle(m, now, l.register)
		default:
			return
		}
	}
}

// peerGone names how a connection that is not read from ended: a reset
// shows as a socket error, a close as the peer's FIN.
func peerGone(fd int, events uint32) string {
	if events&unix.EPOLLERR != 0 {
		if e, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); err == nil && e != 0 {
			return causeOf(unix.Errno(e))
		}
	}
	return "eof"
}

// register watches a new connection's descriptor.
func (l *epollLoop) register(m loopMsg) *session {
	ev := unix.EpollEvent{Events: l.watch, Fd: int32(m.fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, m.fd, &ev); err != nil {
		unix.Close(m.fd)
		l.rec.fail("other")
		return nil
	}
	for m.fd >= len(l.byFD) {
		l.byFD = append(l.byFD, make([]*session, len(l.byFD)+64)...)
	}
	s := l.newSession()
	s.fd = int32(m.fd)
	l.byFD[m.fd] = s
	return s
}

// readable reads until the socket is empty; a full buffer means there may
// be more, so it reads again rather than wait for another epoll round.
func (l *epollLoop) readable(s *session, now int64) {
	for !s.closed {
		n, err := sysio.Recv(int(s.fd), l.buf)
		switch {
		case n > 0:
			l.received(s, l.buf[:n], now)
			if n < len(l.buf) {
				return
			}
		case err == unix.EAGAIN:
			return
		case err == nil: // n == 0: the peer closed without a close frame
			l.end(s, now, "eof")
			return
		default:
			l.end(s, now, causeOf(err))
			return
		}
	}
}

func (l *epollLoop) write(s *session, p []byte) (int, error) { return sysio.Send(int(s.fd), p) }

func (l *epollLoop) again(err error) bool { return err == unix.EAGAIN }

func (l *epollLoop) waitWritable(s *session, on bool) {
	ev := unix.EpollEvent{Events: l.watch, Fd: s.fd}
	if on {
		ev.Events |= unix.EPOLLOUT
	}
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, int(s.fd), &ev)
	s.outWait = on
}

func (l *epollLoop) release(s *session) {
	l.byFD[s.fd] = nil
	unix.Close(int(s.fd))
}

const epollSupported = true

func newEngine(epoll bool, d *driver, clk clock, drain, slack int64, noRead bool) (engine, error) {
	if !epoll {
		return newGoroutineEngine(d, clk, drain, slack), nil
	}
	return newEpollLoop(d, clk, drain, slack, noRead)
}

// adopt runs on the dialing goroutine, so taking the descriptor out of
// Go's poller costs the loop nothing.
func (l *epollLoop) adopt(d dialed) bool {
	m := loopMsg{kind: msgAdd, dial: d}
	if d.conn != nil {
		// The loop owns the duplicate; closing the net.Conn makes Go's
		// netpoll forget the socket, so only the loop's epoll watches it.
		fd, err := sysio.DupFD(d.conn)
		d.conn.Close()
		if err != nil {
			m.dial.cause = classify(err)
		}
		m.fd = fd
	}
	return l.send(m)
}
