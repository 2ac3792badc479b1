package echo

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/internal/testwait"
	"github.com/wsbench/wsbench/wire"
)

func TestHandshakeStatus(t *testing.T) {
	srv, addr := startServer(t, Config{ID: "backend-7", AllowedOrigins: []string{"https://Good.example"}})
	const key = "Sec-WebSocket-Key: " + testKey
	head := func(method, path string, lines ...string) string {
		return method + " " + path + " HTTP/1.1\r\n" + strings.Join(lines, "\r\n") + "\r\n\r\n"
	}
	std := []string{"Host: x", "Upgrade: websocket", "Connection: Upgrade", key, "Sec-WebSocket-Version: 13"}
	without := func(name string) []string {
		var out []string
		for _, l := range std {
			if !strings.HasPrefix(l, name+":") {
				out = append(out, l)
			}
		}
		return out
	}
	with := func(lines ...string) []string { return append(append([]string{}, std...), lines...) }
	// sized returns a GET head of exactly n bytes, padded by an X-Pad header.
	sized := func(n int) string {
		h := head("GET", "/", with("X-Pad: ")...)
		return head("GET", "/", with("X-Pad: "+strings.Repeat("p", n-len(h)))...)
	}
	tests := []struct {
		name       string
		req        string
		status     int
		header     map[string]string // expected response headers
		bodyHas    string
		rejectedAs int // Stats.Rejected key, 0 for a 101
	}{
		{"101 carries the backend id", head("GET", "/echo", std...), 101,
			map[string]string{"X-Wsbench-Backend": "backend-7", "Sec-Websocket-Accept": acceptFor(testKey), "Upgrade": "websocket"}, "", 0},
		{"101 for any path", head("GET", "/anything/else", std...), 101, nil, "", 0},
		{"405 for POST names the allowed method", head("POST", "/echo", std...), 405,
			map[string]string{"X-Wsbench-Backend": "backend-7", "Allow": "GET"}, "", 405},
		{"400 without Sec-WebSocket-Key", head("GET", "/", without("Sec-WebSocket-Key")...), 400, nil, "", 400},
		{"400 for a key of the wrong length", head("GET", "/", append(without("Sec-WebSocket-Key"), "Sec-WebSocket-Key: c2hvcnQ=")...), 400, nil, "", 400},
		{"400 for a key that is not base64", head("GET", "/", append(without("Sec-WebSocket-Key"), "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!!!")...), 400, nil, "Sec-WebSocket-Key", 400},
		{"400 for a key of 17 bytes", head("GET", "/", append(without("Sec-WebSocket-Key"), "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA=")...), 400, nil, "16 bytes", 400},
		{"400 without Upgrade", head("GET", "/", without("Upgrade")...), 400, nil, "", 400},
		{"400 without Connection", head("GET", "/", without("Connection")...), 400, nil, "", 400},
		{"400 for Upgrade: h2c", head("GET", "/", append(without("Upgrade"), "Upgrade: h2c")...), 400, nil, "", 400},
		{"400 without a version", head("GET", "/", without("Sec-WebSocket-Version")...), 400, nil, "", 400},
		{"426 for version 8", head("GET", "/", append(without("Sec-WebSocket-Version"), "Sec-WebSocket-Version: 8")...), 426,
			map[string]string{"Sec-Websocket-Version": "13"}, "", 426},
		{"403 for another Origin", head("GET", "/", with("Origin: https://evil.example")...), 403, nil, "evil.example", 403},
		{"101 for an allowed Origin in another case", head("GET", "/", with("Origin: https://good.EXAMPLE")...), 101, nil, "", 0},
		{"101 without Origin (not a browser)", head("GET", "/", std...), 101, nil, "", 0},
		{"400 for an unknown query parameter", head("GET", "/echo?stal=1s", std...), 400, nil, `"stal"`, 400},
		{"400 for a bad query value", head("GET", "/push?rate=fast", std...), 400, nil, "rate", 400},
		{"505 for HTTP/1.0", "GET / HTTP/1.0\r\n" + strings.Join(std, "\r\n") + "\r\n\r\n", 505, nil, "", 505},
		{"400 for a malformed request line", "GARBAGE\r\n\r\n", 400, nil, "", 400},
		{"400 for a header line without colon", head("GET", "/", with("no colon here")...), 400, nil, "", 400},
		{"431 for a huge head", head("GET", "/", with("X-Big: "+strings.Repeat("a", 20<<10))...), 431, nil, "larger than", 431},
		{"101 for a head of exactly the limit", sized(maxRequestHead), 101, nil, "", 0},
		{"431 for a head of the limit plus one byte", sized(maxRequestHead + 1), 431, nil, "larger than", 431},
		{"431 for a head of the limit plus 3 KiB", sized(maxRequestHead + 3<<10), 431, nil, "larger than", 431},
		// RFC 9110 5.5: CR, LF and NUL in a field value are invalid.
		{"400 for a NUL in a header value", head("GET", "/", with("X-A: a\x00b")...), 400, nil, "X-A", 400},
		{"400 for a bare CR in a header value", head("GET", "/", with("X-A: a\rb")...), 400, nil, "X-A", 400},
		{"400 for a control byte in a header value", head("GET", "/", with("X-A: a\x01b")...), 400, nil, "X-A", 400},
		{"400 for a bare CR in the request line", "GET /\r HTTP/1.1\r\n" + strings.Join(std, "\r\n") + "\r\n\r\n", 400, nil, "request line", 400},
		// RFC 9112 3.2: more than one Host line is refused.
		{"400 for two Host headers", head("GET", "/", with("Host: y")...), 400, nil, "Host", 400},
		{"400 for two Host headers of one value", head("GET", "/", with("host: x")...), 400, nil, "Host", 400},
		// RFC 9112 5.1: no whitespace between the field name and the colon.
		{"400 for a space before the colon", head("GET", "/", with("X-A : b")...), 400, nil, "X-A ", 400},
		{"400 for a tab before the colon of Host", head("GET", "/", append(without("Host"), "Host\t: x")...), 400, nil, "Host", 400},
		{"400 for an empty field name", head("GET", "/", with(": b")...), 400, nil, "field name", 400},
		// RFC 9112 5.2: obs-fold is refused, as is whitespace before the first field.
		{"400 for a folded header line", head("GET", "/", with("X-A: a", " folded")...), 400, nil, "fold", 400},
		{"400 for a tab-folded header line", head("GET", "/", with("X-A: a", "\tfolded")...), 400, nil, "fold", 400},
		{"400 for a folded line that looks like a field", head("GET", "/", with("X-A: a", " X-B: c")...), 400, nil, "fold", 400},
		{"400 for whitespace before the first header", head("GET", "/", append([]string{" X-A: a"}, std...)...), 400, nil, "fold", 400},
		{"101 for tabs and obs-text inside a value", head("GET", "/", with("X-A: a\tb \xe9")...), 101, nil, "", 0},
		{"101 for bare LF line ends", strings.ReplaceAll(head("GET", "/echo", std...), "\r\n", "\n"), 101, nil, "", 0},
	}
	want := map[int]uint64{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawDial(t, addr, tt.req)
			if c.resp.StatusCode != tt.status {
				t.Fatalf("status %d (body %q), want %d", c.resp.StatusCode, c.body(), tt.status)
			}
			for k, v := range tt.header {
				if got := c.resp.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if got := c.resp.Header.Get(wire.BackendHeader); got != "backend-7" {
				t.Errorf("%s = %q on a %d, want backend-7 on every response", wire.BackendHeader, got, tt.status)
			}
			if tt.status == 101 {
				return
			}
			if b := c.body(); !strings.Contains(b, tt.bodyHas) {
				t.Errorf("body %q does not mention %q", b, tt.bodyHas)
			}
			// A refused connection is closed after the response.
			c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			if b, err := c.br.ReadByte(); err == nil {
				t.Errorf("read %q after the error response, want the connection closed", b)
			}
		})
		if tt.rejectedAs != 0 {
			want[tt.rejectedAs]++
		}
	}
	// Refused connections are counted once their handler is done.
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := srv.Stats().Rejected
		if equalCounts(got, want) || time.Now().After(deadline) {
			if !equalCounts(got, want) {
				t.Errorf("Stats().Rejected = %v, want %v", got, want)
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func equalCounts(a, b map[int]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// The first frame may arrive in the same packet as the request; the bytes
// the upgrader's buffered reader took past the request must not be lost.
func TestReadAheadAfterHandshake(t *testing.T) {
	_, addr := startServer(t, Config{})
	var raw []byte
	raw = append(raw, request("/echo")...)
	raw = append(raw, fragment(ws.OpText, "first")...)
	raw = append(raw, fragment(ws.OpBinary, "sec", "ond")...)
	raw = append(raw, fragment(ws.OpPing, "p")...)
	c := rawDial(t, addr, string(raw)) // one write
	if c.resp.StatusCode != 101 {
		t.Fatalf("status %d, want 101", c.resp.StatusCode)
	}
	for _, want := range []struct {
		op      ws.OpCode
		payload string
	}{{ws.OpText, "first"}, {ws.OpBinary, "second"}, {ws.OpPong, "p"}} {
		h, p := c.next()
		if h.OpCode != want.op || string(p) != want.payload {
			t.Errorf("got %v %q, want %v %q", h.OpCode, p, want.op, want.payload)
		}
	}
}

func TestHandshakeTimeout(t *testing.T) {
	srv, addr := startServer(t, Config{HandshakeTimeout: 300 * time.Millisecond})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	start := time.Now()
	nc.Write([]byte("GET /echo HTTP/1.1\r\nHost: x\r\n")) // and nothing more
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := nc.Read(make([]byte, 100))
	took := time.Since(start)
	if err == nil {
		t.Fatalf("read %d bytes, want the connection closed", n)
	}
	if took < 200*time.Millisecond || took > 5*time.Second {
		t.Errorf("closed after %v, want about the 300ms handshake timeout", took)
	}
	testwait.For(t, "an aborted handshake in Stats", func() bool { return srv.Stats().Aborted == 1 })
}

func TestHello(t *testing.T) {
	_, addr := startServer(t, Config{ID: "backend-3"})
	c := dial(t, addr, "/ws/echo?hello=1",
		"Origin: https://app.example", "X-Forwarded-For: 10.1.2.3", "X-Forwarded-For: 10.9.9.9",
		"X-Real-IP: 10.1.2.3", "x-forwarded-proto: https")
	h, p := c.next()
	if h.OpCode != ws.OpText {
		t.Fatalf("first message is %v, want a text hello", h.OpCode)
	}
	var got Hello
	if err := json.Unmarshal(p, &got); err != nil {
		t.Fatalf("hello %q: %v", p, err)
	}
	want := Hello{
		Backend: "backend-3",
		Remote:  c.nc.LocalAddr().String(),
		Path:    "/ws/echo?hello=1",
		Host:    "example.test",
		Headers: map[string]string{
			"Origin":            "https://app.example",
			"X-Forwarded-For":   "10.1.2.3, 10.9.9.9",
			"X-Real-Ip":         "10.1.2.3",
			"X-Forwarded-Proto": "https",
		},
	}
	if got.Backend != want.Backend || got.Remote != want.Remote || got.Path != want.Path || got.Host != want.Host {
		t.Errorf("hello = %+v, want %+v", got, want)
	}
	if !equalHeaders(got.Headers, want.Headers) {
		t.Errorf("hello headers = %v, want %v", got.Headers, want.Headers)
	}
	// The connection echoes afterwards.
	c.send(ws.OpText, []byte("after hello"))
	if _, p := c.next(); string(p) != "after hello" {
		t.Errorf("echo after hello = %q", p)
	}
}

func equalHeaders(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestRequestEnd(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"crlf", "GET / HTTP/1.1\r\nHost: x\r\n\r\nFRAME", 27},
		{"bare lf", "GET / HTTP/1.1\nHost: x\n\nFRAME", 24},
		{"mixed", "GET / HTTP/1.1\r\nHost: x\n\r\nFRAME", 26},
		{"incomplete", "GET / HTTP/1.1\r\nHost: x\r\n", -1},
		{"no headers", "GET / HTTP/1.1\r\n\r\n", 18},
		{"empty", "", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := requestEnd([]byte(tt.in)); got != tt.want {
				t.Errorf("requestEnd(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestHeaderValue(t *testing.T) {
	req := []byte("GET / HTTP/1.1\r\nHost: x\r\nsec-websocket-KEY:  abc \r\nX: 1\r\n\r\nSec-WebSocket-Key: body\r\n")
	if got := string(headerValue(req, "Sec-WebSocket-Key")); got != "abc" {
		t.Errorf("headerValue = %q, want abc", got)
	}
	if got := headerValue(req, "Missing"); got != nil {
		t.Errorf("headerValue(Missing) = %q, want nil (the body is not the head)", got)
	}
}

func TestHeaderSafeID(t *testing.T) {
	_, addr := startServer(t, Config{ID: "evil\r\nSet-Cookie: x"})
	c := dial(t, addr, "/")
	if got := c.resp.Header.Get(wire.BackendHeader); got != "evil__Set-Cookie:_x" {
		t.Errorf("%s = %q, want the id with unsafe bytes replaced", wire.BackendHeader, got)
	}
	if c.resp.Header.Get("Set-Cookie") != "" {
		t.Error("the id injected a header")
	}
}

func TestRejectsAfterHeaderStatusNotWritten(t *testing.T) {
	// A refused request whose headers were not all read (the upgrader
	// stops at the first bad one) still gets its response, not a reset.
	_, addr := startServer(t, Config{AllowedOrigins: []string{"https://ok"}})
	lines := []string{"Origin: https://no"}
	for i := range 200 {
		lines = append(lines, "X-Pad-"+strings.Repeat("p", 10)+": "+strings.Repeat("v", 50)+string(rune('a'+i%26)))
	}
	c := rawDial(t, addr, request("/", lines...))
	if c.resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403", c.resp.StatusCode)
	}
}

// A head may arrive in any number of reads, split anywhere, even between
// the CR and LF of a line end; the frame that follows must still be echoed.
func TestHeadInPieces(t *testing.T) {
	_, addr := startServer(t, Config{})
	raw := request("/echo") + string(fragment(ws.OpText, "first"))
	crlf := strings.Index(raw, "\r\n")
	tests := []struct {
		name string
		cuts []int // offsets where one write ends and the next begins
	}{
		{"between CR and LF", []int{crlf + 1}},
		{"inside the blank line", []int{len(request("/echo")) - 1}},
		{"every 7 bytes", func() (c []int) {
			for i := 7; i < len(raw); i += 7 {
				c = append(c, i)
			}
			return c
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.(*net.TCPConn).SetNoDelay(true)
			prev := 0
			for _, cut := range append(tt.cuts, len(raw)) {
				if _, err := nc.Write([]byte(raw[prev:cut])); err != nil {
					t.Fatal(err)
				}
				prev = cut
				time.Sleep(time.Millisecond) // let the server read each piece apart
			}
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			c := &testClient{t: t, nc: nc, br: bufio.NewReader(nc)}
			resp, err := http.ReadResponse(c.br, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 101 {
				t.Fatalf("status %d, want 101", resp.StatusCode)
			}
			if h, p := c.next(); h.OpCode != ws.OpText || string(p) != "first" {
				t.Errorf("got %v %q, want the text frame sent with the head echoed", h.OpCode, p)
			}
		})
	}
}

// The load generator tells a hello from echoed data by wire.HelloPrefix.
func TestHelloStartsWithWirePrefix(t *testing.T) {
	b, err := json.Marshal(Hello{Backend: "b1"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), wire.HelloPrefix) {
		t.Fatalf("hello %s does not start with %s", b, wire.HelloPrefix)
	}
}
