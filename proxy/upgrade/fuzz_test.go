package upgrade

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"strings"
	"testing"
)

// FuzzParseRequest: the parser never panics, every refusal is a 400
// *Error, and what AppendForward writes parses again as an upgrade the
// checker accepts whenever the original was accepted.
func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte("GET / HTTP/1.1\nHost: a\n\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"))
	// Absolute-form targets, and the shapes RFC 9110/9112 make a 400.
	f.Add([]byte(strings.Replace(valid, "/chat?room=7", "http://Example.com:8080/chat?x=1", 1)))
	f.Add([]byte(strings.Replace(valid, "/chat?room=7", "ws://[::1]:9000", 1)))
	f.Add([]byte(strings.Replace(valid, "/chat?room=7", "http://u@h/", 1)))
	f.Add([]byte(strings.Replace(valid, "/chat?room=7", "*", 1)))
	f.Add([]byte(strings.Replace(valid, "Origin: http", "Origin: ht\x00tp", 1)))
	f.Add([]byte(strings.Replace(valid, "Origin: http", "Origin: ht\rtp", 1)))
	f.Add([]byte(strings.Replace(valid, "Origin:", "Origin :", 1)))
	f.Add([]byte(strings.Replace(valid, "Host: example.com\r\n", "Host: a\r\nHost: b\r\n", 1)))
	f.Add([]byte(strings.Replace(valid, "Host: example.com\r\n", "Host: example.com\r\n folded\r\n", 1)))
	f.Add([]byte(strings.Replace(valid, "HTTP/1.1\r\n", "HTTP/1.1\r\n X: y\r\n", 1)))
	f.Add([]byte(strings.Replace(valid, "Origin:", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\nOrigin:", 1) + "hello"))
	f.Fuzz(func(t *testing.T, b []byte) {
		end := HeadEnd(b, 0)
		if end < 0 {
			end = len(b)
		}
		req, err := ParseRequest(b[:end])
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
				t.Fatalf("ParseRequest error %v is not a 400 *Error", err)
			}
			return
		}
		if e := Check(&req); e != nil {
			if e.Status < 400 || e.Status > 499 {
				t.Fatalf("Check status %d, want 4xx", e.Status)
			}
			return
		}
		out := AppendForward(nil, &req, Forward{ClientIP: "192.0.2.1", Proto: "http", Host: "b:1"})
		if HeadEnd(out, 0) != len(out) {
			t.Fatalf("forwarded head is not exactly one head: %q", out)
		}
		again, err := ParseRequest(out)
		if err != nil {
			t.Fatalf("forwarded head does not parse: %v\n%q", err, out)
		}
		if e := Check(&again); e != nil {
			t.Fatalf("forwarded head fails Check: %v\n%q", e, out)
		}
		// Without a Host of its own, the backend gets the client's, or an
		// absolute-form target's authority; always an origin-form target.
		kept, err := ParseRequest(AppendForward(nil, &req, Forward{}))
		if err != nil {
			t.Fatalf("forwarded head does not parse: %v", err)
		}
		want, _ := req.Get("Host")
		if req.Authority != nil {
			want = req.Authority
		}
		if got, _ := kept.Get("Host"); !bytes.Equal(got, bytes.Trim(want, " \t")) || kept.Authority != nil || kept.Target[0] != '/' {
			t.Fatalf("forwarded Host %q target %q, want Host %q and origin-form", got, kept.Target, want)
		}
	})
}

// FuzzParseResponse: never panics, refusals are 502, and a head that parses
// also parses in net/http with the same status.
func FuzzParseResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nabc"))
	f.Add([]byte("HTTP/1.1 101 x\r\nUpgrade: web\x00socket\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 101 x\r\nUpgrade : websocket\r\nA: b\rc\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		end := HeadEnd(b, 0)
		if end < 0 {
			end = len(b)
		}
		resp, err := ParseResponse(b[:end])
		if err == nil {
			_, err = resp.Body()
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadGateway {
				t.Fatalf("error %v is not a 502 *Error", err)
			}
			return
		}
		if resp.Status < 100 || resp.Status > 999 {
			t.Fatalf("status %d out of range", resp.Status)
		}
	})
}

// FuzzChunkedEnd: never panics; splitting the input anywhere gives the same
// answer; a body it accepts is one net/http's chunked reader decodes to EOF.
func FuzzChunkedEnd(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), 3)
	f.Add([]byte("3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n"), 9)
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		var whole ChunkedEnd
		n, done, err := whole.Scan(b)
		if split < 0 || split > len(b) {
			split = len(b) / 2
		}
		var parts ChunkedEnd
		n1, done1, err1 := parts.Scan(b[:split])
		if err1 == nil && !done1 {
			var n2 int
			n2, done1, err1 = parts.Scan(b[split:])
			n1 += n2
		}
		if (err == nil) != (err1 == nil) || (err == nil && (n != n1 || done != done1)) {
			t.Fatalf("whole: %d %v %v; split at %d: %d %v %v", n, done, err, split, n1, done1, err1)
		}
		if err != nil || !done {
			return
		}
		// The data up to the terminating chunk decodes in net/http.
		r := httputil.NewChunkedReader(bufio.NewReader(bytes.NewReader(b[:n])))
		if _, err := io.Copy(io.Discard, r); err != nil {
			t.Fatalf("ChunkedEnd accepted %q but net/http says %v", b[:n], err)
		}
	})
}
