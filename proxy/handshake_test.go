package proxy

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/internal/tcptest"
)

// TestRefusedBeforeAnyBackend: requests the proxy must answer itself never
// open a backend connection (the only upstream is a tripwire).
func TestRefusedBeforeAnyBackend(t *testing.T) {
	_, addr := startProxy(t, Config{
		Upstreams:      []Upstream{{Addr: tripwire(t)}},
		MaxHeaderBytes: 1024,
		AllowedOrigins: []string{"https://app.example"},
	})
	long := "X-Long: " + strings.Repeat("a", 2000)
	req := upgradeRequest("/")
	tests := []struct {
		name    string
		request string
		status  int
		header  string // "Name: value" the answer must carry
		reason  string // in the answer's body
	}{
		{"plain GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 426, "Upgrade: websocket", ""},
		{"upgrade to h2c", strings.Replace(upgradeRequest("/"), "Upgrade: websocket", "Upgrade: h2c", 1), 426, "Sec-Websocket-Version: 13", ""},
		{"version 8", strings.Replace(upgradeRequest("/"), "Version: 13", "Version: 8", 1), 426, "Sec-Websocket-Version: 13", ""},
		{"POST upgrade", strings.Replace(upgradeRequest("/"), "GET", "POST", 1), 405, "Allow: GET", ""},
		{"bad key", strings.Replace(upgradeRequest("/"), wsKey, "c2hvcnQ=", 1), 400, "", ""},
		{"HTTP/1.0", strings.Replace(upgradeRequest("/"), "HTTP/1.1", "HTTP/1.0", 1), 400, "", ""},
		{"garbage", "HELLO THERE\r\n\r\n", 400, "", ""},
		{"header folding", strings.Replace(upgradeRequest("/"), "Host: front.test\r\n", "Host: front.test\r\n folded\r\n", 1), 400, "", ""},
		{"head too large", upgradeRequest("/", long), 431, "", ""},
		{"foreign origin", upgradeRequest("/", "Origin: https://evil.example"), 403, "", ""},
		// RFC 9110 section 5.5, RFC 9112 sections 2.2, 3.2, 5.1, 5.2, 6.1.
		{"NUL in a header", strings.Replace(req, "front.test", "front\x00test", 1), 400, "", "invalid character NUL in header field"},
		{"bare CR in a header", strings.Replace(req, "front.test", "front\rtest", 1), 400, "", "bare CR in header field"},
		{"space before the colon", strings.Replace(req, "Host:", "Host :", 1), 400, "", "whitespace between header name"},
		{"two Host headers", upgradeRequest("/", "Host: other.test"), 400, "", "2 Host headers"},
		{"obs-fold", strings.Replace(req, "Host: front.test\r\n", "Host: front.test\r\n folded\r\n", 1), 400, "", "obs-fold"},
		{"Content-Length and Transfer-Encoding", upgradeRequest("/", "Content-Length: 5", "Transfer-Encoding: chunked"), 400, "", "both Content-Length and Transfer-Encoding"},
		{"asterisk target", strings.Replace(req, "GET /", "GET *", 1), 400, "", "want an absolute path"},
		{"absolute target with userinfo", strings.Replace(req, "GET /", "GET http://user@front.test/", 1), 400, "", "userinfo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ask(t, addr, "", dialOpts{request: tt.request})
			if c.resp.StatusCode != tt.status {
				t.Fatalf("status %s, want %d", c.resp.Status, tt.status)
			}
			if tt.header != "" {
				name, value, _ := strings.Cut(tt.header, ": ")
				if got := c.resp.Header.Get(name); got != value {
					t.Errorf("%s: %q, want %q", name, got, value)
				}
			}
			if tt.reason != "" {
				if body, _ := io.ReadAll(c.resp.Body); !strings.Contains(string(body), tt.reason) {
					t.Errorf("answer %q, want the reason %q", body, tt.reason)
				}
			}
			if !c.resp.Close {
				t.Error("answer does not say Connection: close")
			}
			if _, ok := c.waitClosed(5 * time.Second); !ok {
				t.Error("connection not closed after the answer")
			}
		})
	}
}

func TestOriginAllowed(t *testing.T) {
	b := startBackend(t, "b1", echo.Config{})
	_, addr := startProxy(t, Config{Upstreams: upstreams(b), AllowedOrigins: []string{"https://App.Example"}})
	open(t, addr, "/", dialOpts{headers: []string{"Origin: https://app.example"}}).echoes("same origin")
	open(t, addr, "/", dialOpts{}).echoes("no origin: not a browser")
}

