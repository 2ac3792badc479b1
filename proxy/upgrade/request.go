package upgrade

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/wsbench/wsbench/internal/httpsyntax"
)

// Error is a head the proxy must refuse. Status is the HTTP status to answer
// with; Header holds extra response headers the status calls for (426 must
// say which version it wants, 405 which method).
type Error struct {
	Status int
	Reason string
	Header []string // "Name: value" lines
}

func (e *Error) Error() string {
	return fmt.Sprintf("upgrade: %d %s: %s", e.Status, http.StatusText(e.Status), e.Reason)
}

func errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Reason: fmt.Sprintf(format, args...)}
}

// Field is one header line. Name is as the peer spelled it; Value has its
// surrounding whitespace removed.
type Field struct {
	Name, Value []byte
}

// Request is a parsed request head. Every slice aliases the parsed buffer
// (but Target, when an absolute-form target has an empty path).
type Request struct {
	Method []byte
	// Target is in origin-form (/path?query), what a backend is sent. An
	// absolute-form target (http://host/path, RFC 9112 section 3.2.2) is
	// split: its authority goes to Authority, the rest here.
	Target []byte
	// Authority is the host[:port] of an absolute-form target, nil for
	// origin-form. A server must use it instead of the Host header, and a
	// proxy must send it as the Host.
	Authority    []byte
	Major, Minor int // HTTP version
	Fields       []Field
}

// Get returns the value of the first field called name (case-insensitive).
func (r *Request) Get(name string) ([]byte, bool) { return get(r.Fields, name) }

// HasToken reports whether any field called name carries token in its
// comma-separated list (case-insensitive), as Connection and Upgrade do.
func (r *Request) HasToken(name, token string) bool { return hasToken(r.Fields, name, token) }

// HeadEnd returns the length of the head at the start of b, including the
// blank line that ends it, or -1 if b does not hold a complete head yet.
// Lines may end in CRLF or a bare LF (RFC 9112 section 2.2 lets a recipient
// accept the latter). from is where the previous call stopped looking, so a
// caller reading in pieces does not rescan; pass 0 the first time.
func HeadEnd(b []byte, from int) int {
	from = max(from-3, 0)
	for i := from; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		switch {
		case i+1 < len(b) && b[i+1] == '\n':
			return i + 2
		case i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n':
			return i + 3
		}
	}
	return -1
}

// ParseRequest parses a complete request head (as delimited by HeadEnd). A
// malformed head is an *Error with Status 400.
func ParseRequest(b []byte) (Request, error) {
	var r Request
	line, rest, ok := cutLine(b)
	if !ok {
		return r, errorf(http.StatusBadRequest, "request head is not terminated by a blank line")
	}
	if err := lineChars(line, "request line", http.StatusBadRequest); err != nil {
		return r, err
	}
	if err := r.parseRequestLine(line); err != nil {
		return r, err
	}
	fields, err := parseFields(rest, 400)
	r.Fields = fields
	return r, err
}

func (r *Request) parseRequestLine(line []byte) error {
	method, rest, ok1 := bytes.Cut(line, []byte{' '})
	target, proto, ok2 := bytes.Cut(rest, []byte{' '})
	if !ok1 || !ok2 {
		return errorf(http.StatusBadRequest, "request line %q: want METHOD SP TARGET SP HTTP/1.1", clip(line))
	}
	if !isToken(method) {
		return errorf(http.StatusBadRequest, "method %q is not an HTTP token", clip(method))
	}
	if len(target) == 0 {
		return errorf(http.StatusBadRequest, "empty request target")
	}
	for _, c := range target {
		if c <= ' ' || c == 0x7f {
			return errorf(http.StatusBadRequest, "request target %q has a control or space character", clip(target))
		}
	}
	major, minor, ok := parseVersion(proto)
	if !ok {
		return errorf(http.StatusBadRequest, "HTTP version %q: want HTTP/1.1", clip(proto))
	}
	r.Method, r.Target, r.Major, r.Minor = method, target, major, minor
	return r.splitAbsolute()
}

// splitAbsolute splits an absolute-form target, scheme://authority[path],
// into Authority and an origin-form Target. Other targets are left as they
// are: Check wants origin-form. Userinfo (user@host) is refused, as RFC
// 9110 section 4.2.4 advises.
func (r *Request) splitAbsolute() error {
	t := r.Target
	i := bytes.Index(t, []byte("://"))
	if t[0] == '/' || i <= 0 || !isScheme(t[:i]) {
		return nil
	}
	rest := t[i+3:]
	end := bytes.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	auth, path := rest[:end], rest[end:]
	switch err := checkAuthority(auth); {
	case err != "":
		return errorf(http.StatusBadRequest, "request target %q: %s", clip(t), err)
	case len(path) == 0:
		path = []byte("/")
	case path[0] != '/':
		path = append([]byte("/"), path...)
	}
	r.Authority, r.Target = auth, path
	return nil
}

// isScheme reports whether b is a URI scheme: ALPHA *( ALPHA / DIGIT /
// "+" / "-" / "." ) (RFC 3986 section 3.1).
func isScheme(b []byte) bool {
	for i, c := range b {
		alpha := 'a' <= lower(c) && lower(c) <= 'z'
		if !alpha && (i == 0 || !isDigit(c) && c != '+' && c != '-' && c != '.') {
			return false
		}
	}
	return true
}

