package proxy

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/internal/tcptest"
	"github.com/wsbench/wsbench/internal/testwait"
	"github.com/wsbench/wsbench/proxy/relay"
	"github.com/wsbench/wsbench/wire"
)

// backend is an in-process echo server on 127.0.0.1:0.
type backend struct {
	srv  *echo.Server
	addr string
	id   string
}

func startBackend(t testing.TB, id string, cfg echo.Config) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveBackend(t, ln, id, cfg)
}

func serveBackend(t testing.TB, ln net.Listener, id string, cfg echo.Config) *backend {
	cfg.ID = id
	srv := echo.New(cfg)
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &backend{srv: srv, addr: ln.Addr().String(), id: id}
}

func upstreams(bs ...*backend) []Upstream {
	us := make([]Upstream, len(bs))
	for i, b := range bs {
		us[i] = Upstream{Addr: b.addr}
	}
	return us
}

// testLogger sends the proxy's log lines to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// startProxy serves a Proxy on 127.0.0.1:0 and shuts it down at cleanup.
func startProxy(t testing.TB, cfg Config) (*Proxy, string) {
	t.Helper()
	if cfg.Logger == nil && testing.Verbose() {
		cfg.Logger = testLogger(t)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- p.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p.Shutdown(ctx)
		if err := <-served; err != ErrClosed {
			t.Errorf("Serve returned %v, want ErrClosed", err)
		}
	})
	return p, ln.Addr().String()
}

const wsKey = "dGhlIHNhbXBsZSBub25jZQ=="

// upgradeRequest is a valid handshake for path with extra header lines.
func upgradeRequest(path string, headers ...string) string {
	var b strings.Builder
	b.WriteString("GET " + path + " HTTP/1.1\r\nHost: front.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
	b.WriteString("Sec-WebSocket-Key: " + wsKey + "\r\nSec-WebSocket-Version: 13\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// client is a raw WebSocket client: it speaks the handshake itself, so
// tests control every byte.
type client struct {
	net.Conn
	br   *bufio.Reader
	resp *http.Response
	t    testing.TB
}

type dialOpts struct {
	local   string // source address, e.g. 127.0.1.7
	rcvbuf  int
	request string // the whole request; default upgradeRequest(path, headers...)
	headers []string
	extra   []byte // sent in the same write as the request
}

func dial(t testing.TB, addr string, o dialOpts) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if o.local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(o.local)}
	}
	if o.rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, o.rcvbuf) })
			return serr
		}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ask sends a request to the proxy at addr and reads the response
// head. The status may be anything; check c.resp.
func ask(t testing.TB, addr, path string, o dialOpts) *client {
	t.Helper()
	c := dial(t, addr, o)
	req := o.request
	if req == "" {
		req = upgradeRequest(path, o.headers...)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(append([]byte(req), o.extra...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the handshake response: %v", err)
	}
	c.SetDeadline(time.Time{})
	return &client{Conn: c, br: br, resp: resp, t: t}
}

// open is an ask that must succeed.
func open(t testing.TB, addr, path string, o dialOpts) *client {
	t.Helper()
	c := ask(t, addr, path, o)
	if c.resp.StatusCode != 101 {
		body, _ := io.ReadAll(c.resp.Body)
		t.Fatalf("handshake: %s %q, want 101", c.resp.Status, body)
	}
	return c
}

func (c *client) backend() string { return c.resp.Header.Get(wire.BackendHeader) }

func (c *client) send(op ws.OpCode, payload []byte) error {
	return ws.WriteFrame(c, ws.MaskFrame(ws.NewFrame(op, true, payload)))
}

func (c *client) read(within time.Duration) (ws.Frame, error) {
	c.SetReadDeadline(time.Now().Add(within))
	defer c.SetReadDeadline(time.Time{})
	return ws.ReadFrame(c.br)
}

// echoes sends a text message and expects it back.
func (c *client) echoes(msg string) {
	c.t.Helper()
	if err := c.send(ws.OpText, []byte(msg)); err != nil {
		c.t.Fatal(err)
	}
	f, err := c.read(10 * time.Second)
	if err != nil || string(f.Payload) != msg {
		c.t.Fatalf("echo of %q: got %q, %v", msg, f.Payload, err)
	}
}

// waitClosed reads until the connection ends and says how long it took.
func (c *client) waitClosed(limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	c.SetReadDeadline(start.Add(limit))
	_, err := io.Copy(io.Discard, c.br)
	if err != nil && isTimeout(err) {
		return time.Since(start), false
	}
	return time.Since(start), true
}

// tripwire is a backend address that fails the test if anything connects.
func tripwire(t testing.TB) string {
	return tcptest.Serve(t, func(c net.Conn) {
		t.Errorf("a backend connection was made from %v", c.RemoteAddr())
	})
}

// deadAddr is a loopback port nobody listens on (connection refused).
func deadAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// blackhole is a loopback listener whose accept queue is full: further
// SYNs are dropped, so a connect to it hangs until its timeout.
func blackhole(t testing.TB) string {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*unix.SockaddrInet4).Port))
	for i := 0; i < 4; i++ { // fill the queue; later attempts time out
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			t.Cleanup(func() { c.Close() })
		}
	}
	return addr
}

// silent is a backend that accepts and never answers.
func silent(t testing.TB) string {
	return tcptest.Serve(t, func(c net.Conn) { io.Copy(io.Discard, c) })
}

// answering is a backend that answers every request with resp and closes.
func answering(t testing.TB, resp string) string {
	return tcptest.Serve(t, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		io.WriteString(c, resp)
	})
}

// variants are the relay paths every tunnel test runs on.
func variants() []struct {
	name string
	cfg  Config
} {
	return []struct {
		name string
		cfg  Config
	}{
		{"epoll/splice", Config{Engine: relay.Epoll}},
		{"epoll/copy", Config{Engine: relay.Epoll, Copy: true}},
		{"goroutines/splice", Config{Engine: relay.Goroutines}},
		{"goroutines/copy", Config{Engine: relay.Goroutines, Copy: true}},
	}
}

// forEachVariant runs f on every relay path at once (the tests mostly
// wait on timeouts; t.Run may be called from several goroutines).
func forEachVariant(t *testing.T, f func(t *testing.T, cfg Config)) {
	var wg sync.WaitGroup
	for _, v := range variants() {
		wg.Go(func() { t.Run(v.name, func(t *testing.T) { f(t, v.cfg) }) })
	}
	wg.Wait()
}

// concurrently runs named subtests at once.
func concurrently(t *testing.T, names []string, f func(t *testing.T, i int)) {
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { t.Run(name, func(t *testing.T) { f(t, i) }) })
	}
	wg.Wait()
}

// waitFor is testwait.For, under the name this package's tests use.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, what, cond)
}
