package relay

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/internal/syncbuf"
	"github.com/wsbench/wsbench/internal/testenv"
	"github.com/wsbench/wsbench/internal/testwait"
)

// variant is one way of relaying; every behaviour test runs on each.
type variant struct {
	name string
	cfg  Config
}

func variants() []variant {
	vs := []variant{
		{"goroutines/copy", Config{Engine: Goroutines, Copy: true}},
	}
	if spliceSupported {
		vs = append(vs, variant{"goroutines/splice", Config{Engine: Goroutines}})
	}
	if epollSupported {
		vs = append(vs,
			variant{"epoll/copy", Config{Engine: Epoll, Copy: true}},
			variant{"epoll/splice", Config{Engine: Epoll}})
	}
	return vs
}

// forEach runs f for every variant at once. The timeout tests mostly wait,
// so they run concurrently whatever -parallel says (t.Run may be called
// from several goroutines).
func forEach(t *testing.T, f func(t *testing.T, cfg Config)) {
	var wg sync.WaitGroup
	for _, v := range variants() {
		wg.Go(func() { t.Run(v.name, func(t *testing.T) { f(t, v.cfg) }) })
	}
	wg.Wait()
}

func newRelay(t *testing.T, cfg Config) *Relay {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t testing.TB) (dialed, accepted *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := ln.Accept(); ch <- res{c, err} }()
	d, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	return d.(*net.TCPConn), r.c.(*net.TCPConn)
}

// tunnelEnds is a relayed tunnel seen from the outside: the client and the
// backend as their own peers see them, and the Result once it ends.
type tunnelEnds struct {
	client, backend *net.TCPConn
	result          chan Result
	started         time.Time
}

func open(t testing.TB, r *Relay, toClient, toBackend []byte) *tunnelEnds {
	t.Helper()
	client, proxyClient := tcpPair(t)
	proxyBackend, backend := tcpPair(t)
	te := &tunnelEnds{client: client, backend: backend, result: make(chan Result, 1), started: time.Now()}
	t.Cleanup(func() { client.Close(); backend.Close() })
	r.Start(Tunnel{Client: proxyClient, Backend: proxyBackend, ToClient: toClient, ToBackend: toBackend,
		Done: func(res Result) { te.result <- res }})
	return te
}

// wait returns the Result, failing if the tunnel is still open after limit.
func (te *tunnelEnds) wait(t *testing.T, limit time.Duration) (Result, time.Duration) {
	t.Helper()
	select {
	case res := <-te.result:
		return res, time.Since(te.started)
	case <-time.After(limit):
		t.Fatalf("tunnel still open after %v", limit)
		return Result{}, 0
	}
}

func (te *tunnelEnds) open(t *testing.T, after time.Duration) {
	t.Helper()
	select {
	case res := <-te.result:
		t.Fatalf("tunnel ended (%v, %v) after %v, want it open", res.End, res.Err, time.Since(te.started))
	case <-time.After(after):
	}
}

func readN(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("reading %d bytes: %v", n, err)
	}
	return b
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestRelaysBothWays(t *testing.T) {
	forEach(t, func(t *testing.T, cfg Config) {
		r := newRelay(t, cfg)
		te := open(t, r, nil, nil)
		var up, down int
		for _, n := range []int{1, 125, 4096, 65536 + 7, 3 << 20} {
			msg := random(n)
			go te.client.Write(msg)
			if got := readN(t, te.backend, n); !bytes.Equal(got, msg) {
				t.Fatalf("%d bytes client→backend arrived changed", n)
			}
			go te.backend.Write(msg)
			if got := readN(t, te.client, n); !bytes.Equal(got, msg) {
				t.Fatalf("%d bytes backend→client arrived changed", n)
			}
			up, down = up+n, down+n
		}
		if u, d := r.Bytes(); u != int64(up) || d != int64(down) {
			t.Errorf("Bytes() = %d, %d; want %d, %d", u, d, up, down)
		}
		te.client.Close()
		te.backend.Close()
		res, _ := te.wait(t, 5*time.Second)
		if res.Up != int64(up) || res.Down != int64(down) {
			t.Errorf("Result counts %d up %d down, want %d %d", res.Up, res.Down, up, down)
		}
		if r.Open() != 0 {
			t.Errorf("Open() = %d after the tunnel ended", r.Open())
		}
	})
}

