package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/internal/sysio"
	"github.com/wsbench/wsbench/proxy/balance"
	"github.com/wsbench/wsbench/proxy/relay"
	"github.com/wsbench/wsbench/proxy/upgrade"
)

// ErrClosed is what Serve returns once Shutdown has been called.
var ErrClosed = errors.New("proxy: closed")

// Proxy is a WebSocket reverse proxy.
type Proxy struct {
	cfg     Config
	log     *slog.Logger
	pool    atomic.Pointer[pool] // swapped only by the re-resolve
	relay   *relay.Relay
	hashKey keyFunc   // nil unless Balance is hash, the only method that reads Request.Key
	next    [600]bool // statuses in NextUpstream
	origins map[string]bool
	dialer  net.Dialer
	heads   sync.Pool // *[]byte of MaxHeaderBytes
	limits  limiter
	reserve reserveFD
	// limitBackoffs counts accept backoffs at the file limit that ran their
	// whole length, so tests can tell a prompt answer from a backoff.
	limitBackoffs atomic.Int64
	counters
	// stopping ends at the end of Shutdown's grace: handshakes still
	// waiting then (a slow client head, a backend that does not answer)
	// are cut short rather than hold Shutdown up for their timeouts.
	stopping context.Context
	abort    context.CancelFunc
	// stopResolve ends the background re-resolve, which closes resolved.
	stopResolve context.CancelFunc
	resolved    chan struct{}
	// See tidy.go.
	sinceTidy     atomic.Int64
	lastHandshake atomic.Int64 // Unix ns

	mu          sync.Mutex
	listeners   map[net.Listener]struct{}
	shutting    bool
	inFlight    sync.WaitGroup       // handshakes
	handshaking atomic.Int64         // the same, countable
	lastLimit   map[string]time.Time // last "too many open files" line, by what hit it
}

// New validates cfg, resolves the upstreams' host names and returns a
// Proxy ready to Serve.
func New(cfg Config) (*Proxy, error) {
	hk, err := cfg.fill()
	if err != nil {
		return nil, err
	}
	if cfg.Balance != balance.Hash {
		hk = nil
	}
	p := &Proxy{
		cfg: cfg, log: cfg.Logger, hashKey: hk,
		origins:   map[string]bool{},
		dialer:    net.Dialer{Timeout: cfg.ConnectTimeout},
		limits:    limiter{max: cfg.MaxConns, perIP: cfg.MaxConnsPerIP, byIP: map[netip.Addr]int{}},
		listeners: map[net.Listener]struct{}{},
		lastLimit: map[string]time.Time{},
		resolved:  make(chan struct{}),
	}
	p.relay, err = relay.New(relay.Config{
		Engine: cfg.Engine, Copy: cfg.Copy, BufferSize: cfg.BufferSize,
		ReadTimeout: cfg.ReadTimeout, Mode: cfg.ReadTimeoutMode, SendTimeout: cfg.SendTimeout,
		MaxLifetime: cfg.MaxLifetime, InjectDelay: cfg.InjectDelay, Pollers: cfg.Pollers, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	// Settings are checked before any lookup, so a bad one is reported as
	// such even when the names do not resolve.
	addrs, err := p.resolveAll()
	if err != nil {
		p.relay.Close()
		return nil, err
	}
	first, err := p.newPool(addrs, nil)
	if err != nil {
		p.relay.Close()
		return nil, err
	}
	p.pool.Store(first)
	size := cfg.MaxHeaderBytes
	p.heads.New = func() any { b := make([]byte, size); return &b }
	p.stopping, p.abort = context.WithCancel(context.Background())
	for _, st := range cfg.NextUpstream {
		p.next[st] = true
	}
	for _, o := range cfg.AllowedOrigins {
		p.origins[strings.ToLower(o)] = true
	}
	p.reserve.open()
	var resolving context.Context
	resolving, p.stopResolve = context.WithCancel(context.Background())
	if cfg.ResolveInterval > 0 && cfg.hasNames() {
		go p.reresolve(resolving)
	} else {
		close(p.resolved)
	}
	return p, nil
}

// Serve accepts clients on ln until Shutdown, which makes it return
// ErrClosed. Each client is served on its own goroutine until its
// handshake is done; the tunnel then belongs to the relay.
func (p *Proxy) Serve(ln net.Listener) error {
	p.mu.Lock()
	if p.shutting {
		p.mu.Unlock()
		ln.Close()
		return ErrClosed
	}
	p.listeners[ln] = struct{}{}
	p.mu.Unlock()
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if p.isShutting() {
				return ErrClosed
			}
			if sysio.IsFileLimit(err) {
				backoff = p.acceptAtLimit(ln, err, backoff)
				continue
			}
			if isTimeout(err) || errors.Is(err, syscall.ECONNABORTED) {
				continue // the client gave up while queued; not our problem
			}
			return fmt.Errorf("proxy: accept: %w", err)
		}
		backoff = 0
		if !p.track() {
			c.Close()
			return ErrClosed
		}
		go p.serveConn(c)
	}
}