func TestSlowlorisCutOff(t *testing.T) {
	const limit = 400 * time.Millisecond
	p, addr := startProxy(t, Config{Upstreams: []Upstream{{Addr: tripwire(t)}}, HeaderTimeout: limit})
	c := dial(t, addr, dialOpts{})
	start := time.Now()
	go func() { // a header byte every 50 ms: never done
		io.WriteString(c, "GET / HTTP/1.1\r\n")
		for i := 0; i < 200; i++ {
			if _, err := io.WriteString(c, "X"); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	head := make([]byte, 12)
	if _, err := io.ReadFull(c, head); err != nil || string(head) != "HTTP/1.1 408" {
		t.Fatalf("got %q, %v; want a 408", head, err)
	}
	if took := time.Since(start); took < limit*3/4 || took > limit+3*time.Second {
		t.Errorf("cut off after %v with a %v header timeout", took, limit)
	}
	if got := p.Counters().Timeouts["header"]; got != 1 {
		t.Errorf("header timeouts counted %d, want 1", got)
	}
}

func TestForwardedHeaders(t *testing.T) {
	b := startBackend(t, "b1", echo.Config{})
	tests := []struct {
		name, host, wantHost string
	}{
		{"keep host", "", "front.test"},
		{"proxy host", "$proxy_host", b.addr},
		{"fixed host", "internal.example", "internal.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, addr := startProxy(t, Config{Upstreams: upstreams(b), Host: tt.host})
			c := open(t, addr, "/echo?hello=1", dialOpts{headers: []string{
				"X-Forwarded-For: 203.0.113.9", "X-Real-IP: spoofed", "Connection-Specific: x", "Cookie: a=b"}})
			f, err := c.read(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var hello echo.Hello
			if err := json.Unmarshal(f.Payload, &hello); err != nil {
				t.Fatalf("hello %q: %v", f.Payload, err)
			}
			want := map[string]string{
				"X-Forwarded-For":   "203.0.113.9, 127.0.0.1",
				"X-Real-Ip":         "127.0.0.1",
				"X-Forwarded-Proto": "http",
				"Cookie":            "a=b",
			}
			for k, v := range want {
				if hello.Headers[k] != v {
					t.Errorf("backend received %s: %q, want %q (all: %v)", k, hello.Headers[k], v, hello.Headers)
				}
			}
			if hello.Host != tt.wantHost {
				t.Errorf("backend received Host %q, want %q", hello.Host, tt.wantHost)
			}
		})
	}
}

// TestBackendAnswerPassedOn: a backend's refusal reaches the client as the
// backend wrote it, body included.
func TestBackendAnswerPassedOn(t *testing.T) {
	b := startBackend(t, "picky", echo.Config{AllowedOrigins: []string{"https://only.example"}})
	p, addr := startProxy(t, Config{Upstreams: upstreams(b)})
	c := ask(t, addr, "/", dialOpts{headers: []string{"Origin: https://other.example"}})
	if c.resp.StatusCode != 403 || c.backend() != "picky" {
		t.Fatalf("got %s from %q, want the backend's own 403", c.resp.Status, c.backend())
	}
	body, err := io.ReadAll(c.resp.Body)
	if err != nil || len(body) == 0 {
		t.Errorf("body %q, %v; want the backend's body", body, err)
	}
	if got := p.Counters().Handshakes["backend_status"]; got != 1 {
		t.Errorf("backend_status counted %d", got)
	}
	if st := p.Counters().Backends[0]; st.Fails != 0 {
		t.Errorf("a backend that answers 403 counted %d failures", st.Fails)
	}
}

func TestChunkedAnswerPassedOn(t *testing.T) {
	resp := "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n4\r\noops\r\n0\r\n\r\n"
	// The backend keeps its connection open after the body: the proxy must
	// see where the body ends rather than wait.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		c.Read(buf)
		io.WriteString(c, resp)
		time.Sleep(time.Minute)
	}()
	_, addr := startProxy(t, Config{Upstreams: []Upstream{{Addr: ln.Addr().String()}}})
	c := ask(t, addr, "/", dialOpts{})
	body, err := io.ReadAll(c.resp.Body)
	if c.resp.StatusCode != 500 || string(body) != "oops" || err != nil {
		t.Fatalf("got %s %q %v", c.resp.Status, body, err)
	}
	if took, ok := c.waitClosed(5 * time.Second); !ok {
		t.Errorf("client connection still open %v after the chunked body ended", took)
	}
}

func TestUpstreamFailures(t *testing.T) {
	live := startBackend(t, "live", echo.Config{})
	tests := []struct {
		name     string
		cfg      Config
		status   int
		backend  string // X-Wsbench-Backend of a 101
		outcome  string
		timeouts string // a timeout kind that must be counted
	}{
		{"refused, no other", Config{Upstreams: []Upstream{{Addr: deadAddr(t)}}}, 502, "", "backend_error", ""},
		{"refused, then live", Config{Upstreams: []Upstream{{Addr: deadAddr(t)}, {Addr: live.addr}}}, 101, "live", "ok", ""},
		{"connect timeout", Config{Upstreams: []Upstream{{Addr: blackhole(t)}}, ConnectTimeout: 300 * time.Millisecond}, 504, "", "connect_timeout", "connect"},
		{"connect timeout, then live", Config{Upstreams: []Upstream{{Addr: blackhole(t)}, {Addr: live.addr}}, ConnectTimeout: 300 * time.Millisecond}, 101, "live", "ok", "connect"},
		{"no answer", Config{Upstreams: []Upstream{{Addr: silent(t)}}, ReadTimeout: 300 * time.Millisecond}, 504, "", "backend_timeout", "response"},
		{"garbage answer", Config{Upstreams: []Upstream{{Addr: answering(t, "SSH-2.0-x\r\n\r\n")}, {Addr: live.addr}}}, 502, "", "backend_error", ""},
		{"503 passed on", Config{Upstreams: []Upstream{{Addr: answering(t, "HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy")}}}, 503, "", "backend_status", ""},
		{"503 then next upstream", Config{Upstreams: []Upstream{{Addr: answering(t, "HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy")}, {Addr: live.addr}}, NextUpstream: []int{503}}, 101, "live", "ok", ""},
		{"503 from the last upstream", Config{Upstreams: []Upstream{{Addr: answering(t, "HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy")}}, NextUpstream: []int{503}}, 503, "", "backend_status", ""},
	}
	names := make([]string, len(tests))
	for i, tt := range tests {
		names[i] = tt.name
	}
	concurrently(t, names, func(t *testing.T, i int) {
		tt := tests[i]
		p, addr := startProxy(t, tt.cfg)
		c := ask(t, addr, "/", dialOpts{})
		if c.resp.StatusCode != tt.status || c.backend() != tt.backend {
			t.Fatalf("got %s from %q, want %d from %q", c.resp.Status, c.backend(), tt.status, tt.backend)
		}
		cs := p.Counters()
		if cs.Handshakes[tt.outcome] != 1 {
			t.Errorf("outcome %s counted %d: %v", tt.outcome, cs.Handshakes[tt.outcome], cs.Handshakes)
		}
		if tt.timeouts != "" && cs.Timeouts[tt.timeouts] != 1 {
			t.Errorf("%s timeouts counted %d", tt.timeouts, cs.Timeouts[tt.timeouts])
		}
		if tt.status == 101 {
			c.echoes("after failover")
			if cs.Backends[0].Fails != 1 || !cs.Backends[0].Down {
				t.Errorf("first backend: %+v, want 1 failure and out", cs.Backends[0])
			}
		}
	})
}

func TestMaxConns(t *testing.T) {
	b := startBackend(t, "b1", echo.Config{})
	p, addr := startProxy(t, Config{Upstreams: upstreams(b), MaxConns: 2})
	c1 := open(t, addr, "/", dialOpts{})
	open(t, addr, "/", dialOpts{})
	if c := ask(t, addr, "/", dialOpts{}); c.resp.StatusCode != 503 {
		t.Fatalf("third connection: %s, want 503", c.resp.Status)
	}
	c1.Close()
	waitFor(t, "tunnel released", func() bool { return p.Counters().TunnelsOpen == 1 })
	open(t, addr, "/", dialOpts{}).echoes("room again")
	if got := p.Counters().Handshakes["limited"]; got != 1 {
		t.Errorf("limited counted %d", got)
	}
}

func TestMaxConnsPerIP(t *testing.T) {
	b := startBackend(t, "b1", echo.Config{})
	_, addr := startProxy(t, Config{Upstreams: upstreams(b), MaxConnsPerIP: 2})
	for i := 0; i < 2; i++ {
		open(t, addr, "/", dialOpts{local: "127.0.0.1"})
	}
	if c := ask(t, addr, "/", dialOpts{local: "127.0.0.1"}); c.resp.StatusCode != 503 {
		t.Fatalf("third from 127.0.0.1: %s, want 503", c.resp.Status)
	}
	open(t, addr, "/", dialOpts{local: "127.0.0.2"}).echoes("another client address")
}

// TestReadAhead: bytes a client sends in the same packet as its request,
// and bytes the backend sends right behind its 101, are not lost.
func TestReadAhead(t *testing.T) {
	forEachVariant(t, func(t *testing.T, cfg Config) {
		b := startBackend(t, "b1", echo.Config{})
		cfg.Upstreams = upstreams(b)
		_, addr := startProxy(t, cfg)
		first := ws.MustCompileFrame(ws.MaskFrame(ws.NewTextFrame([]byte("sent with the handshake"))))
		c := open(t, addr, "/echo?hello=1", dialOpts{extra: first})
		if f, err := c.read(5 * time.Second); err != nil || !strings.Contains(string(f.Payload), `"backend":"b1"`) {
			t.Fatalf("first message %q, %v; want the backend's hello", f.Payload, err)
		}
		if f, err := c.read(5 * time.Second); err != nil || string(f.Payload) != "sent with the handshake" {
			t.Fatalf("second message %q, %v; want the echo of the read-ahead frame", f.Payload, err)
		}
	})
}

// TestCloseHandshake: a close frame and the client's FIN reach the
// backend, whose close frame and FIN come back.
func TestCloseHandshake(t *testing.T) {
	forEachVariant(t, func(t *testing.T, cfg Config) {
		b := startBackend(t, "b1", echo.Config{})
		cfg.Upstreams = upstreams(b)
		_, addr := startProxy(t, cfg)
		c := open(t, addr, "/", dialOpts{})
		if err := c.send(ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye")); err != nil {
			t.Fatal(err)
		}
		c.Conn.(*net.TCPConn).CloseWrite()
		f, err := c.read(5 * time.Second)
		if err != nil || f.Header.OpCode != ws.OpClose {
			t.Fatalf("after close and FIN: %v %v; want the backend's close frame", f.Header.OpCode, err)
		}
		if code, _ := ws.ParseCloseFrameData(f.Payload); code != ws.StatusNormalClosure {
			t.Errorf("close code %d, want 1000", code)
		}
		if _, ok := c.waitClosed(5 * time.Second); !ok {
			t.Error("the backend's FIN did not reach the client")
		}
	})
}

// finBackend answers 101, reads until the client's FIN, then sends a
// message and closes: only a proxy that passes half-closes on lets the
// client see it.
func finBackend(t testing.TB) string {
	return tcptest.Serve(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.Copy(io.Discard, br); err != nil {
			return // no FIN: the client sees no message
		}
		ws.WriteFrame(c, ws.NewTextFrame([]byte("got your FIN")))
	})
}

