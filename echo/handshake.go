package echo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/wsbench/wsbench/frame"
	"github.com/wsbench/wsbench/internal/httpsyntax"
	"github.com/wsbench/wsbench/wire"
)

// Hello is the JSON of the ?hello=1 first message.
type Hello struct {
	Backend string            `json:"backend"`
	Remote  string            `json:"remote"` // the TCP peer address the backend saw
	Path    string            `json:"path"`   // request URI
	Host    string            `json:"host"`
	Headers map[string]string `json:"headers"` // every non-handshake request header received (Origin, X-Forwarded-For, X-Real-IP, X-Forwarded-Proto, …), canonical keys
	// What the handshake offered, as received (every Sec-WebSocket-Protocol
	// and Sec-WebSocket-Extensions value, joined with ", "), and what the
	// backend agreed: the subprotocol it selected, the extension it
	// accepted with its parameters.
	OfferedProtocols  string `json:"offered_protocols,omitempty"`
	OfferedExtensions string `json:"offered_extensions,omitempty"`
	Protocol          string `json:"protocol,omitempty"`
	Extensions        string `json:"extensions,omitempty"`
}

// maxRequestHead bounds the request head: request line, header lines and
// the blank line that ends them. A longer head gets 431.
const maxRequestHead = 16 << 10

// firstHeadRead is the buffer the head is first read into: a browser's
// upgrade request is about 500 bytes. It doubles up to maxRequestHead+1.
const firstHeadRead = 1 << 10

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

// headError is a head refused before the upgrader saw it.
type headError struct {
	status int
	header string // response header lines the status calls for, each ending in CRLF
	reason string
}

func (e *headError) Error() string { return e.reason }

// handshake runs one upgrade. The whole head is read (readHead) and checked
// (checkHead) first; then the handshake is the io.ReadWriter given to
// ws.Upgrader, which reads the head back from captured. captured also keeps
// what came after the head, which may already be the client's first
// frames: the upgrader reads through a pooled bufio.Reader and would drop
// them.
type handshake struct {
	s        *Server
	nc       net.Conn
	captured []byte // everything read: the head, then read-ahead
	end      int    // length of the head in captured
	served   int    // captured[:served] went to the upgrader
	wrote    bool   // a response went out

	uri     string
	host    string
	opts    options
	headers map[string]string // for the hello message

	offeredProtocols, offeredExtensions string              // as received, for the hello and the seen headers
	protocol                            string              // the subprotocol selected
	deflate                             *wsflate.Parameters // permessage-deflate as accepted; nil = not agreed
}

// Read gives the upgrader the bytes readHead captured. The upgrader cuts
// lines as readHead does, so it stops at the blank line and never asks for
// more than the head.
func (h *handshake) Read(p []byte) (int, error) {
	if h.served == len(h.captured) {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, h.captured[h.served:])
	h.served += n
	return n, nil
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
		Protocol:        func(p []byte) bool { return slices.Contains(s.protocols, string(p)) },
		Negotiate:       h.negotiate,
	}
	err := h.readHead()
	if err == nil {
		if he := checkHead(h.captured[:h.end]); he != nil {
			err = he
		}
	}
	var hs ws.Handshake
	if err == nil {
		hs, err = u.Upgrade(h)
	}
	if err != nil {
		return nil, &HandshakeError{Status: h.answer(err), Err: err}
	}
	h.protocol = hs.Protocol
	return h, nil
}

// readHead reads until captured holds a complete head, and refuses one of
// more than maxRequestHead bytes. Reading the whole head before parsing
// makes the limit exact and lets checkHead see every line.
func (h *handshake) readHead() error {
	h.captured = make([]byte, 0, firstHeadRead)
	var scan headScan
	for {
		if len(h.captured) == cap(h.captured) {
			h.captured = slices.Grow(h.captured, min(cap(h.captured), maxRequestHead+1-cap(h.captured)))
		}
		n, err := h.nc.Read(h.captured[len(h.captured):cap(h.captured)])
		h.captured = h.captured[:len(h.captured)+n]
		if end := scan.next(h.captured); end >= 0 {
			if end > maxRequestHead {
				return errRequestTooLarge
			}
			h.end = end
			return nil
		}
		if len(h.captured) > maxRequestHead {
			return errRequestTooLarge
		}
		if err != nil {
			return err
		}
	}
}

