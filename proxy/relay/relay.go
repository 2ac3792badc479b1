package relay

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sync/atomic"
	"time"
)

// Defaults for zero Config fields, as nginx's (proxy_buffer_size 4k,
// proxy_read_timeout and proxy_send_timeout 60s).
const (
	DefaultBufferSize  = 4 << 10
	DefaultReadTimeout = 60 * time.Second
	DefaultSendTimeout = 60 * time.Second
)

// Engine is how a Relay waits for bytes.
type Engine string

const (
	// Epoll waits with one epoll instance per poller for every tunnel, so
	// an idle tunnel holds its two sockets and a small struct, nothing
	// else. Linux only; the default there.
	Epoll Engine = "epoll"
	// Goroutines waits with two goroutines per tunnel in Go's netpoller,
	// borrowing pipes and buffers only while bytes move. Portable; the
	// default elsewhere.
	Goroutines Engine = "goroutines"
)

// Mode says which bytes re-arm the read timeout.
type Mode string

const (
	// Either re-arms the read timeout on bytes in either direction, as
	// nginx's handler for upgraded connections does (the default).
	Either Mode = "nginx"
	// Upstream re-arms it only on bytes from the backend.
	Upstream Mode = "upstream"
)

// lastActive is when the last bytes that re-arm the read timeout were read,
// given when each side last sent: the backend's, or the later of the two in
// Either mode.
func (m Mode) lastActive(client, backend int64) int64 {
	if m == Either {
		return max(client, backend)
	}
	return backend
}

// Config configures a Relay. The zero value relays with splice on Linux,
// 60 s read and send timeouts, no lifetime limit.
type Config struct {
	Engine      Engine        // "" → Epoll on Linux, Goroutines elsewhere
	Copy        bool          // copy through BufferSize buffers instead of splice(2)
	BufferSize  int           // 0 → DefaultBufferSize; the copy path's chunk
	ReadTimeout time.Duration // 0 → DefaultReadTimeout; idle tunnel
	Mode        Mode          // "" → Either
	SendTimeout time.Duration // 0 → DefaultSendTimeout; a blocked write
	MaxLifetime time.Duration // 0 → none; absolute tunnel lifetime
	// InjectDelay holds every relayed chunk this long before writing it.
	// It exists to prove that a regression gate notices a slower proxy.
	InjectDelay time.Duration
	Pollers     int          // Epoll: 0 → one per 4 CPUs (GOMAXPROCS), at least 1
	Logger      *slog.Logger // nil → discard
}

// End says why a tunnel ended.
type End uint8

// Why tunnels end.
const (
	EndClosed      End = iota // both sides finished sending (FIN each way)
	EndReset                  // an I/O error on either side; Result.Err says which
	EndReadTimeout            // no bytes for ReadTimeout (as Mode counts them)
	EndSendTimeout            // a write blocked for SendTimeout
	EndLifetime               // MaxLifetime reached
	EndShutdown               // CloseAll or Close
)

var endNames = [...]string{"closed", "reset", "read_timeout", "send_timeout", "lifetime", "shutdown"}

func (e End) String() string {
	if int(e) < len(endNames) {
		return endNames[e]
	}
	return fmt.Sprintf("end(%d)", e)
}

// Result is how a tunnel went.
type Result struct {
	Up, Down int64 // bytes relayed client→backend and backend→client
	End      End
	Err      error // for EndReset
	Duration time.Duration
}

// Tunnel is an upgraded client connection and its backend connection.
type Tunnel struct {
	Client, Backend net.Conn
	// ToClient and ToBackend are written before anything is relayed: the
	// backend's 101 and the bytes each side sent right behind its head,
	// which the proxy read along with it. They are not counted in Result.
	ToClient, ToBackend []byte
	// Done is called once when the tunnel has ended and both connections
	// are closed, from the relay's goroutine (or from Start itself if the
	// first writes fail). It must not block.
	Done func(Result)
}

// Relay moves bytes both ways for many tunnels.
type Relay struct {
	cfg    Config
	ep     *epollEngine // nil with the Goroutines engine
	gr     *goEngine
	closed atomic.Bool
}

// New starts a Relay (for Epoll, its pollers).
func New(cfg Config) (*Relay, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	r := &Relay{cfg: cfg, gr: newGoEngine(&cfg)}
	if cfg.Engine == Epoll {
		ep, err := newEpollEngine(&cfg)
		if err != nil {
			return nil, err
		}
		r.ep = ep
	}
	return r, nil
}