// inFlightCount is the number of handshakes being served.
func (p *Proxy) inFlightCount() int64 { return p.handshaking.Load() }

// track counts a handshake in flight, unless shutting down.
func (p *Proxy) track() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shutting {
		return false
	}
	p.inFlight.Add(1)
	p.handshaking.Add(1)
	return true
}

func (p *Proxy) isShutting() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.shutting
}

// acceptAtLimit handles EMFILE (or ENFILE) from accept. Linux reports it
// before it looks at the backlog, so it says nothing about whether a client
// is waiting. Every client queued now is answered 503 at once through the
// descriptor kept in reserve (refuseQueued), unless the limit has cleared:
// then Accept takes them as usual. Then the loop waits for the next client
// or the backoff, whichever comes first, instead of spinning on an accept
// that fails at once; it holds no client while it waits, so one arriving
// after the limit cleared is served.
func (p *Proxy) acceptAtLimit(ln net.Listener, err error, backoff time.Duration) time.Duration {
	p.logLimit("accepting a client; answering 503", err)
	rc := rawListener(ln)
	if rc != nil {
		if refused, cleared := p.refuseQueued(rc); cleared || refused > 0 {
			return 0 // Accept again at once: the limit is gone, or more may have come
		}
	}
	backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
	if rc != nil && p.reserve.held() {
		if p.waitReadable(rc, backoff) {
			return backoff // a client came: answered (or served) now
		}
	} else {
		time.Sleep(backoff) // no way to answer: clients wait in the backlog
	}
	p.limitBackoffs.Add(1)
	return backoff
}

// refuseQueued answers 503 to every client waiting in ln's backlog while
// the limit lasts: each one is accepted without blocking into the
// descriptor the reserve frees, answered and closed before the next. It
// stops when none is left, when the freed descriptor went elsewhere, or
// when a descriptor beyond the reserve is free (the limit cleared).
func (p *Proxy) refuseQueued(rc syscall.RawConn) (refused int, cleared bool) {
	defer p.reserve.open()
	for {
		p.reserve.open()
		if spareFD() {
			return refused, true
		}
		// Free the reserve only for a client already waiting: freed for
		// nobody, a backend dial would take it.
		var fd int
		var aerr error
		if !backlogged(rc) || !p.reserve.release() {
			return refused, false
		}
		if err := rc.Control(func(lfd uintptr) { fd, _, aerr = unix.Accept4(int(lfd), unix.SOCK_CLOEXEC) }); err != nil {
			return refused, false
		}
		switch {
		case aerr == unix.ECONNABORTED || aerr == unix.EINTR:
			continue
		case aerr != nil: // EAGAIN: none waiting; EMFILE: the descriptor went elsewhere
			return refused, false
		}
		p.counters.outcomes[outFileLimit].Add(1)
		refuseFD(fd, 503, "too many open files")
		refused++
	}
}

