package upgrade

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// valid is a browser-like WebSocket opening handshake.
const valid = "GET /chat?room=7 HTTP/1.1\r\n" +
	"Host: example.com\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: keep-alive, Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Origin: http://example.com\r\n" +
	"\r\n"

func TestHeadEnd(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", -1},
		{"GET / HTTP/1.1\r\n", -1},
		{"GET / HTTP/1.1\r\n\r\n", 18},
		{"GET / HTTP/1.1\n\n", 16},
		{"GET / HTTP/1.1\r\nA: b\r\n\r\nframe", 24},
		{"GET / HTTP/1.1\r\nA: b\r\n\r", -1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			if got := HeadEnd([]byte(tt.in), 0); got != tt.want {
				t.Errorf("HeadEnd = %d, want %d", got, tt.want)
			}
		})
	}
	// Fed one byte at a time, the resumed search finds the same end.
	b := []byte(valid + "rest")
	from := 0
	for i := 1; i <= len(b); i++ {
		if end := HeadEnd(b[:i], from); end >= 0 {
			if end != len(valid) {
				t.Fatalf("incremental HeadEnd = %d, want %d", end, len(valid))
			}
			return
		}
		from = i
	}
	t.Fatal("incremental HeadEnd never found the end")
}

func TestParseRequestValid(t *testing.T) {
	req, err := ParseRequest([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if string(req.Method) != "GET" || string(req.Target) != "/chat?room=7" || req.Major != 1 || req.Minor != 1 {
		t.Errorf("request line = %s %s %d.%d", req.Method, req.Target, req.Major, req.Minor)
	}
	if len(req.Fields) != 6 {
		t.Errorf("got %d fields, want 6", len(req.Fields))
	}
	if v, _ := req.Get("host"); string(v) != "example.com" {
		t.Errorf("Get(host) = %q", v)
	}
	if !req.HasToken("connection", "UPGRADE") || req.HasToken("Connection", "close") {
		t.Error("HasToken does not read the Connection list")
	}
	if err := Check(&req); err != nil {
		t.Errorf("Check(valid) = %v", err)
	}
}

func TestParseRequestMalformed(t *testing.T) {
	tests := []struct{ name, head, reason string }{
		{"no blank line", "GET / HTTP/1.1\r\nHost: a\r\n", "not terminated by a blank line"},
		{"one word", "GET\r\n\r\n", "want METHOD SP TARGET"},
		{"two words", "GET /\r\n\r\n", "want METHOD SP TARGET"},
		{"four words", "GET / x HTTP/1.1\r\n\r\n", "HTTP version"},
		{"bad version", "GET / HTTP/11\r\n\r\n", "HTTP version"},
		{"lowercase proto", "GET / http/1.1\r\n\r\n", "HTTP version"},
		{"method not token", "G(T / HTTP/1.1\r\n\r\n", "not an HTTP token"},
		{"target with control", "GET /\x01 HTTP/1.1\r\n\r\n", "control or space character"},
		{"NUL in the request line", "GET /\x00 HTTP/1.1\r\n\r\n", "invalid character NUL in request line"},
		{"bare CR in the request line", "GET / HTTP/1.1\rX\r\n\r\n", "bare CR in request line"},
		{"no colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", "has no colon"},
		{"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", `whitespace between header name "Host" and the colon`},
		{"tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", `whitespace between header name "Host" and the colon`},
		{"empty name", "GET / HTTP/1.1\r\n: a\r\n\r\n", "not an HTTP token"},
		{"obs-fold", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", "folded (obs-fold)"},
		{"whitespace before the first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", "whitespace between the start line and the first header field"},
		{"control in value", "GET / HTTP/1.1\r\nA: b\x01c\r\n\r\n", "control character in its value"},
		{"NUL in value", "GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n", "invalid character NUL in header field"},
		{"NUL in name", "GET / HTTP/1.1\r\nA\x00: b\r\n\r\n", "invalid character NUL in header field"},
		{"bare CR", "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", "bare CR in header field"},
		{"absolute, userinfo", "GET http://u:p@h/ HTTP/1.1\r\n\r\n", "userinfo"},
		{"absolute, no host", "GET http:///chat HTTP/1.1\r\n\r\n", "no host"},
		{"absolute, port not a number", "GET http://h:x/ HTTP/1.1\r\n\r\n", `port "x"`},
		{"absolute, bad host character", "GET http://h\"/ HTTP/1.1\r\n\r\n", "not allowed in a host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRequest([]byte(tt.head))
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
				t.Fatalf("ParseRequest = %v, want a 400 *Error", err)
			}
			if !strings.HasPrefix(err.Error(), "upgrade: 400 Bad Request: ") {
				t.Errorf("error %q lacks the domain prefix and status", err)
			}
			if !strings.Contains(e.Reason, tt.reason) {
				t.Errorf("reason %q, want it to say %q", e.Reason, tt.reason)
			}
		})
	}
}

// TestAbsoluteForm: an absolute-form target (RFC 9112 section 3.2.2) is
// accepted; its authority replaces the Host header and the backend gets
// origin-form.
func TestAbsoluteForm(t *testing.T) {
	tests := []struct{ target, authority, origin string }{
		{"http://example.com/chat?room=7", "example.com", "/chat?room=7"},
		{"HTTP://Example.com:8080/a", "Example.com:8080", "/a"},
		{"ws://h/a", "h", "/a"},
		{"http://example.com", "example.com", "/"},
		{"http://example.com?x=1", "example.com", "/?x=1"},
		{"http://[::1]:9000/a", "[::1]:9000", "/a"},
		{"http://h:/a", "h:", "/a"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			head := strings.Replace(valid, "/chat?room=7", tt.target, 1)
			req, err := ParseRequest([]byte(head))
			if err != nil {
				t.Fatal(err)
			}
			if string(req.Authority) != tt.authority || string(req.Target) != tt.origin {
				t.Fatalf("authority %q target %q, want %q %q", req.Authority, req.Target, tt.authority, tt.origin)
			}
			if e := Check(&req); e != nil {
				t.Fatalf("Check = %v", e)
			}
			out := string(AppendForward(nil, &req, Forward{}))
			if !strings.HasPrefix(out, "GET "+tt.origin+" HTTP/1.1\r\nHost: "+tt.authority+"\r\n") || strings.Count(out, "Host: ") != 1 {
				t.Errorf("forwarded:\n%s", out)
			}
			if fixed := string(AppendForward(nil, &req, Forward{Host: "backend:9000"})); !strings.Contains(fixed, "\r\nHost: backend:9000\r\n") {
				t.Errorf("Forward.Host does not win over the authority:\n%s", fixed)
			}
		})
	}
	// Origin-form keeps no authority; the other forms are for CONNECT and
	// OPTIONS, which are no upgrade.
	req, _ := ParseRequest([]byte(valid))
	if req.Authority != nil {
		t.Errorf("origin-form authority %q, want nil", req.Authority)
	}
	for _, target := range []string{"*", "example.com:443", "mailto:a@b"} {
		req, err := ParseRequest([]byte(strings.Replace(valid, "/chat?room=7", target, 1)))
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if e := Check(&req); e == nil || e.Status != 400 {
			t.Errorf("%s: Check = %v, want 400", target, e)
		}
	}
}