// readAhead returns the bytes the client sent after its request.
func (h *handshake) readAhead() []byte { return h.captured[h.end:] }

// checkHead refuses what the upgrader lets through: it trims whitespace
// before a colon, keeps control bytes in values and takes a second Host,
// where RFC 9110 section 5.5 and RFC 9112 sections 3.2, 5.1 and 5.2 want a
// 400; and its 405 does not say which method is allowed (RFC 9110 section
// 15.5.6). head is a complete head, as readHead delimits it.
//
// The echo backend does not share the reference proxy's parser
// (proxy/upgrade) on purpose: when the proxy is tested against this
// backend, the two ends must not misread a head in the same way.
func checkHead(head []byte) *headError {
	bad := func(format string, args ...any) *headError {
		return &headError{status: http.StatusBadRequest, reason: "echo: " + fmt.Sprintf(format, args...)}
	}
	line, off, _ := nextLine(head, 0)
	if i := controlByte(line); i >= 0 {
		return bad("request line %q has control byte 0x%02x", clip(line), line[i])
	}
	method, rest, _ := bytes.Cut(line, []byte(" "))
	if _, _, target := bytes.Cut(rest, []byte(" ")); target && string(method) != http.MethodGet {
		return &headError{status: http.StatusMethodNotAllowed, header: "Allow: GET\r\n",
			reason: fmt.Sprintf("echo: method %q: a WebSocket upgrade is a GET", clip(method))}
	}
	hosts := 0
	for {
		line, off, _ = nextLine(head, off)
		if len(line) == 0 { // the blank line that ends head
			return nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			return bad("header line %q starts with whitespace: a folded line (obs-fold) or space before the first field", clip(line))
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		switch {
		case !ok:
			return bad("header line %q has no colon", clip(line))
		case len(name) == 0:
			return bad("header line %q has an empty field name", clip(line))
		}
		for _, c := range name {
			if c == ' ' || c == '\t' {
				return bad("whitespace between field name %q and its colon", clip(name))
			}
			if !httpsyntax.IsTokenChar(c) {
				return bad("field name %q has byte 0x%02x, which is not a token character", clip(name), c)
			}
		}
		if i := controlByte(value); i >= 0 {
			return bad("field %s has control byte 0x%02x in its value (no NUL, CR, LF or other controls)", clip(name), value[i])
		}
		if strings.EqualFold(string(name), "Host") {
			if hosts++; hosts > 1 {
				return bad("more than one Host field")
			}
		}
	}
}

// controlByte returns the index of the first byte in b that is a control
// character other than HTAB (RFC 9110 section 5.5 allows VCHAR, obs-text,
// SP and HTAB in a field value), or -1.
func controlByte(b []byte) int {
	for i, c := range b {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return i
		}
	}
	return -1
}

// clip shortens what an error quotes: the reason goes back in the body and
// into the log.
func clip(b []byte) []byte {
	if len(b) > 64 {
		return append(b[:61:61], "..."...)
	}
	return b
}

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
// base64 of 16 bytes. It adds the headers that say what was offered
// (wire.ProtocolsSeenHeader, wire.ExtensionsSeenHeader) to the 101.
func (h *handshake) onBeforeUpgrade() (ws.HandshakeHeader, error) {
	key := headerValue(h.captured, "Sec-WebSocket-Key")
	var raw [18]byte // DecodedLen(24)
	if n, err := base64.StdEncoding.Decode(raw[:], key); err != nil || n != 16 {
		return nil, reject(http.StatusBadRequest, fmt.Sprintf("echo: Sec-WebSocket-Key %q is not the base64 of 16 bytes", key))
	}
	head := h.captured[:h.end]
	h.offeredProtocols = headerValues(head, "Sec-WebSocket-Protocol")
	h.offeredExtensions = headerValues(head, "Sec-WebSocket-Extensions")
	var seen strings.Builder
	if h.offeredProtocols != "" {
		seen.WriteString(wire.ProtocolsSeenHeader + ": " + h.offeredProtocols + "\r\n")
	}
	if h.offeredExtensions != "" {
		seen.WriteString(wire.ExtensionsSeenHeader + ": " + h.offeredExtensions + "\r\n")
	}
	if seen.Len() == 0 {
		return nil, nil
	}
	return ws.HandshakeHeaderString(seen.String()), nil
}

