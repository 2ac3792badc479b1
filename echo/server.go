package echo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/internal/sysio"
	"github.com/wsbench/wsbench/wire"
)

// Defaults used for zero Config fields.
const (
	DefaultMaxMessage       = 16 << 20
	DefaultDrain            = 5 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
)

// Config configures a Server. Its zero value is a working backend.
type Config struct {
	ID               string        // "" → os.Hostname()
	MaxMessage       int64         // 0 → DefaultMaxMessage; exceeded → close 1009
	PingInterval     time.Duration // 0 → no server pings (per-connection ?ping= overrides)
	AllowedOrigins   []string      // empty → any Origin; else others get 403
	Drain            time.Duration // 0 → DefaultDrain
	HandshakeTimeout time.Duration // 0 → 10s; slow/partial handshakes are cut off
	Logger           *slog.Logger  // nil → discard
	// Subprotocols are the subprotocols the backend speaks: of those a
	// client offers (Sec-WebSocket-Protocol) it selects the first that is
	// among them, or none. nil → wire.Subprotocol; empty → none at all.
	Subprotocols []string
	// NoCompression declines permessage-deflate; by default an offer of it
	// is accepted with the client's context-takeover parameters.
	NoCompression bool
}

// Stats are a Server's counters since New.
type Stats struct {
	Open        int64          // upgraded connections open now
	Handshakes  uint64         // 101 Switching Protocols sent
	Rejected    map[int]uint64 // handshakes answered with an error, by HTTP status
	Aborted     uint64         // handshakes that ended without a complete request (EOF, reset, timeout)
	MessagesIn  uint64         // data messages received (fragmented ones count once)
	MessagesOut uint64         // data messages sent: echoes and pushes
	BytesIn     uint64         // payload bytes of MessagesIn
	BytesOut    uint64         // payload bytes of MessagesOut
	Buffers     int64          // read and write buffers held now; idle connections hold none
}

type counters struct {
	open, buffers                      atomic.Int64
	handshakes, aborted                atomic.Uint64
	msgsIn, msgsOut, bytesIn, bytesOut atomic.Uint64
	lastFDLog                          atomic.Int64 // Unix ns of the last "too many open files" line
}

// Server is an RFC 6455 backend serving the echo, push and sink workloads.
type Server struct {
	cfg       Config
	id        string
	protocols []string
	header    ws.HandshakeHeaderString // "X-Wsbench-Backend: <id>\r\n"
	log       *slog.Logger
	origins   map[string]bool

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	rejected  map[int]uint64
	shutting  bool
	done      chan struct{} // closed when Shutdown starts
	drained   chan struct{} // closed once shutting with no connection left
	isDrained bool

	st counters
}

// New returns a Server for cfg, with defaults filled in.
func New(cfg Config) *Server {
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = DefaultMaxMessage
	}
	if cfg.Drain <= 0 {
		cfg.Drain = DefaultDrain
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.ID == "" {
		cfg.ID, _ = os.Hostname()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:       cfg,
		id:        headerSafe(cfg.ID),
		log:       cfg.Logger,
		origins:   map[string]bool{},
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
		rejected:  map[int]uint64{},
		done:      make(chan struct{}),
		drained:   make(chan struct{}),
	}
	if s.id == "" {
		s.id = "echo"
	}
	s.header = ws.HandshakeHeaderString(wire.BackendHeader + ": " + s.id + "\r\n")
	s.protocols = cfg.Subprotocols
	if s.protocols == nil {
		s.protocols = []string{wire.Subprotocol}
	}
	for _, o := range cfg.AllowedOrigins {
		s.origins[asciiLower(o)] = true
	}
	return s
}

// ID is the backend id sent in wire.BackendHeader and in hello messages.
func (s *Server) ID() string { return s.id }

// headerSafe replaces every byte that may not appear in a header value
// token (controls, space, non-ASCII) with '_', so an id cannot break the
// response.
func headerSafe(id string) string {
	b := []byte(id)
	for i, c := range b {
		if c <= ' ' || c > '~' {
			b[i] = '_'
		}
	}
	return string(b)
}

// Serve accepts connections on ln and serves each in its own goroutine
// until Shutdown, when it returns nil. When the process runs out of file
// descriptors it logs that (at most once a second) and backs off instead of
// spinning or giving up.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.shutting {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err == nil {
			backoff = 0
			go s.ServeConn(nc)
			continue
		}
		select {
		case <-s.done:
			return nil
		default:
		}
		if !retryable(err) {
			return fmt.Errorf("echo: accept on %s: %w", ln.Addr(), err)
		}
		backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
		s.logAcceptError(err, backoff)
		select {
		case <-s.done:
			return nil
		case <-time.After(backoff):
		}
	}
}