// TestSpliceForBulkOnly: with splice on, small messages go through a
// buffer (cheaper than two splices for a few bytes) and bulk is spliced;
// with splice off nothing is.
func TestSpliceForBulkOnly(t *testing.T) {
	forEach(t, func(t *testing.T, cfg Config) {
		r := newRelay(t, cfg)
		te := open(t, r, nil, nil)
		for i := 0; i < 20; i++ {
			te.client.Write([]byte("small"))
			readN(t, te.backend, 5)
		}
		if n := r.spliced(); n != 0 {
			t.Fatalf("%d bytes of small messages spliced, want 0", n)
		}
		big := random(4 << 20)
		go te.client.Write(big)
		if got := readN(t, te.backend, len(big)); !bytes.Equal(got, big) {
			t.Fatal("4 MiB arrived changed")
		}
		n := r.spliced()
		switch {
		case cfg.Copy && n != 0:
			t.Errorf("copy path spliced %d bytes", n)
		case !cfg.Copy && n < int64(len(big))/2:
			t.Errorf("splice path spliced %d of %d bulk bytes, want most", n, len(big))
		}
	})
}

func TestReadAheadDeliveredFirst(t *testing.T) {
	forEach(t, func(t *testing.T, cfg Config) {
		r := newRelay(t, cfg)
		resp := []byte("HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello")
		ahead := []byte("\x81\x85abcd\x09\x04\x0f\x08\x0e") // a masked frame sent with the request
		te := open(t, r, resp, ahead)
		te.client.Write([]byte("next"))
		te.backend.Write([]byte("more"))
		if got := readN(t, te.backend, len(ahead)+4); !bytes.Equal(got, append(ahead, "next"...)) {
			t.Errorf("backend got %q, want the read-ahead bytes then the relayed ones", got)
		}
		if got := readN(t, te.client, len(resp)+4); !bytes.Equal(got, append(resp, "more"...)) {
			t.Errorf("client got %q, want the 101 and read-ahead, then the relayed bytes", got)
		}
		te.client.Close()
		te.backend.Close()
		res, _ := te.wait(t, 5*time.Second)
		if res.Up != 4 || res.Down != 4 {
			t.Errorf("Result counts %d/%d: the first writes must not be counted", res.Up, res.Down)
		}
	})
}

func TestHalfClose(t *testing.T) {
	forEach(t, func(t *testing.T, cfg Config) {
		r := newRelay(t, cfg)
		te := open(t, r, nil, nil)
		te.client.Write([]byte("last words"))
		te.client.CloseWrite()
		if got, err := io.ReadAll(deadline(te.backend)); err != nil || string(got) != "last words" {
			t.Fatalf("backend read %q, %v; want the bytes then EOF", got, err)
		}
		te.open(t, 100*time.Millisecond) // the other direction goes on
		te.backend.Write([]byte("reply after client's FIN"))
		if got := readN(t, te.client, 24); string(got) != "reply after client's FIN" {
			t.Fatalf("client read %q", got)
		}
		te.backend.CloseWrite()
		if got, err := io.ReadAll(deadline(te.client)); err != nil || len(got) != 0 {
			t.Fatalf("client read %q, %v; want EOF", got, err)
		}
		res, _ := te.wait(t, 5*time.Second)
		if res.End != EndClosed {
			t.Errorf("ended %v (%v), want closed", res.End, res.Err)
		}
	})
}

func deadline(c net.Conn) net.Conn {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return c
}

func TestResetEndsTunnel(t *testing.T) {
	forEach(t, func(t *testing.T, cfg Config) {
		r := newRelay(t, cfg)
		te := open(t, r, nil, nil)
		te.backend.SetLinger(0) // close sends RST
		te.backend.Close()
		res, _ := te.wait(t, 5*time.Second)
		if res.End != EndReset || res.Err == nil || !strings.HasPrefix(res.Err.Error(), "relay: backend: ") {
			t.Errorf("ended %v, %v; want reset naming the backend", res.End, res.Err)
		}
		if _, err := io.ReadAll(deadline(te.client)); err != nil && !errors.Is(err, io.EOF) && !isReset(err) {
			t.Errorf("client read after the tunnel ended: %v", err)
		}
	})
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "reset") }