// negotiate answers one offer of Sec-WebSocket-Extensions: the first
// acceptable permessage-deflate offer is accepted with the client's
// context-takeover parameters (RFC 7692 section 7.1); others are declined.
// An offer that limits the server's window below 32 KiB is declined too:
// compress/flate only writes with that window.
func (h *handshake) negotiate(opt httphead.Option) (httphead.Option, error) {
	var none httphead.Option
	if h.s.cfg.NoCompression || h.deflate != nil || !bytes.Equal(opt.Name, wsflate.ExtensionNameBytes) {
		return none, nil
	}
	var offer wsflate.Parameters
	if err := offer.Parse(opt); err != nil {
		return none, nil // a malformed offer is declined, as one the server does not know
	}
	if offer.ServerMaxWindowBits.Defined() && offer.ServerMaxWindowBits != 15 {
		return none, nil
	}
	h.deflate = &wsflate.Parameters{
		ServerNoContextTakeover: offer.ServerNoContextTakeover,
		ClientNoContextTakeover: offer.ClientNoContextTakeover,
	}
	return h.deflate.Option(), nil
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
	var he *headError
	status, header := 0, ""
	switch {
	case errors.As(err, &he):
		status, header = he.status, he.header
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
		h.writeError(status, header, err.Error())
	}
	return status
}

// writeError answers with status; header holds extra lines, each ending in
// CRLF.
func (h *handshake) writeError(status int, header, body string) {
	h.wrote = true
	fmt.Fprintf(h.nc, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n%s%s\r\n%s",
		status, http.StatusText(status), len(body), header, string(h.s.header), body)
}

// hello renders the ?hello=1 message.
func (h *handshake) hello() []byte {
	hello := Hello{
		Backend:           h.s.id,
		Remote:            addrString(h.nc.RemoteAddr()),
		Path:              h.uri,
		Host:              h.host,
		Headers:           h.headers,
		OfferedProtocols:  h.offeredProtocols,
		OfferedExtensions: h.offeredExtensions,
		Protocol:          h.protocol,
	}
	if h.deflate != nil {
		hello.Extensions = frame.ExtensionText(h.deflate.Option())
	}
	b, err := json.Marshal(hello)
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

// headScan finds the end of a request head as it arrives, looking at each
// line once however the head is split over reads.
type headScan struct {
	off   int // start of the first line not yet complete
	lines int // complete lines seen
}

// next walks the complete lines of b from where it stopped (b must extend
// what it saw before) and returns the offset just past the blank line that
// ends the head, or -1 if b does not hold a complete head yet.
func (s *headScan) next(b []byte) int {
	for {
		line, off, ok := nextLine(b, s.off)
		if !ok {
			return -1
		}
		s.off = off
		s.lines++
		if s.lines > 1 && len(line) == 0 { // the first line is the request line, even if blank
			return off
		}
	}
}

// requestEnd returns the offset just past the blank line that ends the
// request head in b, or -1 if b does not hold a complete head.
func requestEnd(b []byte) int {
	var s headScan
	return s.next(b)
}

// headerValues returns the trimmed values of every header named name
// (case-insensitive) in the request head b, joined with ", ".
func headerValues(b []byte, name string) string {
	var vals []string
	_, off, ok := nextLine(b, 0)
	for ok {
		var line []byte
		line, off, ok = nextLine(b, off)
		if !ok || len(line) == 0 {
			break
		}
		k, v, found := bytes.Cut(line, []byte(":"))
		if found && strings.EqualFold(string(bytes.TrimSpace(k)), name) {
			if v = bytes.TrimSpace(v); len(v) > 0 {
				vals = append(vals, string(v))
			}
		}
	}
	return strings.Join(vals, ", ")
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
