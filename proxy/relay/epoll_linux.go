package relay

import (
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/internal/sysio"
)

const epollSupported = true

// pumpBudget bounds the bytes one event moves in one direction before the
// poller turns to other tunnels; level-triggered epoll brings it back.
const pumpBudget = 1 << 20

// epollEngine owns the tunnels' descriptors outright: Start duplicates each
// socket's descriptor and closes the net.Conn, so Go's netpoller forgets it
// and the tunnel costs two descriptors and one small struct, with no
// goroutine, buffer or pipe while idle. Pollers, each one goroutine parked
// in Go's netpoller on its epoll descriptor, read and write inline for
// their share of the tunnels.
type epollEngine struct {
	cfg            *Config
	pollers        []*poller
	next           atomic.Uint32
	open, up, down atomic.Int64
	base           time.Time
	limitLogged    atomic.Bool
}

func newEpollEngine(cfg *Config) (*epollEngine, error) {
	e := &epollEngine{cfg: cfg, base: time.Now()}
	for i := 0; i < cfg.Pollers; i++ {
		p, err := newPoller(e)
		if err != nil {
			e.close()
			return nil, fmt.Errorf("relay: starting poller: %w", sysio.LimitErr(err))
		}
		e.pollers = append(e.pollers, p)
		go p.loop()
	}
	return e, nil
}

func (e *epollEngine) nanotime() int64 { return int64(time.Since(e.base)) }

// start hands a tunnel to a poller. It returns false, leaving the
// connections untouched, when their descriptors cannot be taken (not
// sockets, or no descriptor left to duplicate them into).
func (e *epollEngine) start(t Tunnel) bool {
	cfd, err := sysio.DupFD(t.Client)
	if err != nil {
		e.noteLimit(err)
		return false
	}
	bfd, err := sysio.DupFD(t.Backend)
	if err != nil {
		unix.Close(cfd)
		e.noteLimit(err)
		return false
	}
	t.Client.Close()
	t.Backend.Close()
	e.open.Add(1)
	p := e.pollers[int(e.next.Add(1))%len(e.pollers)]
	p.submit(&tunnel{fd: [2]int{cfd, bfd}, done: t.Done})
	return true
}

// noteLimit says, once, that tunnels are going to goroutines because the
// file limit leaves no descriptor to take theirs.
func (e *epollEngine) noteLimit(err error) {
	if sysio.IsFileLimit(err) && !e.limitLogged.Swap(true) {
		e.cfg.Logger.Warn("relay: "+sysio.LimitErr(err).Error()+"; tunnels that cannot get one are relayed by goroutines", "err", err)
	}
}

func (e *epollEngine) spliced() (n int64) {
	for _, p := range e.pollers {
		n += p.mv.spliced.Load()
	}
	return n
}

func (e *epollEngine) closeAll() {
	for _, p := range e.pollers {
		p.command(func(p *poller) { p.closeAll = true }, false)
	}
}

func (e *epollEngine) close() error {
	for _, p := range e.pollers {
		p.command(func(p *poller) { p.stop = true }, true)
	}
	for _, p := range e.pollers {
		<-p.done
	}
	return nil
}

// tunnel is one relayed connection pair, owned by one poller. Side 0 is the
// client, 1 the backend; dir[d] moves bytes from side d to side 1-d.
type tunnel struct {
	fd    [2]int
	reg   [2]uint32 // epoll events registered per side; 0 = not registered
	slot  uint32
	gen   uint32
	dir   [2]direction
	start int64
	last  [2]int64  // when bytes were last read from each side
	due   sysio.Due // when the timers must next be checked; in the poller's heap
	ended bool
	done  func(Result)
}

type direction struct {
	c         chunk
	blocked   bool  // the destination is full: waiting for EPOLLOUT
	blockedAt int64 // since the last write progress
	resumeAt  int64 // InjectDelay: the pending chunk is held until then; 0 if not
	eof       bool
	bytes     int64
}