func (c *Config) fill() error {
	if c.Engine == "" {
		c.Engine = Goroutines
		if epollSupported {
			c.Engine = Epoll
		}
	}
	switch {
	case c.Engine != Epoll && c.Engine != Goroutines:
		return fmt.Errorf("relay: engine %q: want %q or %q", c.Engine, Epoll, Goroutines)
	case c.Engine == Epoll && !epollSupported:
		return fmt.Errorf("relay: engine %q needs Linux, this is %s", Epoll, runtime.GOOS)
	case c.Mode != "" && c.Mode != Either && c.Mode != Upstream:
		return fmt.Errorf("relay: read timeout mode %q: want %q or %q", c.Mode, Either, Upstream)
	case c.BufferSize < 0 || c.ReadTimeout < 0 || c.SendTimeout < 0 || c.MaxLifetime < 0 || c.InjectDelay < 0 || c.Pollers < 0:
		return fmt.Errorf("relay: negative buffer size, timeout, delay or poller count in %+v", *c)
	}
	c.BufferSize = cmp.Or(c.BufferSize, DefaultBufferSize)
	c.ReadTimeout = cmp.Or(c.ReadTimeout, DefaultReadTimeout)
	c.SendTimeout = cmp.Or(c.SendTimeout, DefaultSendTimeout)
	// Each wake of a poller costs a trip through the Go scheduler, so fewer,
	// busier pollers spend less per message: one poller took 10-15% less
	// CPU per round trip than two on 2 cores at 10k round trips/s.
	c.Pollers = cmp.Or(c.Pollers, max(1, runtime.GOMAXPROCS(0)/4))
	if c.Mode == "" {
		c.Mode = Either
	}
	if !spliceSupported {
		c.Copy = true
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Start writes the tunnel's pending bytes and relays it until it ends. The
// Relay owns both connections from here on, whatever happens.
func (r *Relay) Start(t Tunnel) {
	if r.closed.Load() {
		t.Client.Close()
		t.Backend.Close()
		t.Done(Result{End: EndShutdown})
		return
	}
	if res, ok := r.writeFirst(&t); !ok {
		t.Client.Close()
		t.Backend.Close()
		t.Done(res)
		return
	}
	if r.ep != nil && r.ep.start(t) {
		return
	}
	r.gr.start(t)
}

// writeFirst writes ToClient and ToBackend with the send timeout.
func (r *Relay) writeFirst(t *Tunnel) (Result, bool) {
	for _, w := range []struct {
		c    net.Conn
		b    []byte
		side string
	}{{t.Client, t.ToClient, "client"}, {t.Backend, t.ToBackend, "backend"}} {
		if len(w.b) == 0 {
			continue
		}
		w.c.SetWriteDeadline(time.Now().Add(r.cfg.SendTimeout))
		_, err := w.c.Write(w.b)
		w.c.SetWriteDeadline(time.Time{})
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return Result{End: EndSendTimeout}, false
		}
		if err != nil {
			return Result{End: EndReset, Err: fmt.Errorf("relay: %s: write: %w", w.side, err)}, false
		}
	}
	return Result{}, true
}

// Open is the number of tunnels being relayed.
func (r *Relay) Open() int64 {
	n := r.gr.open.Load()
	if r.ep != nil {
		n += r.ep.open.Load()
	}
	return n
}

// Bytes is the number of bytes relayed so far, client→backend and
// backend→client, over every tunnel.
func (r *Relay) Bytes() (up, down int64) {
	up, down = r.gr.up.Load(), r.gr.down.Load()
	if r.ep != nil {
		up += r.ep.up.Load()
		down += r.ep.down.Load()
	}
	return up, down
}

// spliced is how many bytes went through splice(2) rather than a buffer.
func (r *Relay) spliced() int64 {
	n := r.gr.mv.spliced.Load()
	if r.ep != nil {
		n += r.ep.spliced()
	}
	return n
}

// CloseAll ends every open tunnel (EndShutdown); the Relay stays usable.
func (r *Relay) CloseAll() {
	r.gr.closeAll()
	if r.ep != nil {
		r.ep.closeAll()
	}
}

// Close ends every tunnel, refuses new ones, and stops the pollers.
func (r *Relay) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	r.gr.closeAll()
	if r.ep != nil {
		return r.ep.close()
	}
	return nil
}

// ioErr names the side and operation of an I/O error.
func ioErr(side int, op string, err error) error {
	return fmt.Errorf("relay: %s: %s: %w", sideName[side], op, err)
}

var sideName = [2]string{"client", "backend"}
