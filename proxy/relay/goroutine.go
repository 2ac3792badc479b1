package relay

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/internal/sysio"
)

// goEngine relays each tunnel with two goroutines parked in Go's netpoller.
// Waiting goes through syscall.RawConn, so a parked direction holds no
// buffer and no pipe: they are borrowed only once the socket is readable.
// It is the portable engine, and the Epoll engine's fallback when it cannot
// take a tunnel's descriptors (at the file limit).
type goEngine struct {
	cfg            *Config
	mv             mover
	open, up, down atomic.Int64

	mu      sync.Mutex
	tunnels map[*goTunnel]struct{}
}

func newGoEngine(cfg *Config) *goEngine {
	e := &goEngine{cfg: cfg, tunnels: map[*goTunnel]struct{}{}}
	e.mv = newMover(cfg, &pipePool{max: 16})
	return e
}

type goTunnel struct {
	e     *goEngine
	conn  [2]net.Conn
	raw   [2]syscall.RawConn
	start time.Time
	last  [2]atomic.Int64 // ns after start of the last bytes read from each side
	// blocked counts directions waiting on a full destination: the send
	// timeout, not the read timeout, judges a tunnel then (as in the Epoll
	// engine), so a stalled reader is reset rather than sent a FIN.
	blocked atomic.Int32
	bytes   [2]int64 // each written only by its direction's goroutine
	done    func(Result)
	timer   *time.Timer // MaxLifetime

	mu      sync.Mutex
	ended   bool
	end     End
	err     error
	running atomic.Int32
}

func (e *goEngine) start(t Tunnel) {
	g := &goTunnel{e: e, conn: [2]net.Conn{t.Client, t.Backend}, start: time.Now(), done: t.Done}
	for i, c := range g.conn {
		sc, ok := c.(syscall.Conn)
		var err error
		if ok {
			g.raw[i], err = sc.SyscallConn()
		}
		if !ok || err != nil {
			t.Client.Close()
			t.Backend.Close()
			t.Done(Result{End: EndReset, Err: fmt.Errorf("relay: %s connection %T has no file descriptor to relay", sideName[i], c)})
			return
		}
	}
	e.open.Add(1)
	e.mu.Lock()
	e.tunnels[g] = struct{}{}
	e.mu.Unlock()
	if e.cfg.MaxLifetime > 0 {
		g.timer = time.AfterFunc(e.cfg.MaxLifetime, func() { g.finish(EndLifetime, nil) })
	}
	g.running.Store(2)
	go g.pipe(0)
	go g.pipe(1)
}

func (e *goEngine) closeAll() {
	e.mu.Lock()
	all := make([]*goTunnel, 0, len(e.tunnels))
	for g := range e.tunnels {
		all = append(all, g)
	}
	e.mu.Unlock()
	for _, g := range all {
		g.finish(EndShutdown, nil)
	}
}

// finish ends the tunnel for the first reason given; closing both
// connections wakes the goroutine still waiting.
func (g *goTunnel) finish(end End, err error) {
	g.mu.Lock()
	first := !g.ended
	if first {
		g.ended, g.end, g.err = true, end, err
	}
	g.mu.Unlock()
	if first {
		g.conn[0].Close()
		g.conn[1].Close()
	}
}

func (g *goTunnel) isEnded() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ended
}

// exit runs as each direction's goroutine returns; the last one reports.
func (g *goTunnel) exit() {
	if g.running.Add(-1) > 0 {
		return
	}
	g.finish(EndClosed, nil) // both directions saw EOF: a clean end
	if g.timer != nil {
		g.timer.Stop()
	}
	e := g.e
	e.mu.Lock()
	delete(e.tunnels, g)
	e.mu.Unlock()
	e.open.Add(-1)
	g.done(Result{Up: g.bytes[0], Down: g.bytes[1], End: g.end, Err: g.err, Duration: time.Since(g.start)})
}

// pipe relays from side src to the other side until EOF, error or a timeout.
func (g *goTunnel) pipe(src int) {
	defer g.exit()
	d := newGoDir(g, src)
	defer g.e.mv.release(&d.c)
	defer d.hold.Close()
	dst := d.dst
	cfg := g.e.cfg
	g.conn[src].SetReadDeadline(g.start.Add(cfg.ReadTimeout))
	for {
		n, err := d.read()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if g.idleExpired() {
				g.finish(EndReadTimeout, nil)
				return
			}
			continue // the other direction moved bytes; idleExpired re-armed us
		}
		if err != nil {
			g.finish(EndReset, ioErr(src, "read", err))
			return
		}
		if n == 0 {
			g.closeWrite(dst)
			return
		}
		g.last[src].Store(int64(time.Since(g.start)))
		g.bytes[src] += int64(n)
		g.count(src, n)
		if cfg.InjectDelay > 0 {
			d.hold.Sleep(cfg.InjectDelay)
		}
		if err := d.write(); err != nil {
			end := EndReset
			if errors.Is(err, os.ErrDeadlineExceeded) {
				end, err = EndSendTimeout, nil
				if tc, ok := g.conn[dst].(*net.TCPConn); ok {
					tc.SetLinger(0) // RST, not a FIN queued behind unread bytes: see resetOnClose
				}
			}
			g.finish(end, err)
			return
		}
	}
}

