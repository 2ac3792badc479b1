package echo

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/frame"
)

// This file is a deliberately small raw WebSocket client for the tests:
// handshakes are written byte by byte and frames with the frame package, so
// the tests see exactly what the server puts on the wire.

const testKey = "dGhlIHNhbXBsZSBub25jZQ==" // RFC 6455's sample nonce

var testMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// startServer runs a Server on 127.0.0.1:0 until the test ends.
func startServer(t testing.TB, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.ID == "" {
		cfg.ID = "test-1"
	}
	srv := New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-served; err != nil {
			t.Errorf("Serve returned %v after Shutdown, want nil", err)
		}
	})
	return srv, ln.Addr().String()
}

// request builds an upgrade request for path with the standard headers,
// then extra header lines ("Name: value").
func request(path string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", path)
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", testKey)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

type testClient struct {
	t    testing.TB
	nc   net.Conn
	br   *bufio.Reader
	resp *http.Response
}

// rawDial connects and sends raw bytes as the whole request, then reads the
// response head (and, for a non-101, its body).
func rawDial(t testing.TB, addr, raw string) *testClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(nc, raw); err != nil {
		t.Fatal(err)
	}
	c := &testClient{t: t, nc: nc, br: bufio.NewReader(nc)}
	c.resp, err = http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatalf("reading the handshake response: %v", err)
	}
	return c
}

// dial upgrades a connection to path and fails the test unless it got 101.
func dial(t testing.TB, addr, path string, extra ...string) *testClient {
	t.Helper()
	c := rawDial(t, addr, request(path, extra...))
	if c.resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake for %s: status %d, body %q; want 101", path, c.resp.StatusCode, c.body())
	}
	return c
}

func (c *testClient) body() string {
	b, _ := io.ReadAll(c.resp.Body)
	return string(b)
}

// send writes one masked final frame.
func (c *testClient) send(op ws.OpCode, payload []byte) {
	c.t.Helper()
	c.write(frame.AppendFrame(nil, op, payload, &testMask))
}

func (c *testClient) write(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// fragment returns the masked frames of one message split into parts.
func fragment(op ws.OpCode, parts ...string) []byte {
	var b []byte
	for i, p := range parts {
		h := ws.Header{Fin: i == len(parts)-1, OpCode: ws.OpContinuation, Length: int64(len(p)), Masked: true, Mask: testMask}
		if i == 0 {
			h.OpCode = op
		}
		b = frame.AppendHeader(b, h)
		start := len(b)
		b = append(b, p...)
		ws.Cipher(b[start:], testMask, 0)
	}
	return b
}

// readFrame reads one raw frame as the server sent it.
func (c *testClient) readFrame() (ws.Header, []byte, error) {
	head, err := c.br.Peek(2)
	if err != nil {
		return ws.Header{}, nil, err
	}
	hn := frame.HeaderLen(0, head[1]&0x80 != 0)
	switch head[1] & 0x7f {
	case 126:
		hn += 2
	case 127:
		hn += 8
	}
	head, err = c.br.Peek(hn)
	if err != nil {
		return ws.Header{}, nil, err
	}
	h, n, err := frame.ParseHeader(head)
	if err != nil || n != hn {
		return h, nil, fmt.Errorf("bad frame header % x: %v", head, err)
	}
	c.br.Discard(n)
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c.br, p); err != nil {
		return h, nil, err
	}
	return h, p, nil
}

// next reads one frame and fails the test if there is none.
func (c *testClient) next() (ws.Header, []byte) {
	c.t.Helper()
	h, p, err := c.readFrame()
	if err != nil {
		c.t.Fatalf("reading a frame: %v", err)
	}
	return h, p
}

// expectClose reads frames until a close and returns its code and reason.
func (c *testClient) expectClose() (ws.StatusCode, string) {
	c.t.Helper()
	for {
		h, p := c.next()
		if h.OpCode == ws.OpClose {
			code, reason := frame.ParseClose(p)
			return code, string(reason)
		}
	}
}

// expectEOF checks that the server closed the TCP connection.
func (c *testClient) expectEOF() {
	c.t.Helper()
	h, p, err := c.readFrame()
	if err == nil {
		c.t.Fatalf("got frame %v %q, want the connection closed", h.OpCode, p)
	}
	if err != io.EOF {
		c.t.Fatalf("got %v, want EOF", err)
	}
}

func acceptFor(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}
