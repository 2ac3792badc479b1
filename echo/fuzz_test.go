package echo

import (
	"bytes"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/frame"
	"github.com/wsbench/wsbench/wire"
)

// serveBytes feeds data to ServeConn over a pipe as one client would, reads
// and discards whatever the server answers, then hangs up. The server must
// neither panic nor hang.
//
// With socket set, the connection is a Unix socket pair, which the server
// reads through syscall.RawConn like TCP; otherwise a net.Pipe, which takes
// its blocking-read path.
func serveBytes(t *testing.T, data []byte, socket bool) {
	srv := New(Config{HandshakeTimeout: time.Second, Drain: 100 * time.Millisecond, MaxMessage: 1 << 16})
	client, server := net.Pipe()
	if socket {
		client, server = socketPair(t)
	}
	done := make(chan struct{})
	go func() {
		srv.ServeConn(server)
		close(done)
	}()
	go io.Copy(io.Discard, client)
	client.SetWriteDeadline(time.Now().Add(2 * time.Second))
	client.Write(data) // fails early if the server hangs up first
	client.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("ServeConn still running 10s after the client hung up; input %q", data)
	}
}

func socketPair(t *testing.T) (net.Conn, net.Conn) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var conns [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		conns[i], err = net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return conns[0], conns[1]
}

// sleepy reports whether a request asks the server to pause (stall, delay):
// legitimate, but it would make a fuzz iteration last up to a minute.
func sleepy(data []byte) bool {
	head := data
	if end := requestEnd(data); end >= 0 {
		head = data[:end]
	}
	return bytes.Contains(head, []byte("stall")) || bytes.Contains(head, []byte("delay")) || bytes.IndexByte(head, '%') >= 0
}

func fuzzSeeds() [][]byte {
	masked := func(op ws.OpCode, p string) []byte { return frame.AppendFrame(nil, op, []byte(p), &testMask) }
	return [][]byte{
		[]byte(request("/echo")),
		append([]byte(request("/echo")), masked(ws.OpText, "hi")...),
		append([]byte(request("/echo?hello=1&ping=10ms")), fragment(ws.OpText, "a", "b")...),
		append([]byte(request("/push?rate=1k&size=32")), masked(ws.OpClose, "\x03\xe8")...),
		append([]byte(request("/sink?close_after=10ms&close_code=4000")), masked(ws.OpBinary, "x")...),
		append([]byte(request("/echo")), frame.AppendFrame(nil, ws.OpText, []byte("unmasked"), nil)...),
		append([]byte(request("/echo")), 0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
		[]byte("POST / HTTP/1.1\r\nHost: x\r\n\r\n"),
		[]byte("GET / HTTP/1.0\r\n\r\n"),
		[]byte("GET /?x HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"),
		[]byte("\r\n\r\n"),
		{},
		// Heads the upgrader alone would take and RFC 9110/9112 refuse.
		[]byte(request("/echo", "X-A: a\x00b")),
		[]byte(request("/echo", "X-A: a\rb")),
		[]byte(request("/echo", "Host: second.example")),
		[]byte(request("/echo", "X-A : b")),
		[]byte(request("/echo", "X-A: a", " X-B: folded")),
		[]byte("POST /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"),
		[]byte(request("/echo", "X-Pad: "+strings.Repeat("p", maxRequestHead-len(request("/echo", "X-Pad: "))+1))),
	}
}

// FuzzServeConn drives the whole connection path, handshake and frames, with
// arbitrary bytes.
func FuzzServeConn(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if sleepy(data) {
			t.Skip()
		}
		serveBytes(t, data, false)
	})
}

// FuzzFrames gets past the handshake every time and fuzzes what follows.
func FuzzFrames(f *testing.F) {
	f.Add(uint8(0), frame.AppendFrame(nil, ws.OpText, []byte("hi"), &testMask))
	f.Add(uint8(1), fragment(ws.OpBinary, "a", "b", "c"))
	f.Add(uint8(2), frame.AppendClose(nil, 1000, "x", &testMask))
	f.Add(uint8(3), []byte{0x88, 0x81, 1, 2, 3, 4, 5})
	paths := []string{"/echo", "/sink", "/push?size=16&rate=100k", "/echo?hello=1&close_after=5ms"}
	f.Fuzz(func(t *testing.T, path uint8, frames []byte) {
		serveBytes(t, append([]byte(request(paths[int(path)%len(paths)])), frames...), true)
	})
}

func FuzzParseOptions(f *testing.F) {
	for _, s := range []string{"/", "/push?rate=5k&size=1KiB", "/echo?stall=1s&stall_every=2s", "/x?close_after=1&close_code=4000", "/?%zz", "*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		o, err := parseOptions(uri, 1<<20)
		if err != nil {
			return
		}
		switch {
		case o.workload == WorkloadPush && (o.size < wire.PushHeaderSize || o.size > 1<<20 || !(o.rate > 0 && o.rate <= wire.MaxPushRate)):
			t.Errorf("%q: accepted push size %d rate %v", uri, o.size, o.rate)
		case o.stall != 0 && (o.stall >= o.stallEvery || o.stall < 0):
			t.Errorf("%q: accepted stall %v every %v", uri, o.stall, o.stallEvery)
		case o.ping < 0 || o.delay < 0 || o.closeAfter < 0 || o.delay > maxWait || o.stallEvery > maxWait:
			t.Errorf("%q: accepted a negative or huge duration: %+v", uri, o)
		case !frame.ValidCloseCode(o.closeCode):
			t.Errorf("%q: accepted close code %d", uri, o.closeCode)
		}
	})
}

// FuzzRequestHead checks the head scanner that finds where frames start,
// fed whole and in two reads, and the head checker on what it delimits.
func FuzzRequestHead(f *testing.F) {
	f.Add([]byte(request("/")+"tail"), uint16(20))
	f.Add([]byte("GET / HTTP/1.1\n\nX"), uint16(15))
	f.Add([]byte("\n\n\n"), uint16(1))
	f.Add([]byte(request("/", "X-A: a\x00b", "Host: y")), uint16(3))
	f.Add([]byte(request("/", "X-A : b", " folded")), uint16(100))
	f.Fuzz(func(t *testing.T, b []byte, split uint16) {
		end := requestEnd(b)
		if end < -1 || end > len(b) {
			t.Fatalf("requestEnd = %d for %d bytes", end, len(b))
		}
		if end >= 0 && !bytes.HasSuffix(b[:end], []byte("\n")) {
			t.Fatalf("requestEnd = %d does not follow a newline in %q", end, b)
		}
		var s headScan
		cut := int(split) % (len(b) + 1)
		got := s.next(b[:cut])
		if got < 0 {
			got = s.next(b)
		}
		if got != end {
			t.Fatalf("head end %d when read in two pieces (cut at %d), %d when whole, in %q", got, cut, end, b)
		}
		if end >= 0 {
			if he := checkHead(b[:end]); he == nil && bytes.ContainsAny(b[:end], "\x00\x01\x7f") {
				t.Fatalf("checkHead accepted a control byte in %q", b[:end])
			}
		}
		if v := headerValue(b, "Sec-WebSocket-Key"); v != nil && !bytes.Contains(b, v) {
			t.Fatalf("headerValue returned bytes not in the input")
		}
	})
}