// Timing tests assert generous bounds on behaviour, never speed: a timeout
// of 400 ms must not fire before 300 ms and must fire within a few seconds.
const (
	rt       = 400 * time.Millisecond
	earliest = 300 * time.Millisecond
	latest   = 3 * time.Second
)

func TestReadTimeout(t *testing.T) {
	tests := []struct {
		name     string
		mode     Mode
		talker   string // who sends every rt/4: "", "client", "backend"
		survives bool
	}{
		{"nginx/idle", Either, "", false},
		{"nginx/client talks", Either, "client", true},
		{"nginx/backend talks", Either, "backend", true},
		{"upstream/idle", Upstream, "", false},
		{"upstream/client talks", Upstream, "client", false},
		{"upstream/backend talks", Upstream, "backend", true},
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, tt := range tests {
		wg.Go(func() {
			t.Run(tt.name, func(t *testing.T) {
				forEach(t, func(t *testing.T, cfg Config) {
					cfg.ReadTimeout, cfg.Mode = rt, tt.mode
					r := newRelay(t, cfg)
					te := open(t, r, nil, nil)
					stop := make(chan struct{})
					defer close(stop)
					if tt.talker != "" {
						from, to := te.client, te.backend
						if tt.talker == "backend" {
							from, to = te.backend, te.client
						}
						go io.Copy(io.Discard, to)
						go func() {
							for {
								select {
								case <-stop:
									return
								case <-time.After(rt / 4):
									from.Write([]byte("ping"))
								}
							}
						}()
					}
					if tt.survives {
						te.open(t, 3*rt)
						return
					}
					res, took := te.wait(t, latest)
					if res.End != EndReadTimeout || took < earliest {
						t.Errorf("ended %v after %v, want read_timeout after at least %v", res.End, took, earliest)
					}
				})
			})
		})
	}
}

// TestSendTimeout: the relay's write to a client that stopped reading
// blocks; after SendTimeout the tunnel ends and the client is reset (a FIN
// would queue behind the bytes it never read). The read timeout, equal in
// one case, must not end it first with a FIN: no bytes move because the
// write is blocked, which is the send timeout's to judge.
func TestSendTimeout(t *testing.T) {
	for _, readTimeout := range []time.Duration{time.Minute, rt} {
		t.Run(fmt.Sprintf("read_timeout=%v", readTimeout), func(t *testing.T) {
			forEach(t, func(t *testing.T, cfg Config) {
				cfg.SendTimeout, cfg.ReadTimeout = rt, readTimeout
				r := newRelay(t, cfg)
				te := open(t, r, nil, nil)
				te.client.SetReadBuffer(4096) // the client never reads; its window fills fast
				go func() {
					chunk := make([]byte, 64<<10)
					for {
						if _, err := te.backend.Write(chunk); err != nil {
							return
						}
					}
				}()
				// The relay's write to the client blocks some time after the start
				// (once the buffers are full), then the send timeout runs.
				res, took := te.wait(t, latest)
				if res.End != EndSendTimeout || took < earliest {
					t.Errorf("ended %v (%v) after %v; want send_timeout after at least %v", res.End, res.Err, took, earliest)
				}
				if err := waitSocketError(te.client, time.Second); !errors.Is(err, unix.ECONNRESET) {
					t.Errorf("client socket error after the send timeout: %v, want %v (reset, not FIN)", err, unix.ECONNRESET)
				}
			})
		})
	}
}

// waitSocketError polls c's pending socket error (SO_ERROR) until one
// arrives or limit passes; a reset from the peer leaves ECONNRESET there.
func waitSocketError(c *net.TCPConn, limit time.Duration) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		var soerr int
		rc.Control(func(fd uintptr) { soerr, err = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR) })
		if err != nil {
			return err
		}
		if soerr != 0 {
			return unix.Errno(soerr)
		}
	}
	return nil
}

func TestMaxLifetime(t *testing.T) {
	forEach(t, func(t *testing.T, cfg Config) {
		cfg.MaxLifetime = rt
		r := newRelay(t, cfg)
		te := open(t, r, nil, nil)
		go io.Copy(io.Discard, te.backend)
		go func() {
			for i := 0; i < 100; i++ { // busy: the read timeout is not what ends it
				if _, err := te.client.Write([]byte("x")); err != nil {
					return
				}
				time.Sleep(rt / 10)
			}
		}()
		res, took := te.wait(t, latest)
		if res.End != EndLifetime || took < earliest {
			t.Errorf("ended %v after %v; want lifetime after at least %v", res.End, took, earliest)
		}
	})
}