// poller is one epoll instance and the goroutine that waits on it.
type poller struct {
	e      *epollEngine
	cfg    *Config
	epfd   int
	file   *os.File        // epfd, registered with Go's netpoller
	raw    syscall.RawConn // waits on file without blocking a thread
	waker  sysio.Waker     // wakes the loop for new tunnels and commands
	timer  sysio.Timer     // wakes the loop when the first timer is due
	mv     mover
	events []unix.EpollEvent
	done   chan struct{}

	mu       sync.Mutex
	inbox    []*tunnel
	cmds     []func(*poller)
	stopping bool // no more tunnels: Close has been called
	closeAll bool
	stop     bool

	// Owned by the loop goroutine.
	slots     []*tunnel
	free      []uint32
	gen       uint32
	timers    sysio.TimerHeap[*tunnel]
	now       int64
	waitUntil int64 // what timer is armed for; math.MaxInt64: disarmed
	more      bool  // poll before parking: readiness may be left unreported
	stopped   bool
}

// EpollEvent.Fd of the waker and of the timer; a tunnel's side is slot<<1|side.
const (
	wakeData  = -1
	timerData = -2
)

func newPoller(e *epollEngine) (p *poller, err error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	var closers []func() error
	defer func() {
		if err != nil {
			for _, c := range closers {
				c()
			}
		}
	}()
	closers = append(closers, func() error { return unix.Close(epfd) })
	waker, err := sysio.NewWaker()
	if err != nil {
		return nil, err
	}
	closers = append(closers, waker.Close)
	// The timer, not a read deadline on the epoll file, wakes the loop for
	// the first timer: Go's timers wake up to 1 ms late, and an
	// --inject-delay hold would be that much longer each way.
	timer, err := sysio.NewTimer()
	if err != nil {
		return nil, err
	}
	closers = append(closers, timer.Close)
	for _, w := range []struct {
		fd   int
		data int32
	}{{waker.Fd(), wakeData}, {timer.Fd(), timerData}} {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: w.data}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, w.fd, &ev); err != nil {
			return nil, err
		}
	}
	// The loop never blocks in epoll_wait: it parks in Go's netpoller,
	// which watches this epoll instance like any socket (an epoll fd is
	// readable when it has events). A thread blocked in epoll_wait would
	// have the runtime hand its P off and back around every wait, which
	// costs about as much CPU as the relaying itself at 10k messages/s.
	if err := unix.SetNonblock(epfd, true); err != nil {
		return nil, err
	}
	file := os.NewFile(uintptr(epfd), "epoll")
	closers[0] = file.Close
	raw, err := file.SyscallConn()
	if err != nil {
		return nil, err
	}
	p = &poller{e: e, cfg: e.cfg, epfd: epfd, file: file, raw: raw, waker: waker, timer: timer,
		events: make([]unix.EpollEvent, 128), done: make(chan struct{}), waitUntil: math.MaxInt64}
	p.mv = newMover(e.cfg, &pipePool{max: 4})
	p.mv.onPipeErr = e.noteLimit
	return p, nil
}

func (p *poller) submit(t *tunnel) {
	p.mu.Lock()
	if p.stopping {
		p.mu.Unlock()
		unix.Close(t.fd[0])
		unix.Close(t.fd[1])
		p.e.open.Add(-1)
		t.done(Result{End: EndShutdown})
		return
	}
	p.inbox = append(p.inbox, t)
	first := len(p.inbox) == 1 && len(p.cmds) == 0
	p.mu.Unlock()
	if first {
		p.waker.Wake()
	}
}

// command runs f on the loop goroutine; stopping refuses tunnels from now on.
func (p *poller) command(f func(*poller), stopping bool) {
	p.mu.Lock()
	if p.stopping {
		p.mu.Unlock()
		return
	}
	p.stopping = stopping
	p.cmds = append(p.cmds, f)
	first := len(p.inbox) == 0 && len(p.cmds) == 1
	p.mu.Unlock()
	if first {
		p.waker.Wake()
	}
}

func (p *poller) loop() {
	defer close(p.done)
	defer p.waker.Close()
	defer p.timer.Close()
	defer p.file.Close()
	for !p.stopped {
		err := p.raw.Read(p.step)
		if err != nil && !p.stopped {
			p.cfg.Logger.Error("relay: waiting on epoll failed; ending this poller's tunnels", "err", err)
			p.shutdown()
			return
		}
	}
}