// replace swaps one header line of valid for another ("" deletes it).
func replace(old, new string) string {
	if new != "" {
		new += "\r\n"
	}
	return strings.Replace(valid, old+"\r\n", new, 1)
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		head   string
		status int
		header string // a header line the answer must carry
	}{
		{"plain GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 426, "Sec-WebSocket-Version: 13"},
		{"no Connection upgrade", replace("Connection: keep-alive, Upgrade", "Connection: keep-alive"), 426, "Upgrade: websocket"},
		{"other Upgrade", replace("Upgrade: websocket", "Upgrade: h2c"), 426, "Upgrade: websocket"},
		{"POST upgrade", strings.Replace(valid, "GET", "POST", 1), 405, "Allow: GET"},
		{"HTTP/1.0", strings.Replace(valid, "HTTP/1.1", "HTTP/1.0", 1), 400, ""},
		{"absolute target", strings.Replace(valid, "/chat", "http://x/chat", 1), 0, ""},
		{"asterisk target", strings.Replace(valid, "/chat?room=7", "*", 1), 400, ""},
		{"no Host", replace("Host: example.com", ""), 400, ""},
		{"two Hosts", replace("Host: example.com", "Host: a\r\nHost: b"), 400, ""},
		{"no key", replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", ""), 400, ""},
		{"short key", replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Key: c2hvcnQ="), 400, ""},
		{"key not base64", replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!=="), 400, ""},
		{"version 8", replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), 426, "Sec-WebSocket-Version: 13"},
		{"no version", replace("Sec-WebSocket-Version: 13", ""), 426, "Sec-WebSocket-Version: 13"},
		{"chunked body", replace("Origin: http://example.com", "Transfer-Encoding: chunked"), 400, ""},
		{"Content-Length and Transfer-Encoding", replace("Origin: http://example.com", "Content-Length: 0\r\nTransfer-Encoding: chunked"), 400, ""},
		{"body", replace("Origin: http://example.com", "Content-Length: 5"), 400, ""},
		{"empty body is fine", replace("Origin: http://example.com", "Content-Length: 0"), 0, ""},
		{"tokens in any case", strings.Replace(strings.Replace(valid, "websocket", "WebSocket", 1), "Upgrade\r\n", "uPgRaDe\r\n", 1), 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ParseRequest([]byte(tt.head))
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			e := Check(&req)
			if tt.status == 0 {
				if e != nil {
					t.Fatalf("Check = %v, want nil", e)
				}
				return
			}
			if e == nil || e.Status != tt.status {
				t.Fatalf("Check = %v, want status %d", e, tt.status)
			}
			if tt.header != "" && !contains(e.Header, tt.header) {
				t.Errorf("answer headers %q lack %q", e.Header, tt.header)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestAppendForward(t *testing.T) {
	in := "GET /ws HTTP/1.1\r\n" +
		"Host: front.example\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade, X-Secret\r\n" +
		"X-Secret: drop me\r\n" +
		"Keep-Alive: 5\r\n" +
		"X-Forwarded-For: 10.0.0.1\r\n" +
		"x-forwarded-for: 10.0.0.2 \r\n" +
		"X-Real-IP: spoofed\r\n" +
		"X_Real_IP: spoofed too\r\n" +
		"X-Forwarded-Proto: https\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Cookie: a=b\r\n" +
		"\r\n"
	tests := []struct {
		name string
		fw   Forward
		want string
	}{
		{"nginx map idiom", Forward{ClientIP: "192.0.2.9", Proto: "http"}, "GET /ws HTTP/1.1\r\n" +
			"Host: front.example\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
			"Sec-WebSocket-Version: 13\r\n" +
			"Cookie: a=b\r\n" +
			"Upgrade: websocket\r\nConnection: Upgrade\r\n" +
			"X-Forwarded-For: 10.0.0.1, 10.0.0.2, 192.0.2.9\r\n" +
			"X-Real-IP: 192.0.2.9\r\n" +
			"X-Forwarded-Proto: http\r\n\r\n"},
		{"host replaced, forwarding headers untouched", Forward{Host: "backend:9000"}, "GET /ws HTTP/1.1\r\n" +
			"Host: backend:9000\r\n" +
			"X-Forwarded-For: 10.0.0.1\r\n" +
			"x-forwarded-for: 10.0.0.2\r\n" +
			"X-Real-IP: spoofed\r\n" +
			"X-Forwarded-Proto: https\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
			"Sec-WebSocket-Version: 13\r\n" +
			"Cookie: a=b\r\n" +
			"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n"},
		{"underscores forwarded when asked", Forward{Underscores: true}, "GET /ws HTTP/1.1\r\n" +
			"Host: front.example\r\n" +
			"X-Forwarded-For: 10.0.0.1\r\n" +
			"x-forwarded-for: 10.0.0.2\r\n" +
			"X-Real-IP: spoofed\r\n" +
			"X_Real_IP: spoofed too\r\n" +
			"X-Forwarded-Proto: https\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
			"Sec-WebSocket-Version: 13\r\n" +
			"Cookie: a=b\r\n" +
			"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ParseRequest([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			got := string(AppendForward(nil, &req, tt.fw))
			if got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name   string
		head   string
		status int
		body   Body
		err    bool
	}{
		{"101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 101, Body{Kind: BodyNone}, false},
		{"no reason", "HTTP/1.1 403\r\n\r\n", 403, Body{Kind: BodyUntilClose}, false},
		{"length", "HTTP/1.1 400 Bad Request\r\nContent-Length: 12\r\n\r\n", 400, Body{Kind: BodyLength, Length: 12}, false},
		{"chunked", "HTTP/1.1 500 Oops\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 500, Body{Kind: BodyChunked}, false},
		{"204", "HTTP/1.1 204 No Content\r\n\r\n", 204, Body{Kind: BodyNone}, false},
		{"bad length", "HTTP/1.1 400 x\r\nContent-Length: -1\r\n\r\n", 400, Body{}, true},
		{"two lengths", "HTTP/1.1 400 x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, Body{}, true},
		{"garbage", "SSH-2.0-OpenSSH\r\n\r\n", 0, Body{}, true},
		{"two-digit status", "HTTP/1.1 99 x\r\n\r\n", 0, Body{}, true},
		{"NUL in a field", "HTTP/1.1 101 x\r\nUpgrade: web\x00socket\r\n\r\n", 0, Body{}, true},
		{"bare CR in the status line", "HTTP/1.1 101 x\ry\r\n\r\n", 0, Body{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := ParseResponse([]byte(tt.head))
			var body Body
			if err == nil {
				body, err = resp.Body()
			}
			if tt.err {
				var e *Error
				if !errors.As(err, &e) || e.Status != http.StatusBadGateway {
					t.Fatalf("err = %v, want a 502 *Error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.status || body != tt.body {
				t.Errorf("status %d body %+v, want %d %+v", resp.Status, body, tt.status, tt.body)
			}
		})
	}
}

func TestChunkedEnd(t *testing.T) {
	tests := []struct {
		name string
		body string
		err  bool
	}{
		{"empty", "0\r\n\r\n", false},
		{"two chunks", "5\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n", false},
		{"extension and trailer", "3;name=v\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n", false},
		{"bare LF", "3\nabc\n0\n\n", true},
		{"not hex", "xyz\r\n", true},
		{"data too long", "2\r\nabc\r\n", true},
		{"no size", "\r\n", true},
		{"huge size", "1000000000000000\r\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.body + "NEXT")
			var c ChunkedEnd
			n, done, err := c.Scan(in)
			if tt.err {
				if err == nil {
					t.Fatalf("Scan = %d %v nil, want an error", n, done)
				}
				return
			}
			if err != nil || !done || n != len(tt.body) {
				t.Fatalf("Scan = %d %v %v, want %d true nil", n, done, err, len(tt.body))
			}
			// Byte by byte gives the same end.
			var d ChunkedEnd
			for i := range in {
				k, done, err := d.Scan(in[i : i+1])
				if err != nil {
					t.Fatal(err)
				}
				if done {
					if i+k != len(tt.body) {
						t.Fatalf("byte-wise end at %d, want %d", i+k, len(tt.body))
					}
					return
				}
			}
			t.Fatal("byte-wise scan never finished")
		})
	}
}

func TestErrorClipsHostileInput(t *testing.T) {
	_, err := ParseRequest([]byte("GET " + strings.Repeat("\x01", 5000) + " HTTP/1.1\r\n\r\n"))
	if err == nil || len(err.Error()) > 300 {
		t.Fatalf("error of %d bytes: %.100v", len(err.Error()), err)
	}
	if !bytes.Contains([]byte(err.Error()), []byte("...")) {
		t.Errorf("error %q does not show it was clipped", err)
	}
}