func TestInjectDelay(t *testing.T) {
	forEach(t, func(t *testing.T, cfg Config) {
		const delay = 50 * time.Millisecond
		cfg.InjectDelay = delay
		r := newRelay(t, cfg)
		te := open(t, r, nil, nil)
		for i := 0; i < 3; i++ {
			start := time.Now()
			te.client.Write([]byte("ping"))
			readN(t, te.backend, 4)
			te.backend.Write([]byte("pong"))
			readN(t, te.client, 4)
			if rtt := time.Since(start); rtt < 2*delay {
				t.Fatalf("round trip took %v with a %v delay each way", rtt, delay)
			}
		}
	})
}

func TestCloseAllAndClose(t *testing.T) {
	forEach(t, func(t *testing.T, cfg Config) {
		r := newRelay(t, cfg)
		a, b := open(t, r, nil, nil), open(t, r, nil, nil)
		r.CloseAll()
		for _, te := range []*tunnelEnds{a, b} {
			if res, _ := te.wait(t, 5*time.Second); res.End != EndShutdown {
				t.Errorf("ended %v, want shutdown", res.End)
			}
		}
		c := open(t, r, nil, nil) // still usable after CloseAll
		c.client.Write([]byte("hi"))
		readN(t, c.backend, 2)
		r.Close()
		if res, _ := c.wait(t, 5*time.Second); res.End != EndShutdown {
			t.Errorf("ended %v on Close, want shutdown", res.End)
		}
		if res, _ := open(t, r, nil, nil).wait(t, 5*time.Second); res.End != EndShutdown {
			t.Errorf("Start after Close: %v, want shutdown", res.End)
		}
	})
}

func TestFirstWriteFailure(t *testing.T) {
	r := newRelay(t, Config{})
	client, proxyClient := tcpPair(t)
	proxyBackend, backend := tcpPair(t)
	defer backend.Close()
	client.SetLinger(0)
	client.Close()
	testwait.For(t, "the client's reset to arrive", func() bool { return resetArrived(t, proxyClient) })
	done := make(chan Result, 1)
	// Large enough that the write meets the RST instead of the buffer.
	r.Start(Tunnel{Client: proxyClient, Backend: proxyBackend, ToClient: make([]byte, 8<<20), Done: func(res Result) { done <- res }})
	res := <-done
	if res.End != EndReset || res.Err == nil || !strings.Contains(res.Err.Error(), "relay: client: write") {
		t.Errorf("got %v %v; want reset on the client write", res.End, res.Err)
	}
}

func TestNotASocket(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			r := newRelay(t, v.cfg)
			a, b := net.Pipe()
			done := make(chan Result, 1)
			r.Start(Tunnel{Client: a, Backend: b, Done: func(res Result) { done <- res }})
			res := <-done
			if res.End != EndReset || res.Err == nil || !strings.Contains(res.Err.Error(), "no file descriptor") {
				t.Errorf("got %v %v", res.End, res.Err)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Engine: "threads"}, `engine "threads"`},
		{Config{Mode: "downstream"}, `mode "downstream"`},
		{Config{ReadTimeout: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "relay: ") {
				t.Errorf("New(%+v) = %v, want an error about %s", tt.cfg, err, tt.want)
			}
		})
	}
}

// fdKinds counts this process's descriptors by kind ("socket", "pipe", …).
func fdKinds(t testing.TB) map[string]int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		testenv.Need(t, fmt.Errorf("counting descriptors needs /proc/self/fd: %w", err))
	}
	kinds := map[string]int{}
	for _, e := range ents {
		l, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue
		}
		kind, _, _ := strings.Cut(l, ":")
		kinds[kind]++
	}
	return kinds
}

