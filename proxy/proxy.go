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
			if relay.IsFileLimit(err) {
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

// acceptAtLimit handles EMFILE from accept: the client waiting in the
// backlog gets a 503 through the descriptor kept in reserve for this, so it
// is answered instead of left hanging, and the loop slows down instead of
// spinning on an accept that keeps failing.
func (p *Proxy) acceptAtLimit(ln net.Listener, err error, backoff time.Duration) time.Duration {
	p.logLimit("accepting a client; answering 503", err)
	if p.reserve.release() {
		if c, aerr := ln.Accept(); aerr == nil {
			p.counters.outcomes[outFileLimit].Add(1)
			refuseNow(c, 503, "too many open files")
		}
	}
	p.reserve.open() // fails while at the limit; the next round tries again
	backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
	time.Sleep(backoff)
	return backoff
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
		p.log.Error("proxy: "+relay.LimitErr(err).Error()+": "+doing, "tunnels_open", p.relay.Open())
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