// TestHalfClose: the client's FIN reaches the backend, and what the
// backend sends afterwards still reaches the client.
func TestHalfClose(t *testing.T) {
	forEachVariant(t, func(t *testing.T, cfg Config) {
		cfg.Upstreams = []Upstream{{Addr: finBackend(t)}}
		_, addr := startProxy(t, cfg)
		c := open(t, addr, "/", dialOpts{})
		c.send(ws.OpText, []byte("last words"))
		c.Conn.(*net.TCPConn).CloseWrite()
		f, err := c.read(5 * time.Second)
		if err != nil || string(f.Payload) != "got your FIN" {
			t.Fatalf("after FIN: %q, %v; want the backend's answer to the FIN", f.Payload, err)
		}
		if _, ok := c.waitClosed(5 * time.Second); !ok {
			t.Error("the backend's FIN did not reach the client")
		}
	})
}

func TestAdminHandler(t *testing.T) {
	b := startBackend(t, "b1", echo.Config{})
	p, addr := startProxy(t, Config{Upstreams: upstreams(b)})
	c := open(t, addr, "/", dialOpts{})
	c.echoes("count me")
	ask(t, addr, "/", dialOpts{request: "GET / HTTP/1.1\r\nHost: a\r\n\r\n"})
	srv := httptest.NewServer(p.AdminHandler())
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/anything")
	if err != nil {
		t.Fatal(err)
	}
	var got Counters
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "application/json" || got.TunnelsOpen != 1 || got.Handshakes["ok"] != 1 ||
		got.Handshakes["not_upgrade"] != 1 || got.BytesUp == 0 || got.BytesDown == 0 || len(got.Backends) != 1 ||
		got.Backends[0].TunnelsOpen != 1 || got.Backends[0].Addr != b.addr {
		t.Errorf("counters %+v", got)
	}
	for _, kind := range []string{"header", "connect", "response", "read", "send", "lifetime"} {
		if _, ok := got.Timeouts[kind]; !ok {
			t.Errorf("timeouts lack %q", kind)
		}
	}
	resp, err = http.Post(srv.URL, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
}