func (g *goTunnel) count(src, n int) {
	if src == 0 {
		g.e.up.Add(int64(n))
	} else {
		g.e.down.Add(int64(n))
	}
}

// goDir is one direction's chunk and the callbacks its goroutine hands
// the RawConns, bound once for the direction's life rather than built as
// escaping closures for every chunk relayed.
type goDir struct {
	g        *goTunnel
	src, dst int
	c        chunk
	n        int   // fillFD's result
	ferr     error // fillFD's error
	werr     error // drainFD's last error
	fillFn   func(fd uintptr) bool
	drainFn  func(fd uintptr) bool
	ctlFn    func(fd uintptr)
	hold     sysio.Waiter // InjectDelay: holds each chunk, opened at the first
}

func newGoDir(g *goTunnel, src int) *goDir {
	d := &goDir{g: g, src: src, dst: 1 - src}
	d.fillFn, d.drainFn, d.ctlFn = d.fillFD, d.drainFD, d.controlFD
	return d
}

func (d *goDir) fillFD(fd uintptr) bool {
	d.n, d.ferr = d.g.e.mv.fill(&d.c, int(fd))
	return !errors.Is(d.ferr, unix.EAGAIN)
}

func (d *goDir) drainFD(fd uintptr) bool {
	for d.c.pending() > 0 {
		if _, d.werr = d.g.e.mv.drain(&d.c, int(fd)); d.werr != nil {
			return !errors.Is(d.werr, unix.EAGAIN)
		}
	}
	return true
}

func (d *goDir) controlFD(fd uintptr) { d.drainFD(fd) }

// read waits until src is readable, then fills the chunk.
func (d *goDir) read() (int, error) {
	d.n, d.ferr = 0, nil
	if err := d.g.raw[d.src].Read(d.fillFn); err != nil {
		return 0, err
	}
	return d.n, d.ferr
}

// write drains the chunk into dst. The first attempt goes straight to the
// socket; only a write that would block arms the send timeout and waits.
func (d *goDir) write() error {
	g, dst := d.g, d.dst
	d.werr = nil
	if err := g.raw[dst].Control(d.ctlFn); err != nil {
		return err
	}
	if d.c.pending() == 0 || (d.werr != nil && !errors.Is(d.werr, unix.EAGAIN)) {
		return wrapWrite(dst, d.werr)
	}
	g.blocked.Add(1)
	g.conn[dst].SetWriteDeadline(time.Now().Add(g.e.cfg.SendTimeout))
	err := g.raw[dst].Write(d.drainFn)
	g.conn[dst].SetWriteDeadline(time.Time{})
	g.blocked.Add(-1)
	if err != nil {
		return err
	}
	return wrapWrite(dst, d.werr)
}

func wrapWrite(dst int, err error) error {
	if err == nil {
		return nil
	}
	return ioErr(dst, "write", err)
}

// idleExpired reports whether the read timeout has passed since the last
// bytes that count (either side, or the backend's in Upstream mode). If not,
// it moves this direction's read deadline to when it would.
func (g *goTunnel) idleExpired() bool {
	if g.isEnded() {
		return true
	}
	cfg := g.e.cfg
	last := cfg.Mode.lastActive(g.last[0].Load(), g.last[1].Load())
	deadline := g.start.Add(time.Duration(last) + cfg.ReadTimeout)
	now := time.Now()
	if g.blocked.Load() > 0 {
		deadline = now.Add(cfg.ReadTimeout)
	} else if !now.Before(deadline) {
		return true
	}
	for _, c := range g.conn {
		c.SetReadDeadline(deadline)
	}
	return false
}

// closeWrite passes a half-close on: the source finished sending, so the
// destination gets a FIN; the other direction goes on.
func (g *goTunnel) closeWrite(dst int) {
	if cw, ok := g.conn[dst].(interface{ CloseWrite() error }); ok {
		if err := cw.CloseWrite(); err != nil && !g.isEnded() {
			g.finish(EndReset, ioErr(dst, "shutdown", err))
		}
		return
	}
	g.finish(EndClosed, nil)
}
