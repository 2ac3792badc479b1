package echo

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/frame"
	"github.com/wsbench/wsbench/internal/testwait"
	"github.com/wsbench/wsbench/wire"
)

func TestEcho(t *testing.T) {
	_, addr := startServer(t, Config{})
	c := dial(t, addr, "/echo")
	big := bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16) // > the pooled read buffer
	tests := []struct {
		name  string
		wire  []byte // what the client sends
		op    ws.OpCode
		reply []byte
	}{
		{"text", fragment(ws.OpText, "héllo"), ws.OpText, []byte("héllo")},
		{"binary", fragment(ws.OpBinary, "\x00\x01\xff"), ws.OpBinary, []byte("\x00\x01\xff")},
		{"empty", fragment(ws.OpBinary, ""), ws.OpBinary, []byte{}},
		{"16 KiB", fragment(ws.OpBinary, string(big[:16<<10])), ws.OpBinary, big[:16<<10]},
		{"100 KiB grows the read buffer", fragment(ws.OpBinary, string(big)), ws.OpBinary, big},
		{"fragmented text comes back as one frame", fragment(ws.OpText, "frag", "men", "ted"), ws.OpText, []byte("fragmented")},
		{"ping between fragments", concat(fragmentFirst(ws.OpText, "ab"), fragment(ws.OpPing, "x"), fragmentLast("cd")), ws.OpPong, []byte("x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.write(tt.wire)
			h, p := c.next()
			if !h.Fin || h.OpCode != tt.op || !bytes.Equal(p, tt.reply) {
				t.Errorf("got fin=%v %v %d bytes, want one final %v frame of %d bytes", h.Fin, h.OpCode, len(p), tt.op, len(tt.reply))
			}
		})
	}
	// The message around the ping is echoed once complete.
	if h, p := c.next(); h.OpCode != ws.OpText || string(p) != "abcd" {
		t.Errorf("after the interleaved ping: %v %q, want text abcd", h.OpCode, p)
	}
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func fragmentFirst(op ws.OpCode, p string) []byte {
	b := frame.AppendHeader(nil, ws.Header{OpCode: op, Length: int64(len(p)), Masked: true, Mask: testMask})
	return append(b, maskCopy(p)...)
}

func fragmentLast(p string) []byte {
	b := frame.AppendHeader(nil, ws.Header{Fin: true, OpCode: ws.OpContinuation, Length: int64(len(p)), Masked: true, Mask: testMask})
	return append(b, maskCopy(p)...)
}

func maskCopy(p string) []byte {
	b := []byte(p)
	ws.Cipher(b, testMask, 0)
	return b
}

// Many frames in one write come back in order; the server batches its
// replies.
func TestEchoPipelined(t *testing.T) {
	srv, addr := startServer(t, Config{})
	c := dial(t, addr, "/")
	var wire []byte
	const n = 1000
	for i := range n {
		wire = frame.AppendFrame(wire, ws.OpBinary, []byte{byte(i), byte(i >> 8)}, &testMask)
	}
	go c.nc.Write(wire)
	for i := range n {
		_, p := c.next()
		if !bytes.Equal(p, []byte{byte(i), byte(i >> 8)}) {
			t.Fatalf("reply %d = %v, out of order", i, p)
		}
	}
	testwait.For(t, "message counters", func() bool {
		st := srv.Stats()
		return st.MessagesIn == n && st.MessagesOut == n && st.BytesIn == 2*n && st.BytesOut == 2*n
	})
}

func TestPingPong(t *testing.T) {
	_, addr := startServer(t, Config{})
	c := dial(t, addr, "/echo")
	for _, payload := range []string{"", "x", strings.Repeat("p", 125)} {
		c.send(ws.OpPing, []byte(payload))
		if h, p := c.next(); h.OpCode != ws.OpPong || string(p) != payload {
			t.Errorf("ping %q: got %v %q, want pong with the same payload", payload, h.OpCode, p)
		}
	}
	// An unsolicited pong is ignored.
	c.send(ws.OpPong, []byte("u"))
	c.send(ws.OpText, []byte("t"))
	if h, p := c.next(); h.OpCode != ws.OpText || string(p) != "t" {
		t.Errorf("after a pong: %v %q, want the text echo", h.OpCode, p)
	}
}