// step runs on every wake of the netpoller's watch on the epoll fd (and
// first thing in each Read): take the ready events, handle them, run due
// timers. Returning false parks until the next wake. Every readiness change
// of a socket in the epoll set wakes that watch, and within one Read call a
// wake that arrives while step runs is kept, so parking right after a
// batch misses nothing new. What a batch can leave ready without a new
// wake is polled once more first (p.more): a full events array, a pump
// stopped by its budget, a splice that may have stopped short of the data,
// a delayed chunk written after its delay. A short read of a socket whose
// FIN had arrived is not among them: pump reads on to the EOF. The timer
// is one more descriptor in the set: its expiry is a wake like any other.
func (p *poller) step(fd uintptr) bool {
	for {
		n, err := sysio.EpollPoll(int(fd), p.events)
		if err != nil {
			p.cfg.Logger.Error("relay: epoll_wait failed; ending this poller's tunnels", "err", err)
			p.shutdown()
			return true
		}
		p.now = p.e.nanotime()
		p.more = n == len(p.events)
		p.dispatch(n)
		if p.stopped {
			return true
		}
		p.expire()
		if n == 0 || !p.more {
			p.setDeadline()
			return false
		}
	}
}

func (p *poller) dispatch(n int) {
	for i := 0; i < n && !p.stopped; i++ {
		ev := &p.events[i]
		switch ev.Fd {
		case wakeData:
			p.takeInbox() // a stop command sets p.stopped
			continue
		case timerData:
			p.timer.Clear() // expire, after the batch, runs what is due
			continue
		}
		slot, side := uint32(ev.Fd)>>1, int(ev.Fd&1)
		if t := p.slots[slot]; t != nil && t.gen == uint32(ev.Pad) {
			p.handle(t, side, ev.Events)
		}
	}
}

// takeInbox adopts new tunnels and runs commands; a stop command shuts the
// poller down (p.stopped).
func (p *poller) takeInbox() {
	p.waker.Clear()
	p.mu.Lock()
	inbox, cmds := p.inbox, p.cmds
	p.inbox, p.cmds = nil, nil
	p.mu.Unlock()
	for _, t := range inbox {
		p.adopt(t)
	}
	for _, f := range cmds {
		f(p)
	}
	if p.stop {
		p.shutdown()
		return
	}
	if p.closeAll {
		p.closeAll = false
		p.endAll(EndShutdown)
	}
}

// shutdown ends every tunnel and stops the loop; the loop closes the
// epoll, waker and timer descriptors once it is out of the netpoller's Read.
func (p *poller) shutdown() {
	p.stopped = true
	p.endAll(EndShutdown)
	p.mv.pipes.closeIdle()
}

func (p *poller) endAll(why End) {
	for _, t := range p.slots {
		if t != nil {
			p.end(t, why, nil)
		}
	}
}

func (p *poller) adopt(t *tunnel) {
	if n := len(p.free); n > 0 {
		t.slot = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		t.slot = uint32(len(p.slots))
		p.slots = append(p.slots, nil)
	}
	p.gen++
	t.gen = p.gen
	p.slots[t.slot] = t
	t.start, t.last = p.now, [2]int64{p.now, p.now}
	t.due.At = p.deadline(t)
	p.timers.Set(t, &t.due)
	p.setInterest(t, 0)
	p.setInterest(t, 1)
}

// handle reacts to readiness of one side's socket.
func (p *poller) handle(t *tunnel, side int, events uint32) {
	if events&unix.EPOLLERR != 0 {
		soerr, err := unix.GetsockoptInt(t.fd[side], unix.SOL_SOCKET, unix.SO_ERROR)
		if err == nil {
			err = syscall.Errno(soerr)
		}
		p.end(t, EndReset, ioErr(side, "socket", err))
		return
	}
	if events&(unix.EPOLLIN|unix.EPOLLHUP) != 0 && t.reg[side]&unix.EPOLLIN != 0 {
		p.pump(t, side, events&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0)
	}
	if events&(unix.EPOLLOUT|unix.EPOLLHUP) != 0 && !t.ended && t.dir[1-side].blocked {
		if p.flush(t, 1-side) {
			p.pump(t, 1-side, true)
		}
	}
}