// retryable reports whether accept may succeed later: the process or system
// ran out of descriptors or buffers, or the error says it is temporary.
func retryable(err error) bool {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM, unix.ECONNABORTED:
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (s *Server) logAcceptError(err error, backoff time.Duration) {
	now := time.Now().UnixNano()
	last := s.st.lastFDLog.Load()
	if now-last < int64(time.Second) || !s.st.lastFDLog.CompareAndSwap(last, now) {
		return
	}
	if sysio.IsFileLimit(err) {
		s.log.Error(fmt.Sprintf("echo: %v; backing off %s (close connections or raise ulimit -n)",
			sysio.LimitErr(err), backoff), "open", s.st.open.Load())
		return
	}
	s.log.Error(fmt.Sprintf("echo: accept: %v; retrying in %s", err, backoff))
}

// ServeConn serves one connection, handshake included, and returns when it
// is closed. It takes ownership of c.
func (s *Server) ServeConn(nc net.Conn) {
	c := &conn{s: s, nc: nc}
	if !s.track(c) {
		nc.Close()
		return
	}
	defer s.untrack(c)
	if !c.handshake() {
		return
	}
	c.serve()
}

func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if c.upgraded {
		s.st.open.Add(-1)
	}
	if s.shutting && len(s.conns) == 0 && !s.isDrained {
		s.isDrained = true
		close(s.drained)
	}
}

// upgraded marks c open; a connection that completes its handshake while
// Shutdown runs is sent its close 1001 here, so none is missed.
func (s *Server) upgraded(c *conn) {
	s.st.handshakes.Add(1)
	s.st.open.Add(1)
	s.mu.Lock()
	c.upgraded = true
	shutting := s.shutting
	s.mu.Unlock()
	if shutting {
		go c.closeWith(ws.StatusGoingAway, "going away")
	}
}

func (s *Server) reject(status int) {
	if status == 0 {
		s.st.aborted.Add(1)
		return
	}
	s.mu.Lock()
	s.rejected[status]++
	s.mu.Unlock()
}

// Shutdown stops accepting, closes connections still in their handshake,
// sends close 1001 "going away" to every open connection and waits for them
// to finish the close handshake, up to Config.Drain or until ctx ends; then
// it closes whatever is left. It returns ctx's error if ctx ended first.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.shutting {
		s.shutting = true
		close(s.done)
		for ln := range s.listeners {
			ln.Close()
		}
		if len(s.conns) == 0 {
			s.isDrained = true
			close(s.drained)
		}
	}
	var open []*conn
	for c := range s.conns {
		if c.upgraded {
			open = append(open, c)
		} else {
			c.nc.Close()
		}
	}
	s.mu.Unlock()
	for _, c := range open {
		// In goroutines: a peer that does not read would block the write.
		go c.closeWith(ws.StatusGoingAway, "going away")
	}
	timer := time.NewTimer(s.cfg.Drain)
	defer timer.Stop()
	var err error
	select {
	case <-s.drained:
		return nil
	case <-timer.C:
	case <-ctx.Done():
		err = fmt.Errorf("echo: shutdown: %w", ctx.Err())
	}
	if n := s.closeAll(); n > 0 {
		s.log.Warn(fmt.Sprintf("echo: drain ended; closed %d connections that had not finished their close handshake", n))
	}
	// Closed sockets fail every pending read and write at once, so the
	// handlers exit promptly; the bound only guards against a stuck one.
	select {
	case <-s.drained:
	case <-time.After(time.Second):
	}
	return err
}

func (s *Server) closeAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.nc.Close()
	}
	return len(s.conns)
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Open:        s.st.open.Load(),
		Buffers:     s.st.buffers.Load(),
		Handshakes:  s.st.handshakes.Load(),
		Aborted:     s.st.aborted.Load(),
		MessagesIn:  s.st.msgsIn.Load(),
		MessagesOut: s.st.msgsOut.Load(),
		BytesIn:     s.st.bytesIn.Load(),
		BytesOut:    s.st.bytesOut.Load(),
		Rejected:    map[int]uint64{},
	}
	s.mu.Lock()
	for k, v := range s.rejected {
		st.Rejected[k] = v
	}
	s.mu.Unlock()
	return st
}

// originAllowed applies the allowlist; origins compare case-insensitively
// (scheme and host are case-insensitive in RFC 6454 serializations).
func (s *Server) originAllowed(origin string) bool {
	return len(s.origins) == 0 || s.origins[asciiLower(origin)]
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