// The close codes a client sees, each with what provoked it.
func TestCloseCodes(t *testing.T) {
	_, addr := startServer(t, Config{MaxMessage: 1024})
	closeBody := func(code ws.StatusCode) []byte { return frame.AppendClose(nil, code, "bye", &testMask) }
	tests := []struct {
		name string
		wire []byte
		code ws.StatusCode // ws.StatusNoStatusRcvd: an empty close
	}{
		{"client close 1000 is echoed", closeBody(1000), 1000},
		{"client close 4000 is echoed", closeBody(4000), 4000},
		{"empty close gets an empty close", frame.AppendFrame(nil, ws.OpClose, nil, &testMask), ws.StatusNoStatusRcvd},
		{"unmasked frame: 1002", frame.AppendFrame(nil, ws.OpText, []byte("hi"), nil), ws.StatusProtocolError},
		{"reserved opcode: 1002", frame.AppendFrame(nil, ws.OpCode(3), []byte("hi"), &testMask), ws.StatusProtocolError},
		{"fragmented ping: 1002", fragmentFirst(ws.OpPing, "p"), ws.StatusProtocolError},
		{"continuation without start: 1002", fragmentLast("x"), ws.StatusProtocolError},
		{"close code 1005 on the wire: 1002", closeBody(1005), ws.StatusProtocolError},
		{"invalid UTF-8 text: 1007", frame.AppendFrame(nil, ws.OpText, []byte{0xff, 0xfe}, &testMask), ws.StatusInvalidFramePayloadData},
		{"invalid UTF-8 across fragments: 1007", fragment(ws.OpText, "ok", "\xc3"), ws.StatusInvalidFramePayloadData},
		{"message over MaxMessage: 1009", frame.AppendFrame(nil, ws.OpBinary, make([]byte, 2000), &testMask), ws.StatusMessageTooBig},
		{"fragments over MaxMessage: 1009", fragment(ws.OpBinary, strings.Repeat("a", 600), strings.Repeat("b", 600)), ws.StatusMessageTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr, "/echo")
			c.write(tt.wire)
			code, _ := c.expectClose()
			if code != tt.code {
				t.Errorf("close code %d, want %d", code, tt.code)
			}
			c.expectEOF()
		})
	}
}

func TestPush(t *testing.T) {
	srv, addr := startServer(t, Config{})
	before := time.Now()
	c := dial(t, addr, "/push?rate=200&size=100")
	var last int64
	for i := range 10 {
		h, p := c.next()
		now := time.Now()
		if h.OpCode != ws.OpBinary || len(p) != 100 {
			t.Fatalf("message %d: %v of %d bytes, want binary of 100", i, h.OpCode, len(p))
		}
		sent, seq, ok := wire.ParsePushHeader(p)
		if !ok || seq != uint64(i) {
			t.Errorf("message %d: seq %d (ok=%v), want %d", i, seq, ok, i)
		}
		if sent < before.UnixNano() || sent > now.UnixNano() || sent < last {
			t.Errorf("message %d: sent at %v, want between the dial (%v) and its receipt (%v), not before the previous",
				i, time.Unix(0, sent), before, now)
		}
		last = sent
		if !bytes.Equal(p[wire.PushHeaderSize:], make([]byte, 100-wire.PushHeaderSize)) {
			t.Errorf("message %d: padding is not zero", i)
		}
	}
	// Ten messages at 200/s take about 45 ms; far more means no pacing.
	if took := time.Since(before); took < 30*time.Millisecond {
		t.Errorf("10 messages at 200/s arrived within %v, want them paced", took)
	}
	// Data the client sends on /push is read, not echoed.
	c.send(ws.OpBinary, []byte("ignored"))
	testwait.For(t, "the client's message counted", func() bool { return srv.Stats().MessagesIn == 1 })
	c.write(frame.AppendClose(nil, 1000, "", &testMask))
	if code, _ := c.expectClose(); code != 1000 {
		t.Errorf("close code %d, want 1000", code)
	}
}