// TestIdleTunnelHoldsOnlySockets: after traffic, an idle tunnel holds its
// two sockets and nothing else: no pipe (the pool's few idle ones are a
// constant, not per tunnel) and, with epoll, no goroutine.
func TestIdleTunnelHoldsOnlySockets(t *testing.T) {
	const n = 100
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			r := newRelay(t, v.cfg)
			warm := open(t, r, nil, nil) // fill the pools first
			warm.client.Write(random(1 << 20))
			readN(t, warm.backend, 1<<20)
			runtime.GC()
			before, gBefore := fdKinds(t), runtime.NumGoroutine()
			var tes []*tunnelEnds
			for i := 0; i < n; i++ {
				te := open(t, r, nil, nil)
				msg := random(100 << 10)
				go te.client.Write(msg)
				readN(t, te.backend, len(msg))
				tes = append(tes, te)
			}
			testwait.For(t, fmt.Sprintf("%d tunnels open", n+1), func() bool { return r.Open() == n+1 })
			after, gAfter := fdKinds(t), runtime.NumGoroutine()
			// Each tunnel: the test's two peers and the relay's two sockets.
			if d := after["socket"] - before["socket"]; d != 4*n {
				t.Errorf("%d idle tunnels added %d sockets, want %d", n, d, 4*n)
			}
			if d := after["pipe"] - before["pipe"]; d > 2*(4+16) {
				t.Errorf("%d idle tunnels added %d pipe descriptors, want at most the pools' bound", n, d)
			}
			goroutinesPerTunnel := 0
			if v.cfg.Engine == Goroutines {
				goroutinesPerTunnel = 2
			}
			if d := gAfter - gBefore; d < goroutinesPerTunnel*n || d > goroutinesPerTunnel*n+5 {
				t.Errorf("%d idle tunnels added %d goroutines, want %d", n, d, goroutinesPerTunnel*n)
			}
			for _, te := range tes {
				te.client.Close()
				te.backend.Close()
			}
			testwait.For(t, "one tunnel open", func() bool { return r.Open() == 1 })
		})
	}
}

func TestManyTunnelsConcurrently(t *testing.T) {
	forEach(t, func(t *testing.T, cfg Config) {
		r := newRelay(t, cfg)
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := 0; i < 40; i++ {
			te := open(t, r, nil, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				msg := random(256 << 10)
				go te.client.Write(msg)
				got := make([]byte, len(msg))
				te.backend.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.ReadFull(te.backend, got); err != nil || !bytes.Equal(got, msg) {
					errs <- fmt.Errorf("tunnel %d: %v", i, err)
				}
				te.client.Close()
				te.backend.Close()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		testwait.For(t, "every tunnel ended", func() bool { return r.Open() == 0 })
	})
}

// TestFallbackAtFileLimit: when no descriptor is left to take a tunnel's
// sockets into the epoll engine, the tunnel is relayed by goroutines, and
// the log says why, once.
func TestFallbackAtFileLimit(t *testing.T) {
	if !epollSupported {
		testenv.Need(t, errors.New("the epoll engine is Linux-only"))
	}
	var log syncbuf.Buffer
	r := newRelay(t, Config{Engine: Epoll, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	_ = time.Local.String() // the log's time zone file, loaded while there are descriptors
	client, proxyClient := tcpPair(t)
	proxyBackend, backend := tcpPair(t)
	done := make(chan Result, 1)

	var rl unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &rl)
	lowered := rl
	lowered.Cur = 1024
	unix.Setrlimit(unix.RLIMIT_NOFILE, &lowered)
	var hog []int
	for {
		fd, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			break
		}
		hog = append(hog, fd)
	}
	r.Start(Tunnel{Client: proxyClient, Backend: proxyBackend, Done: func(res Result) { done <- res }})
	for _, fd := range hog {
		unix.Close(fd)
	}
	unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)

	client.Write([]byte("through goroutines"))
	if got := readN(t, backend, 18); string(got) != "through goroutines" {
		t.Fatalf("backend got %q", got)
	}
	if r.gr.open.Load() != 1 || r.ep.open.Load() != 0 {
		t.Errorf("goroutine engine holds %d tunnels, epoll %d; want the tunnel on goroutines", r.gr.open.Load(), r.ep.open.Load())
	}
	if !strings.Contains(log.String(), "too many open files (limit 1024)") {
		t.Errorf("log does not explain the fallback:\n%s", log.String())
	}
	client.Close()
	backend.Close()
	<-done
}