// pump moves bytes from side d to the other side until the source is
// drained, the destination is full, or the budget is spent.
//
// A short read means the socket was drained when the event was reported:
// anything newer reports itself. Not so when the peer's FIN was already
// there (rdhup: read on to the EOF), nor for a splice, which can stop
// short at the pipe's slot count, nor at the budget: then p.more makes
// the loop poll again before it parks.
func (p *poller) pump(t *tunnel, d int, rdhup bool) {
	ds := &t.dir[d]
	for moved := 0; moved < pumpBudget && !t.ended && !ds.eof && ds.c.pending() == 0; {
		n, err := p.mv.fill(&ds.c, t.fd[d])
		switch {
		case err == unix.EAGAIN:
			return
		case err != nil:
			p.end(t, EndReset, ioErr(d, "read", err))
			return
		case n == 0:
			p.eof(t, d)
			return
		}
		moved += n
		if moved >= pumpBudget {
			p.more = true // still readable, and level-triggered epoll will not say so again
		}
		ds.bytes += int64(n)
		t.last[d] = p.now
		if d == 0 {
			p.e.up.Add(int64(n))
		} else {
			p.e.down.Add(int64(n))
		}
		if p.cfg.InjectDelay > 0 {
			ds.resumeAt = p.now + int64(p.cfg.InjectDelay)
			p.setInterest(t, d)
			p.reschedule(t, ds.resumeAt)
			return
		}
		if !p.flush(t, d) {
			return // blocked
		}
		if n < ds.c.want {
			p.more = p.more || ds.c.spliced // a splice may stop short of the data there
			if !rdhup {
				return
			}
		}
	}
}

// flush writes direction d's pending bytes. It reports whether they all
// went; if not, d waits for EPOLLOUT with the send timeout running.
func (p *poller) flush(t *tunnel, d int) bool {
	ds := &t.dir[d]
	progressed := false
	for ds.c.pending() > 0 {
		n, err := p.mv.drain(&ds.c, t.fd[1-d])
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			p.end(t, EndReset, ioErr(1-d, "write", err))
			return false
		}
		progressed = progressed || n > 0
	}
	if ds.c.pending() > 0 {
		if !ds.blocked || progressed {
			ds.blockedAt = p.now // progress re-arms the send timeout, as in nginx
			p.reschedule(t, ds.blockedAt+int64(p.cfg.SendTimeout))
		}
		if !ds.blocked {
			ds.blocked = true
			p.setInterest(t, 0)
			p.setInterest(t, 1)
		}
		return false
	}
	if ds.blocked {
		ds.blocked = false
		p.setInterest(t, 0)
		p.setInterest(t, 1)
	}
	return true
}

// eof passes a half-close on; the tunnel ends when both sides have.
func (p *poller) eof(t *tunnel, d int) {
	t.dir[d].eof = true
	if err := unix.Shutdown(t.fd[1-d], unix.SHUT_WR); err != nil {
		p.end(t, EndReset, ioErr(1-d, "shutdown", err))
		return
	}
	if t.dir[1-d].eof {
		p.end(t, EndClosed, nil)
		return
	}
	p.setInterest(t, d)
}