// rawListener returns ln's descriptor, or nil for a listener that has
// none (then clients at the limit wait in the backlog).
func rawListener(ln net.Listener) syscall.RawConn {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// waitSlice bounds one poll(2) of waitReadable, which holds the listener:
// Shutdown's Close of it waits that long at most.
const waitSlice = 50 * time.Millisecond

// waitReadable waits until a client is in the backlog (true) or d passes
// or the proxy shuts down (false). Go's netpoller cannot wait on a
// listener without accepting, so it polls, a slice at a time.
func (p *Proxy) waitReadable(rc syscall.RawConn, d time.Duration) bool {
	for end := time.Now().Add(d); !p.isShutting(); {
		left := time.Until(end)
		if left <= 0 {
			return false
		}
		ms := int(min(left, waitSlice).Milliseconds()) + 1
		in := false
		err := rc.Control(func(fd uintptr) {
			n, _ := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, ms)
			in = n > 0
		})
		if in || err != nil {
			return in
		}
	}
	return false
}

// backlogged reports whether a client waits in the listener's backlog.
func backlogged(rc syscall.RawConn) bool {
	in := false
	rc.Control(func(fd uintptr) {
		n, _ := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 0)
		in = n > 0
	})
	return in
}

// logLimit says, at most once a second for each thing doing it, that the
// file limit was hit.
func (p *Proxy) logLimit(doing string, err error) {
	p.mu.Lock()
	now := time.Now()
	site, _, _ := strings.Cut(doing, " ")
	quiet := now.Sub(p.lastLimit[site]) < time.Second
	if !quiet {
		p.lastLimit[site] = now
	}
	p.mu.Unlock()
	if !quiet {
		p.log.Error("proxy: "+sysio.LimitErr(err).Error()+": "+doing, "tunnels_open", p.relay.Open())
	}
}

// Shutdown stops accepting, lets tunnels run for up to ShutdownGrace (or
// until ctx ends), then closes those left. It returns when every
// handshake and tunnel is gone.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.shutting = true
	for ln := range p.listeners {
		ln.Close()
	}
	p.mu.Unlock()
	p.stopResolve()
	<-p.resolved
	handshakes := make(chan struct{})
	go func() { p.inFlight.Wait(); close(handshakes) }()
	grace := time.NewTimer(p.cfg.ShutdownGrace)
	defer grace.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case <-grace.C:
			break wait
		case <-tick.C:
			if p.relay.Open() == 0 && isClosed(handshakes) {
				break wait
			}
		}
	}
	p.abort()       // handshakes still waiting on a client or a backend give up now
	p.relay.Close() // ends the tunnels left; handshakes still running get EndShutdown
	<-handshakes
	p.reserve.close()
	return ctx.Err()
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// limiter enforces MaxConns and MaxConnsPerIP over handshakes and tunnels.
type limiter struct {
	mu         sync.Mutex
	max, perIP int
	total      int
	byIP       map[netip.Addr]int
}

// acquire counts a connection from ip, or says which limit refuses it.
func (l *limiter) acquire(ip netip.Addr) (refused string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max > 0 && l.total >= l.max {
		return fmt.Sprintf("max conns (%d) reached", l.max)
	}
	if l.perIP > 0 && l.byIP[ip] >= l.perIP {
		return fmt.Sprintf("max conns per ip (%d) reached for %v", l.perIP, ip)
	}
	l.total++
	if l.perIP > 0 {
		l.byIP[ip]++
	}
	return ""
}

func (l *limiter) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.perIP > 0 {
		if l.byIP[ip]--; l.byIP[ip] <= 0 {
			delete(l.byIP, ip)
		}
	}
}

// keyFunc computes a request's hash key.
type keyFunc func(*upgrade.Request, netip.Addr) string

// hashKeyFunc compiles a HashKey spec.
func hashKeyFunc(spec string) (keyFunc, error) {
	kind, name, _ := strings.Cut(spec, ":")
	switch {
	case spec == "remote_addr":
		return func(_ *upgrade.Request, ip netip.Addr) string { return ip.String() }, nil
	case spec == "uri":
		return func(r *upgrade.Request, _ netip.Addr) string { return string(r.Target) }, nil
	case kind == "header" && name != "":
		return func(r *upgrade.Request, _ netip.Addr) string { v, _ := r.Get(name); return string(v) }, nil
	case kind == "query" && name != "":
		return func(r *upgrade.Request, _ netip.Addr) string { return queryValue(string(r.Target), name) }, nil
	}
	return nil, fmt.Errorf("proxy: HashKey %q: want header:NAME, query:NAME, uri or remote_addr", spec)
}
