package echo

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/frame"
	"github.com/wsbench/wsbench/internal/testwait"
)

// BenchmarkEcho measures the server's echo path over a real loopback TCP
// connection: the client keeps a window of 16 messages in flight, written
// with one write and read back with frame.Decoder. One op is one message
// echoed; allocs/op covers client and server, and must be 0.
func BenchmarkEcho(b *testing.B) {
	for _, size := range []int{64, 16 << 10} {
		b.Run(sizeName(size), func(b *testing.B) { benchEcho(b, size) })
	}
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func benchEcho(b *testing.B, size int) {
	const window = 16
	_, addr := startServer(b, Config{})
	c := dial(b, addr, "/echo")
	if c.br.Buffered() != 0 {
		b.Fatal("bytes after the 101")
	}
	nc := c.nc
	nc.SetDeadline(time.Time{})
	payload := make([]byte, size)
	var batch []byte
	for range window {
		batch = frame.AppendFrame(batch, ws.OpBinary, payload, &testMask)
	}
	frameLen := len(batch) / window
	var dec frame.Decoder
	buf := make([]byte, 4*len(batch))
	r, w := 0, 0
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; {
		n := min(window, b.N-sent)
		if _, err := nc.Write(batch[:n*frameLen]); err != nil {
			b.Fatal(err)
		}
		sent += n
		for got := 0; got < n; {
			msg, k, err := dec.Decode(buf[r:w])
			if err != nil {
				b.Fatal(err)
			}
			if k > 0 {
				r += k
				if msg.Op == ws.OpBinary {
					got++
				}
				continue
			}
			if r == w {
				r, w = 0, 0
			} else if r > 0 {
				w = copy(buf, buf[r:w])
				r = 0
			}
			m, err := nc.Read(buf[w:])
			if err != nil {
				b.Fatal(err)
			}
			w += m
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// idleConnKiB opens conns idle connections to a helper server process and
// returns how much its resident memory grew per connection, measured after a
// GC on both sides of the measurement.
func idleConnKiB(t testing.TB, conns int, path string) float64 {
	h := startHelper(t)
	before := h.rss(t, true)
	for range conns {
		nc := upgradeRaw(t, h.addr, path)
		if status, err := readStatus(nc, 10*time.Second); err != nil || status != 101 {
			t.Fatalf("status %d, %v", status, err)
		}
	}
	time.Sleep(200 * time.Millisecond) // let the last handlers park
	after := h.rss(t, true)
	return float64(after-before) / float64(conns)
}

// BenchmarkIdleConnMemory reports the server's resident memory per idle
// WebSocket connection (2,000 of them), and per connection that the server
// pings every second. Run with -benchtime=1x: one op is the whole
// measurement.
func BenchmarkIdleConnMemory(b *testing.B) {
	for _, tt := range []struct{ name, path string }{{"idle", "/echo"}, {"pinged", "/echo?ping=1s"}} {
		b.Run(tt.name, func(b *testing.B) {
			var kib float64
			for range b.N {
				kib = idleConnKiB(b, 2000, tt.path)
			}
			b.ReportMetric(kib, "KiB/conn")
		})
	}
}

// A regression guard on the whole cost of an idle connection (goroutine,
// socket, structs): about 7 KiB here, 48 KiB under the race detector, whose
// shadow memory dominates. TestIdleConnsHoldNoBuffers checks the buffers
// directly: untouched buffer pages barely show in RSS.
func TestIdleConnMemory(t *testing.T) {
	limit := 16.0
	if raceEnabled {
		limit = 96
	}
	kib := idleConnKiB(t, 1000, "/echo")
	t.Logf("%.1f KiB per idle connection (server RSS)", kib)
	if kib > limit {
		t.Errorf("%.1f KiB per idle connection, want at most %.0f", kib, limit)
	}
}

// Connections give their buffers back as soon as they have nothing
// buffered, whatever size of message they last carried.
func TestIdleConnsHoldNoBuffers(t *testing.T) {
	srv, addr := startServer(t, Config{})
	for i := range 50 { // rawDial's cleanup keeps every connection open until the test ends
		c := dial(t, addr, "/echo")
		size := 10
		if i%10 == 0 {
			size = 200 << 10 // needs a bigger read and write buffer
		}
		c.send(ws.OpBinary, make([]byte, size))
		if _, p := c.next(); len(p) != size {
			t.Fatalf("echo of %d bytes came back with %d", size, len(p))
		}
	}
	testwait.For(t, "every buffer given back", func() bool { return srv.Stats().Buffers == 0 })
	if st := srv.Stats(); st.Open != 50 {
		t.Errorf("Open = %d, want 50", st.Open)
	}
}

// BenchmarkUpgrade measures the server's side of one handshake (read the
// head, check it, answer 101) without the network: the request comes from
// memory and the answer goes nowhere.
func BenchmarkUpgrade(b *testing.B) {
	srv := New(Config{ID: "bench"})
	req := []byte(request("/echo", "Origin: https://app.example", "User-Agent: bench/1.0"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := srv.upgrade(&memConn{in: req}); err != nil {
			b.Fatal(err)
		}
	}
}

// memConn is a net.Conn that reads in and discards what is written.
type memConn struct {
	net.Conn // nil: only the methods below are called
	in       []byte
}

func (c *memConn) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.in)
	c.in = c.in[n:]
	return n, nil
}

func (c *memConn) Write(p []byte) (int, error) { return len(p), nil }
