package relay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
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
			return nil, fmt.Errorf("relay: starting poller: %w", LimitErr(err))
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
	cfd, err := dupFD(t.Client)
	if err != nil {
		e.noteLimit(err)
		return false
	}
	bfd, err := dupFD(t.Backend)
	if err != nil {
		unix.Close(cfd)
		e.noteLimit(err)
		return false
	}
	t.Client.Close()
	t.Backend.Close()
	e.open.Add(1)
	p := e.pollers[int(e.next.Add(1))%len(e.pollers)]
	p.submit(&tunnel{fd: [2]int{cfd, bfd}, done: t.Done, hidx: -1})
	return true
}

// noteLimit says, once, that tunnels are going to goroutines because the
// file limit leaves no descriptor to take theirs.
func (e *epollEngine) noteLimit(err error) {
	if IsFileLimit(err) && !e.limitLogged.Swap(true) {
		e.cfg.Logger.Warn("relay: "+LimitErr(err).Error()+"; tunnels that cannot get one are relayed by goroutines", "err", err)
	}
}

// dupFD duplicates a socket's descriptor (close-on-exec, non-blocking like
// the original, sharing its open file description).
func dupFD(c net.Conn) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return -1, fmt.Errorf("relay: %T has no file descriptor", c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	cerr := rc.Control(func(s uintptr) { fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) })
	if cerr != nil {
		return -1, cerr
	}
	return fd, err
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
	last  [2]int64 // when bytes were last read from each side
	due   int64    // when the timers must next be checked
	hidx  int      // index in the poller's timer heap
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
	evfd   int             // eventfd: wakes the loop for new tunnels and commands
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
	timers    []*tunnel // min-heap on due
	now       int64
	waitUntil int64 // what file's read deadline is set to
	more      bool  // poll before parking: readiness may be left unreported
	stopped   bool
}

const wakeData = -1 // EpollEvent.Fd of the eventfd

func newPoller(e *epollEngine) (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: wakeData}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, err
	}
	// The loop never blocks in epoll_wait: it parks in Go's netpoller,
	// which watches this epoll instance like any socket (an epoll fd is
	// readable when it has events). A thread blocked in epoll_wait would
	// have the runtime hand its P off and back around every wait, which
	// costs about as much CPU as the relaying itself at 10k messages/s.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, err
	}
	file := os.NewFile(uintptr(epfd), "epoll")
	raw, err := file.SyscallConn()
	if err != nil {
		file.Close()
		unix.Close(evfd)
		return nil, err
	}
	p := &poller{e: e, cfg: e.cfg, epfd: epfd, file: file, raw: raw, evfd: evfd,
		events: make([]unix.EpollEvent, 128), done: make(chan struct{})}
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
		p.wake()
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
		p.wake()
	}
}

func (p *poller) wake() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	retry(func() (int, error) { return unix.Write(p.evfd, one[:]) })
}

func (p *poller) loop() {
	defer close(p.done)
	defer unix.Close(p.evfd)
	defer p.file.Close()
	for !p.stopped {
		p.setDeadline()
		err := p.raw.Read(p.step)
		switch {
		case p.stopped:
		case errors.Is(err, os.ErrDeadlineExceeded):
			p.now = p.e.nanotime()
			p.expire()
		case err != nil:
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
// FIN had arrived is not among them: pump reads on to the EOF.
func (p *poller) step(fd uintptr) bool {
	for {
		n, err := rawEpollPoll(int(fd), p.events)
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
		if ev.Fd == wakeData {
			p.takeInbox() // a stop command sets p.stopped
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
	var buf [8]byte
	retry(func() (int, error) { return unix.Read(p.evfd, buf[:]) })
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
// epoll and event descriptors once it is out of the netpoller's Read.
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
	t.due = p.deadline(t)
	p.heapPush(t)
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
		p.end(t, EndReset, ioErr(i, "epoll_ctl", LimitErr(err)))
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
	p.heapRemove(t)
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
	if at < t.due {
		t.due = at
		p.heapUp(t.hidx)
	}
}

// expire checks every tunnel whose timers may have fired.
func (p *poller) expire() {
	for len(p.timers) > 0 && p.timers[0].due <= p.now {
		t := p.timers[0]
		p.check(t)
		if !t.ended {
			t.due = p.deadline(t)
			p.heapDown(t.hidx)
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

// setDeadline makes the netpoller wake the loop when the first timer is due.
func (p *poller) setDeadline() {
	var due int64 = math.MaxInt64
	if len(p.timers) > 0 {
		due = p.timers[0].due
	}
	if due == p.waitUntil {
		return
	}
	p.waitUntil = due
	if due == math.MaxInt64 {
		p.file.SetReadDeadline(time.Time{})
		return
	}
	p.file.SetReadDeadline(p.e.base.Add(time.Duration(due)))
}

// The timer heap: a binary min-heap on tunnel.due, tunnel.hidx its index.

func (p *poller) heapPush(t *tunnel) {
	t.hidx = len(p.timers)
	p.timers = append(p.timers, t)
	p.heapUp(t.hidx)
}

func (p *poller) heapRemove(t *tunnel) {
	i := t.hidx
	if i < 0 {
		return
	}
	last := len(p.timers) - 1
	p.heapSwap(i, last)
	p.timers[last] = nil
	p.timers = p.timers[:last]
	t.hidx = -1
	if i < last {
		p.heapDown(i)
		p.heapUp(i)
	}
}

func (p *poller) heapUp(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if p.timers[parent].due <= p.timers[i].due {
			return
		}
		p.heapSwap(i, parent)
		i = parent
	}
}

func (p *poller) heapDown(i int) {
	n := len(p.timers)
	for {
		least, l, r := i, 2*i+1, 2*i+2
		if l < n && p.timers[l].due < p.timers[least].due {
			least = l
		}
		if r < n && p.timers[r].due < p.timers[least].due {
			least = r
		}
		if least == i {
			return
		}
		p.heapSwap(i, least)
		i = least
	}
}

func (p *poller) heapSwap(i, j int) {
	p.timers[i], p.timers[j] = p.timers[j], p.timers[i]
	p.timers[i].hidx = i
	p.timers[j].hidx = j
}
