package proxy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/internal/tcptest"
)

// recorder is a backend that answers every request with answer (a head
// and whatever bytes follow it) and sends on the channel everything it
// read from the connection, once the proxy closes it.
func recorder(t *testing.T, answer string) (string, <-chan string) {
	got := make(chan string, 4)
	addr := tcptest.Serve(t, func(c net.Conn) {
		var rec bytes.Buffer
		br := bufio.NewReader(io.TeeReader(c, &rec))
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := http.ReadRequest(br); err == nil {
			io.WriteString(c, answer)
			io.Copy(io.Discard, br)
		}
		got <- rec.String()
	})
	return addr, got
}

// TestNeverTunnelsUnagreedBytes: request-smuggling shapes on the upgrade
// path. The proxy refuses a request with a body (and both Content-Length
// and Transfer-Encoding) before any backend; a request that is no
// WebSocket upgrade never reaches one; a backend's 101 that does not
// switch to websocket is a 502; a refusal is passed on and both sides
// close. In none of them does a byte the client sent after its head reach
// the backend, or a byte the backend sent after its answer reach the
// client.
func TestNeverTunnelsUnagreedBytes(t *testing.T) {
	frame := string(ws.MustCompileFrame(ws.MaskFrame(ws.NewTextFrame([]byte("CLIENT-AHEAD")))))
	pipelined := "GET /admin HTTP/1.1\r\nHost: internal\r\n\r\n"
	tests := []struct {
		name    string
		request string
		ahead   string // sent in the same write as the request
		answer  string // the backend's; "" → no backend may be contacted
		status  int
		outcome string
		body    string // the client's whole body, when the backend's answer is passed on
	}{
		{"Content-Length with Transfer-Encoding", upgradeRequest("/", "Content-Length: 5", "Transfer-Encoding: chunked"),
			"0\r\n\r\n" + pipelined, "", 400, "bad_request", ""},
		{"upgrade with a body", upgradeRequest("/", "Content-Length: 5"), "hello" + frame, "", 400, "bad_request", ""},
		{"upgrade with a chunked body", upgradeRequest("/", "Transfer-Encoding: chunked"), "5\r\nhello\r\n0\r\n\r\n" + frame, "", 400, "bad_request", ""},
		{"no upgrade: the backend would switch", "GET / HTTP/1.1\r\nHost: front.test\r\n\r\n", frame, "", 426, "not_upgrade", ""},
		{"upgrade to h2c", strings.Replace(upgradeRequest("/", "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"), "Upgrade: websocket", "Upgrade: h2c", 1),
			pipelined, "", 426, "not_upgrade", ""},
		{"backend switches to h2c", upgradeRequest("/"), frame,
			"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nBACKEND-AFTER", 502, "backend_error", ""},
		{"backend 101 names no protocol", upgradeRequest("/"), frame,
			"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\nBACKEND-AFTER", 502, "backend_error", ""},
		{"backend refuses, client pipelined a request", upgradeRequest("/"), pipelined,
			"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 2\r\n\r\nnoBACKEND-AFTER", 426, "backend_status", "no"},
		{"backend 200 with Upgrade headers", upgradeRequest("/"), frame,
			"HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 2\r\n\r\nokBACKEND-AFTER", 200, "backend_status", "ok"},
	}
	names := make([]string, len(tests))
	for i, tt := range tests {
		names[i] = tt.name
	}
	concurrently(t, names, func(t *testing.T, i int) {
		tt := tests[i]
		forEachVariant(t, func(t *testing.T, cfg Config) {
			var got <-chan string
			if tt.answer == "" {
				cfg.Upstreams = []Upstream{{Addr: tripwire(t)}}
			} else {
				var addr string
				addr, got = recorder(t, tt.answer)
				cfg.Upstreams = []Upstream{{Addr: addr}}
			}
			p, addr := startProxy(t, cfg)
			c := ask(t, addr, "", dialOpts{request: tt.request, extra: []byte(tt.ahead)})
			if c.resp.StatusCode != tt.status {
				t.Fatalf("status %s, want %d", c.resp.Status, tt.status)
			}
			body, _ := io.ReadAll(c.resp.Body)
			if tt.body != "" && string(body) != tt.body {
				t.Errorf("body %q, want the backend's %q", body, tt.body)
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if rest, err := io.ReadAll(c.br); len(rest) > 0 || err != nil {
				t.Errorf("after the answer: %q, %v; want the connection closed and nothing more", rest, err)
			}
			if n := p.Counters().Handshakes[tt.outcome]; n != 1 {
				t.Errorf("outcome %s counted %d, want 1", tt.outcome, n)
			}
			if got == nil {
				return
			}
			select {
			case rec := <-got:
				if !strings.HasPrefix(rec, "GET / HTTP/1.1\r\n") || strings.Contains(rec, tt.ahead) {
					t.Errorf("backend received %q; want the request head and none of the client's %q", rec, tt.ahead)
				}
			case <-time.After(10 * time.Second):
				t.Error("the proxy kept the backend connection open")
			}
		})
	})
}

// TestAbsoluteFormTarget: a request line with an absolute-form target is
// accepted (RFC 9112 section 3.2.2, as nginx does); the backend gets the
// origin-form target and the target's authority as Host, not the client's
// Host header.
func TestAbsoluteFormTarget(t *testing.T) {
	b := startBackend(t, "b1", echo.Config{})
	_, addr := startProxy(t, Config{Upstreams: upstreams(b)})
	req := strings.Replace(upgradeRequest("/"), "GET / ", "GET http://Real.Example:8443/echo?hello=1 ", 1)
	c := open(t, addr, "", dialOpts{request: req})
	f, err := c.read(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var hello echo.Hello
	if err := json.Unmarshal(f.Payload, &hello); err != nil {
		t.Fatalf("hello %q: %v", f.Payload, err)
	}
	if hello.Host != "Real.Example:8443" || hello.Path != "/echo?hello=1" {
		t.Errorf("backend saw Host %q and target %q, want Real.Example:8443 and /echo?hello=1", hello.Host, hello.Path)
	}
	c.echoes("through an absolute-form handshake")
}