// setInterest registers what side i's socket must be watched for: input
// while its direction may read, output while the other direction is
// blocked on it. With no interest left the socket leaves the epoll set, so
// a level-triggered hang-up cannot spin the loop.
func (p *poller) setInterest(t *tunnel, i int) {
	if t.ended {
		return
	}
	var want uint32
	if !t.dir[i].eof && t.dir[i].c.pending() == 0 {
		want |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if t.dir[1-i].blocked {
		want |= unix.EPOLLOUT
	}
	if want == t.reg[i] {
		return
	}
	op := unix.EPOLL_CTL_MOD
	switch {
	case t.reg[i] == 0:
		op = unix.EPOLL_CTL_ADD
	case want == 0:
		op = unix.EPOLL_CTL_DEL
	}
	ev := unix.EpollEvent{Events: want, Fd: int32(t.slot<<1) | int32(i), Pad: int32(t.gen)}
	if err := unix.EpollCtl(p.epfd, op, t.fd[i], &ev); err != nil {
		p.end(t, EndReset, ioErr(i, "epoll_ctl", sysio.LimitErr(err)))
		return
	}
	t.reg[i] = want
}

// end closes both sockets and reports the tunnel.
func (p *poller) end(t *tunnel, why End, err error) {
	if t.ended {
		return
	}
	t.ended = true
	unix.Close(t.fd[0]) // closing the only descriptor also leaves the epoll set
	unix.Close(t.fd[1])
	p.mv.release(&t.dir[0].c)
	p.mv.release(&t.dir[1].c)
	p.slots[t.slot] = nil
	p.free = append(p.free, t.slot)
	p.timers.Remove(&t.due)
	p.e.open.Add(-1)
	t.done(Result{Up: t.dir[0].bytes, Down: t.dir[1].bytes, End: why, Err: err, Duration: time.Duration(p.now - t.start)})
}

// deadline is the earliest moment one of the tunnel's timers can fire.
func (p *poller) deadline(t *tunnel) int64 {
	due := p.cfg.Mode.lastActive(t.last[0], t.last[1]) + int64(p.cfg.ReadTimeout)
	if p.cfg.MaxLifetime > 0 {
		due = min(due, t.start+int64(p.cfg.MaxLifetime))
	}
	for d := range t.dir {
		ds := &t.dir[d]
		if ds.blocked {
			due = min(due, ds.blockedAt+int64(p.cfg.SendTimeout))
		}
		if ds.resumeAt != 0 {
			due = min(due, ds.resumeAt)
		}
	}
	return due
}

// reschedule brings a tunnel's check forward to at. Activity never needs
// one: a read timeout checked early finds the new deadline and waits again.
func (p *poller) reschedule(t *tunnel, at int64) {
	if at < t.due.At {
		t.due.At = at
		p.timers.Set(t, &t.due)
	}
}

// expire checks every tunnel whose timers may have fired.
func (p *poller) expire() {
	for t, ok := p.timers.Peek(); ok && t.due.At <= p.now; t, ok = p.timers.Peek() {
		p.check(t)
		if !t.ended {
			t.due.At = p.deadline(t)
			p.timers.Set(t, &t.due)
		}
	}
}

func (p *poller) check(t *tunnel) {
	now := p.now
	if p.cfg.MaxLifetime > 0 && now >= t.start+int64(p.cfg.MaxLifetime) {
		p.end(t, EndLifetime, nil)
		return
	}
	for d := range t.dir {
		if ds := &t.dir[d]; ds.blocked && now >= ds.blockedAt+int64(p.cfg.SendTimeout) {
			resetOnClose(t.fd[1-d])
			p.end(t, EndSendTimeout, nil)
			return
		}
	}
	if now >= p.cfg.Mode.lastActive(t.last[0], t.last[1])+int64(p.cfg.ReadTimeout) {
		p.end(t, EndReadTimeout, nil)
		return
	}
	for d := range t.dir {
		if ds := &t.dir[d]; ds.resumeAt != 0 && now >= ds.resumeAt {
			ds.resumeAt = 0
			if p.flush(t, d) {
				p.setInterest(t, d)
				p.more = true // bytes may be waiting with no new event to say so
			}
		}
	}
}

// setDeadline arms the timer for when the first tunnel timer is due.
func (p *poller) setDeadline() {
	var due int64 = math.MaxInt64
	if t, ok := p.timers.Peek(); ok {
		due = t.due.At
	}
	if due == p.waitUntil {
		return
	}
	p.waitUntil = due
	var err error
	if due == math.MaxInt64 {
		err = p.timer.Stop()
	} else {
		err = p.timer.Arm(time.Duration(due - p.e.nanotime()))
	}
	if err != nil { // EINVAL or EFAULT: a bug, not a condition to work around
		p.cfg.Logger.Error("relay: arming the poller's timer failed", "err", err)
	}
}

// resetOnClose makes closing fd send RST instead of FIN (SO_LINGER 0), as
// nginx's reset_timedout_connection does for a peer that stopped reading:
// a FIN would queue behind the bytes it never read, so it would never learn
// the tunnel ended, and the socket would hold that memory in FIN-WAIT-1.
func resetOnClose(fd int) {
	unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}