func TestSink(t *testing.T) {
	srv, addr := startServer(t, Config{})
	c := dial(t, addr, "/x/sink")
	for range 5 {
		c.send(ws.OpBinary, []byte("drop me"))
	}
	c.send(ws.OpPing, []byte("still here"))
	if h, p := c.next(); h.OpCode != ws.OpPong || string(p) != "still here" {
		t.Errorf("got %v %q, want only the pong: sink must not echo", h.OpCode, p)
	}
	testwait.For(t, "sink counters", func() bool {
		st := srv.Stats()
		return st.MessagesIn == 5 && st.BytesIn == 35 && st.MessagesOut == 0
	})
}

func TestCloseAfter(t *testing.T) {
	_, addr := startServer(t, Config{})
	c := dial(t, addr, "/echo?close_after=300ms&close_code=4001")
	start := time.Now()
	code, reason := c.expectClose()
	took := time.Since(start)
	if code != 4001 || reason != "close_after" {
		t.Errorf("close %d %q, want 4001 close_after", code, reason)
	}
	if took < 200*time.Millisecond || took > 3*time.Second {
		t.Errorf("closed after %v, want about 300ms", took)
	}
	c.write(frame.AppendClose(nil, 4001, "", &testMask))
	c.expectEOF()
}

// A client that never answers the close is dropped after Config.Drain.
func TestCloseAfterUnanswered(t *testing.T) {
	_, addr := startServer(t, Config{Drain: 300 * time.Millisecond})
	c := dial(t, addr, "/echo?close_after=100ms")
	if code, _ := c.expectClose(); code != 1000 {
		t.Errorf("close code %d, want the default 1000", code)
	}
	start := time.Now()
	c.expectEOF()
	if took := time.Since(start); took < 200*time.Millisecond || took > 3*time.Second {
		t.Errorf("dropped %v after the close, want about the 300ms drain", took)
	}
}

func TestServerPings(t *testing.T) {
	_, addr := startServer(t, Config{PingInterval: 50 * time.Millisecond})
	t.Run("config interval", func(t *testing.T) {
		c := dial(t, addr, "/echo")
		for range 3 {
			if h, _ := c.next(); h.OpCode != ws.OpPing {
				t.Fatalf("got %v, want a server ping", h.OpCode)
			}
		}
	})
	t.Run("ping=0 disables them", func(t *testing.T) {
		c := dial(t, addr, "/echo?ping=0")
		c.nc.SetReadDeadline(time.Now().Add(400 * time.Millisecond))
		if h, _, err := c.readFrame(); err == nil {
			t.Fatalf("got %v, want no ping", h.OpCode)
		}
	})
	t.Run("ping=30ms overrides", func(t *testing.T) {
		c := dial(t, addr, "/echo?ping=30ms")
		if h, _ := c.next(); h.OpCode != ws.OpPing {
			t.Fatalf("got %v, want a server ping", h.OpCode)
		}
	})
}

// A stalled handler holds a message sent inside the stall window until the
// window ends: the client sees that as latency.
func TestStall(t *testing.T) {
	_, addr := startServer(t, Config{})
	const stall, every = 300 * time.Millisecond, time.Second
	c := dial(t, addr, "/echo?stall=300ms&stall_every=1s")
	// Wait for the start of the next window.
	now := time.Now()
	time.Sleep(every - time.Duration(now.UnixNano()%int64(every)) + 5*time.Millisecond)
	start := time.Now()
	c.send(ws.OpBinary, []byte("in the window"))
	left := stallLeft(time.Now(), stall, every) // what the server must still wait at least
	c.next()
	if rtt := time.Since(start); rtt < left {
		t.Errorf("reply after %v, want at least %v (the rest of the stall window)", rtt, left)
	}
	if left == 0 {
		t.Log("the send missed the window on a busy machine; nothing to check")
	}
}

func TestDelay(t *testing.T) {
	_, addr := startServer(t, Config{})
	c := dial(t, addr, "/echo?delay=150ms")
	start := time.Now()
	c.send(ws.OpText, []byte("slow"))
	c.send(ws.OpPing, nil)
	c.next()
	c.next()
	if rtt := time.Since(start); rtt < 150*time.Millisecond {
		t.Errorf("replies after %v, want at least the 150ms delay", rtt)
	}
}

