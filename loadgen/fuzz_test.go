package loadgen

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gobwas/httphead"

	"github.com/wsbench/wsbench/wire"
)

// scriptedServer answers the handshake request written to it with resp, in
// which {accept} stands for the Sec-WebSocket-Accept the request's key
// calls for, so a corpus entry can be a valid 101.
type scriptedServer struct {
	req  bytes.Buffer
	resp []byte
	r    *bytes.Reader
}

func (f *scriptedServer) Write(p []byte) (int, error) { return f.req.Write(p) }

func (f *scriptedServer) Read(p []byte) (int, error) {
	if f.r == nil {
		var key string
		for _, line := range strings.Split(f.req.String(), "\r\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Sec-WebSocket-Key") {
				key = strings.TrimSpace(v)
			}
		}
		sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		f.r = bytes.NewReader(bytes.ReplaceAll(f.resp, []byte("{accept}"), []byte(base64.StdEncoding.EncodeToString(sum[:]))))
	}
	return f.r.Read(p)
}

const good101 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: {accept}\r\n" + wire.BackendHeader + ": b7\r\n\r\n"

// FuzzHandshakeResponse: whatever a server answers, the handshake ends in
// a connection or in a named failure cause, never a panic; a connection
// keeps the bytes sent after the 101, and the backend is what its header
// said.
func FuzzHandshakeResponse(f *testing.F) {
	f.Add([]byte(good101))
	f.Add([]byte(good101 + "\x82\x02hi"))
	f.Add([]byte("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 101\r\n\r\n"))
	f.Add([]byte("garbage"))
	f.Add([]byte(strings.Replace(good101, "\r\n\r\n", "\r\nSec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n", 1)))
	f.Add([]byte{})
	u, _ := url.Parse("ws://127.0.0.1:9000/echo")
	f.Fuzz(func(t *testing.T, resp []byte) {
		d := &dialer{header: http.Header{"Origin": {"https://x"}}, protocols: []string{"chat"},
			extensions: []httphead.Option{deflateOffer(false)}}
		var res dialed
		var seen seenHeaders
		wd := d.wsDialer(&res, &seen)
		srv := &scriptedServer{resp: resp}
		br, hs, err := wd.Upgrade(srv, u)
		if err == nil {
			res.agreed, err = agree(d.protocols, hs, seen.protocols, seen.extensions)
		}
		if err != nil {
			if cause := classify(err); cause == "" {
				t.Fatalf("handshake failed (%v) without a cause", err)
			}
			return
		}
		if !bytes.HasPrefix(resp, []byte("HTTP/1.1 101")) {
			t.Fatalf("connected on a response that is no 101: %q", resp)
		}
		if rest := readAhead(br); len(rest) > len(resp) {
			t.Fatalf("%d bytes after the 101 from a %d-byte response", len(rest), len(resp))
		}
		if string(resp) == good101 && res.backend != "b7" {
			t.Fatalf("backend %q, want b7 from %s", res.backend, wire.BackendHeader)
		}
	})
}

// The valid seed connects, names its backend and keeps the frame after it.
func TestHandshakeResponse(t *testing.T) {
	u, _ := url.Parse("ws://127.0.0.1:9000/echo")
	var res dialed
	wd := (&dialer{}).wsDialer(&res, &seenHeaders{})
	br, _, err := wd.Upgrade(&scriptedServer{resp: []byte(good101 + "\x82\x02hi")}, u)
	if err != nil {
		t.Fatal(err)
	}
	if rest := readAhead(br); res.backend != "b7" || string(rest) != "\x82\x02hi" {
		t.Fatalf("backend %q, rest %q; want b7 and the frame after the 101", res.backend, rest)
	}
	for _, tt := range []struct{ resp, cause string }{
		{"HTTP/1.1 502 Bad Gateway\r\n\r\n", "http_502"},
		{strings.Replace(good101, "{accept}", "nope", 1), "bad_accept"},
	} {
		_, _, err := (&dialer{}).wsDialer(&dialed{}, &seenHeaders{}).Upgrade(&scriptedServer{resp: []byte(tt.resp)}, u)
		if got := classify(err); got != tt.cause {
			t.Errorf("%q: cause %q (%v), want %s", tt.resp, got, err, tt.cause)
		}
	}
}