// checkAuthority says what is wrong with host[:port] taken from a target,
// or "" if nothing: it goes to the backend as the Host header.
func checkAuthority(a []byte) string {
	if len(a) == 0 {
		return "no host"
	}
	if bytes.IndexByte(a, '@') >= 0 {
		return "userinfo (user@host) is not allowed"
	}
	for _, c := range a {
		if c >= 0x80 || !authorityChar[c] {
			return fmt.Sprintf("character %q is not allowed in a host", c)
		}
	}
	host, port := a, []byte(nil)
	if k := bytes.LastIndexByte(a, ':'); k >= 0 && k > bytes.LastIndexByte(a, ']') {
		host, port = a[:k], a[k+1:]
	}
	for _, c := range port {
		if !isDigit(c) {
			return fmt.Sprintf("port %q is not a number", clip(port))
		}
	}
	if len(host) == 0 {
		return "no host"
	}
	return ""
}

// authorityChar: unreserved, pct-encoded, sub-delims, ':' and the brackets
// of an IP literal (RFC 3986 section 3.2).
var authorityChar = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "-._~%!$&'()*+,;=:[]" {
		t[c] = true
	}
	return t
}()

// parseVersion accepts "HTTP/d.d" (RFC 9112 section 2.3).
func parseVersion(p []byte) (major, minor int, ok bool) {
	if len(p) != 8 || string(p[:5]) != "HTTP/" || p[6] != '.' || !isDigit(p[5]) || !isDigit(p[7]) {
		return 0, 0, false
	}
	return int(p[5] - '0'), int(p[7] - '0'), true
}

// parseFields parses header lines up to the blank line. status is what a
// malformed line is answered with (400 from a client, 502 from a backend).
func parseFields(b []byte, status int) ([]Field, error) {
	fields := make([]Field, 0, 16)
	for first := true; ; first = false {
		line, rest, ok := cutLine(b)
		if !ok {
			return fields, errorf(status, "head is not terminated by a blank line")
		}
		if len(line) == 0 {
			return fields, nil
		}
		if first && (line[0] == ' ' || line[0] == '\t') {
			// RFC 9112 section 2.2: such a line must be rejected or ignored.
			return fields, errorf(status, "whitespace between the start line and the first header field")
		}
		f, err := parseField(line, status)
		if err != nil {
			return fields, err
		}
		fields = append(fields, f)
		b = rest
	}
}

func parseField(line []byte, status int) (Field, error) {
	if line[0] == ' ' || line[0] == '\t' {
		// RFC 9112 section 5.2: obsolete line folding may be rejected with 400.
		return Field{}, errorf(status, "header line %q is folded (obs-fold)", clip(line))
	}
	if err := lineChars(line, "header field", status); err != nil {
		return Field{}, err
	}
	name, value, ok := bytes.Cut(line, []byte{':'})
	if !ok {
		return Field{}, errorf(status, "header line %q has no colon", clip(line))
	}
	if n := len(name); n > 0 && (name[n-1] == ' ' || name[n-1] == '\t') {
		// RFC 9112 section 5.1: a server must reject this with 400.
		return Field{}, errorf(status, "whitespace between header name %q and the colon", clip(bytes.TrimRight(name, " \t")))
	}
	if !isToken(name) {
		return Field{}, errorf(status, "header name %q is not an HTTP token", clip(name))
	}
	value = bytes.Trim(value, " \t")
	for _, c := range value {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return Field{}, errorf(status, "header %q has a control character in its value", clip(name))
		}
	}
	return Field{Name: name, Value: value}, nil
}

// lineChars refuses a NUL or a bare CR anywhere in a line: RFC 9110
// section 5.5 and RFC 9112 section 2.2 let a recipient reject them, and
// a proxy must, since the next hop may read them differently.
func lineChars(line []byte, what string, status int) error {
	i := bytes.IndexAny(line, "\x00\r")
	switch {
	case i < 0:
		return nil
	case line[i] == 0:
		return errorf(status, "invalid character NUL in %s %q", what, clip(line))
	}
	return errorf(status, "bare CR in %s %q: lines end in CRLF", what, clip(line))
}

// cutLine splits off the first line, without its CRLF or LF.
func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, nil, false
	}
	line, rest = b[:i], b[i+1:]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest, true
}

func get(fields []Field, name string) ([]byte, bool) {
	for _, f := range fields {
		if equalFold(f.Name, name) {
			return f.Value, true
		}
	}
	return nil, false
}

func hasToken(fields []Field, name, token string) bool {
	for _, f := range fields {
		if !equalFold(f.Name, name) {
			continue
		}
		for v := f.Value; len(v) > 0; {
			var t []byte
			t, v, _ = bytes.Cut(v, []byte{','})
			if equalFold(bytes.Trim(t, " \t"), token) {
				return true
			}
		}
	}
	return false
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isToken reports whether b is an RFC 9110 token (section 5.6.2).
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !httpsyntax.IsTokenChar(c) {
			return false
		}
	}
	return true
}

// clip shortens what an error quotes, so a hostile 8 KiB line does not end
// up whole in a log.
func clip(b []byte) []byte {
	if len(b) > 48 {
		return append(b[:45:45], "..."...)
	}
	return b
}
