package echo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/gobwas/ws"
)

// Hello is the JSON of the ?hello=1 first message.
type Hello struct {
	Backend string            `json:"backend"`
	Remote  string            `json:"remote"` // the TCP peer address the backend saw
	Path    string            `json:"path"`   // request URI
	Host    string            `json:"host"`
	Headers map[string]string `json:"headers"` // every non-handshake request header received (Origin, X-Forwarded-For, X-Real-IP, X-Forwarded-Proto, …), canonical keys
}

// maxRequestHead bounds the request line and headers; a bigger head gets 431.
const maxRequestHead = 16 << 10

var errRequestTooLarge = fmt.Errorf("echo: request head larger than %d bytes", maxRequestHead)

// HandshakeError is why a handshake failed. Status is the HTTP status sent
// to the client, or 0 when the client went away (or timed out) before a
// complete request.
type HandshakeError struct {
	Status int
	Err    error
}

func (e *HandshakeError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("echo: handshake: %v", e.Err)
	}
	return fmt.Sprintf("echo: handshake refused with %d: %v", e.Status, e.Err)
}

func (e *HandshakeError) Unwrap() error { return e.Err }

// handshake runs one upgrade. It is the io.ReadWriter given to ws.Upgrader
// and keeps every byte the upgrader read: the upgrader reads through a
// pooled bufio.Reader and drops what it read past the request, which may
// already hold the client's first frames.
type handshake struct {
	s        *Server
	nc       net.Conn
	captured []byte // everything read so far
	wrote    bool   // the upgrader answered

	uri     string
	host    string
	opts    options
	headers map[string]string // for the hello message
}

func (h *handshake) Read(p []byte) (int, error) {
	if len(h.captured) > maxRequestHead {
		return 0, errRequestTooLarge
	}
	n, err := h.nc.Read(p)
	h.captured = append(h.captured, p[:n]...)
	return n, err
}

func (h *handshake) Write(p []byte) (int, error) {
	h.wrote = true
	return h.nc.Write(p)
}

// upgrade answers the request on nc. On success it returns the handshake,
// whose readAhead holds the bytes that followed the request.
func (s *Server) upgrade(nc net.Conn) (*handshake, error) {
	h := &handshake{s: s, nc: nc, headers: map[string]string{}}
	u := ws.Upgrader{
		Header:          s.header,
		OnRequest:       h.onRequest,
		OnHost:          h.onHost,
		OnHeader:        h.onHeader,
		OnBeforeUpgrade: h.onBeforeUpgrade,
	}
	if _, err := u.Upgrade(h); err != nil {
		return nil, &HandshakeError{Status: h.answer(err), Err: err}
	}
	if requestEnd(h.captured) < 0 { // the upgrader accepted what we cannot delimit: a bug
		return nil, &HandshakeError{Err: errors.New("echo: cannot find the end of the request")}
	}
	return h, nil
}

// readAhead returns the bytes the client sent after its request.
func (h *handshake) readAhead() []byte { return h.captured[requestEnd(h.captured):] }

func (h *handshake) onRequest(uri []byte) error {
	h.uri = string(uri)
	o, err := parseOptions(h.uri, h.s.cfg.MaxMessage)
	if err != nil {
		return reject(http.StatusBadRequest, err.Error())
	}
	h.opts = o
	return nil
}

func (h *handshake) onHost(host []byte) error {
	h.host = string(host)
	return nil
}

// onHeader sees every header the upgrader does not handle itself (the key
// is canonical): Origin is checked here, and all are kept for the hello.
func (h *handshake) onHeader(key, value []byte) error {
	k, v := string(key), string(value)
	if k == "Origin" && !h.s.originAllowed(v) {
		return reject(http.StatusForbidden, fmt.Sprintf("echo: origin %q is not allowed", v))
	}
	if h.opts.hello {
		if old, ok := h.headers[k]; ok {
			v = old + ", " + v
		}
		h.headers[k] = v
	}
	return nil
}

// onBeforeUpgrade checks what gobwas does not: the upgrader only checks that
// Sec-WebSocket-Key is 24 bytes long, RFC 6455 4.2.1 wants it to be the
// base64 of 16 bytes.
func (h *handshake) onBeforeUpgrade() (ws.HandshakeHeader, error) {
	key := headerValue(h.captured, "Sec-WebSocket-Key")
	var raw [18]byte // DecodedLen(24)
	if n, err := base64.StdEncoding.Decode(raw[:], key); err != nil || n != 16 {
		return nil, reject(http.StatusBadRequest, fmt.Sprintf("echo: Sec-WebSocket-Key %q is not the base64 of 16 bytes", key))
	}
	return nil, nil
}

func reject(status int, reason string) error {
	return ws.RejectConnectionError(
		ws.RejectionStatus(status),
		ws.RejectionReason(reason),
		ws.RejectionHeader(ws.HandshakeHeaderString("Connection: close\r\n")),
	)
}

// answer makes sure a refused request got a response and returns its
// status. The upgrader writes one for most refusals, but not when the
// request line itself is malformed or the head is too large.
func (h *handshake) answer(err error) int {
	var rej *ws.ConnectionRejectedError
	status := 0
	switch {
	case errors.As(err, &rej):
		status = rej.StatusCode()
	case errors.Is(err, errRequestTooLarge):
		status = http.StatusRequestHeaderFieldsTooLarge
	default:
		return 0 // EOF, reset, timeout: nobody to answer
	}
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if !h.wrote {
		h.writeError(status, err.Error())
	}
	return status
}

func (h *handshake) writeError(status int, body string) {
	fmt.Fprintf(h.nc, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n%s\r\n%s",
		status, http.StatusText(status), len(body), string(h.s.header), body)
}

// hello renders the ?hello=1 message.
func (h *handshake) hello() []byte {
	b, err := json.Marshal(Hello{
		Backend: h.s.id,
		Remote:  addrString(h.nc.RemoteAddr()),
		Path:    h.uri,
		Host:    h.host,
		Headers: h.headers,
	})
	if err != nil { // strings and a map of strings always marshal
		panic("echo: marshal hello: " + err.Error())
	}
	return b
}

// addrString tolerates connections without a peer address (a socketpair).
func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// nextLine returns the line starting at off without its "\n" or "\r\n", the
// offset after it, and false when no complete line starts at off. It cuts
// lines exactly as the gobwas upgrader does.
func nextLine(b []byte, off int) (line []byte, next int, ok bool) {
	i := bytes.IndexByte(b[off:], '\n')
	if i < 0 {
		return nil, off, false
	}
	line = b[off : off+i]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, off + i + 1, true
}

// requestEnd returns the offset just past the blank line that ends the
// request head in b, or -1 if b does not hold a complete head.
func requestEnd(b []byte) int {
	_, off, ok := nextLine(b, 0) // request line
	for ok {
		var line []byte
		line, off, ok = nextLine(b, off)
		if ok && len(line) == 0 {
			return off
		}
	}
	return -1
}

// headerValue returns the trimmed value of the first header named name
// (case-insensitive) in the request head b.
func headerValue(b []byte, name string) []byte {
	_, off, ok := nextLine(b, 0)
	for ok {
		var line []byte
		line, off, ok = nextLine(b, off)
		if !ok || len(line) == 0 {
			break
		}
		k, v, found := bytes.Cut(line, []byte(":"))
		if found && strings.EqualFold(string(bytes.TrimSpace(k)), name) {
			return bytes.TrimSpace(v)
		}
	}
	return nil
}