func TestShutdownSendsGoingAway(t *testing.T) {
	srv := New(Config{ID: "s"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	addr := ln.Addr().String()
	var clients []*testClient
	for range 3 {
		clients = append(clients, dial(t, addr, "/echo"))
	}
	testwait.For(t, "3 open connections", func() bool { return srv.Stats().Open == 3 })
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			code, reason := c.expectClose()
			if code != ws.StatusGoingAway || reason != "going away" {
				t.Errorf("close %d %q, want 1001 going away", code, reason)
			}
			c.write(frame.AppendClose(nil, ws.StatusGoingAway, "", &testMask))
			c.expectEOF()
		})
	}
	start := time.Now()
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown = %v, want nil", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Shutdown took %v although every client answered", took)
	}
	wg.Wait()
	if err := <-served; err != nil {
		t.Errorf("Serve = %v after Shutdown, want nil", err)
	}
	if st := srv.Stats(); st.Open != 0 {
		t.Errorf("Open = %d after Shutdown, want 0", st.Open)
	}
	if nc, err := net.Dial("tcp", addr); err == nil {
		nc.Close()
		t.Error("dial after Shutdown succeeded, want the listener closed")
	}
	if err := srv.Serve(mustListen(t)); err != nil {
		t.Errorf("Serve after Shutdown = %v, want nil", err)
	}
}

func mustListen(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// Clients that do not answer the close are cut off after Drain; a ctx that
// ends first wins and is reported.
func TestShutdownForcesAfterDrain(t *testing.T) {
	for _, tt := range []struct {
		name    string
		drain   time.Duration
		ctx     time.Duration
		wantErr bool
	}{
		{"drain", 300 * time.Millisecond, time.Minute, false},
		{"ctx", time.Minute, 300 * time.Millisecond, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := New(Config{Drain: tt.drain})
			ln := mustListen(t)
			go srv.Serve(ln)
			c := dial(t, ln.Addr().String(), "/echo")
			half := rawConnectOnly(t, ln.Addr().String()) // still in its handshake
			testwait.For(t, "the connection open", func() bool { return srv.Stats().Open == 1 })
			ctx, cancel := context.WithTimeout(context.Background(), tt.ctx)
			defer cancel()
			start := time.Now()
			err := srv.Shutdown(ctx)
			took := time.Since(start)
			if (err != nil) != tt.wantErr {
				t.Errorf("Shutdown = %v, want error: %v", err, tt.wantErr)
			}
			if took < 200*time.Millisecond || took > 5*time.Second {
				t.Errorf("Shutdown took %v, want about 300ms", took)
			}
			if code, _ := c.expectClose(); code != ws.StatusGoingAway {
				t.Errorf("close code %d, want 1001", code)
			}
			c.expectEOF()
			half.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := half.Read(make([]byte, 1)); err == nil {
				t.Error("a connection in its handshake survived Shutdown")
			}
		})
	}
}

func rawConnectOnly(t *testing.T, addr string) net.Conn {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.Write([]byte("GET / HTTP/1.1\r\n"))
	return nc
}

// ServeConn serves a connection that is not a socket (no RawConn): the
// blocking-read path.
func TestServeConnPipe(t *testing.T) {
	srv := New(Config{})
	client, server := net.Pipe()
	done := make(chan struct{})
	go func() { srv.ServeConn(server); close(done) }()
	go client.Write([]byte(request("/echo") + string(fragment(ws.OpText, "over", " a pipe"))))
	c := &testClient{t: t, nc: client, br: bufio.NewReader(client)}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("handshake over a pipe: %v %v", resp, err)
	}
	if _, p := c.next(); string(p) != "over a pipe" {
		t.Errorf("echo = %q", p)
	}
	go client.Write(frame.AppendClose(nil, 1000, "", &testMask))
	if code, _ := c.expectClose(); code != 1000 {
		t.Errorf("close %d, want 1000", code)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ServeConn did not return after the close handshake")
	}
}
