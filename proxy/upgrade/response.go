package upgrade

import (
	"bytes"
	"net/http"
	"strconv"
)

// Response is a parsed response head. Every slice aliases the parsed buffer.
type Response struct {
	Major, Minor int
	Status       int
	Reason       []byte
	Fields       []Field
}

// Get returns the value of the first field called name (case-insensitive).
func (r *Response) Get(name string) ([]byte, bool) { return get(r.Fields, name) }

// HasToken reports whether a field called name lists token.
func (r *Response) HasToken(name, token string) bool { return hasToken(r.Fields, name, token) }

// ParseResponse parses a complete response head (as delimited by HeadEnd).
// A malformed head is an *Error with Status 502: the backend, not the
// client, is at fault.
func ParseResponse(b []byte) (Response, error) {
	var r Response
	line, rest, ok := cutLine(b)
	if !ok {
		return r, errorf(http.StatusBadGateway, "backend response head is not terminated by a blank line")
	}
	if err := lineChars(line, "status line", http.StatusBadGateway); err != nil {
		return r, err
	}
	proto, rest1, ok1 := bytes.Cut(line, []byte{' '})
	code, reason, _ := bytes.Cut(rest1, []byte{' '})
	major, minor, okv := parseVersion(proto)
	if !ok1 || !okv || len(code) != 3 || !isDigit(code[0]) || !isDigit(code[1]) || !isDigit(code[2]) || code[0] == '0' {
		return r, errorf(http.StatusBadGateway, "backend status line %q: want HTTP/1.1 NNN reason", clip(line))
	}
	r.Major, r.Minor, r.Reason = major, minor, reason
	r.Status = int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	fields, err := parseFields(rest, http.StatusBadGateway)
	r.Fields = fields
	return r, err
}

// Body says how the body that follows a response head is delimited
// (RFC 9112 section 6.3).
type Body struct {
	Kind   BodyKind
	Length int64 // for BodyLength
}

// BodyKind is one of the ways a response body ends.
type BodyKind int

// The ways a body can be delimited.
const (
	BodyNone       BodyKind = iota // 1xx, 204, 304: no body
	BodyLength                     // Content-Length bytes
	BodyChunked                    // chunked transfer coding; see ChunkedEnd
	BodyUntilClose                 // everything until the backend closes
)

// Body reports how this response's body is delimited, answering a GET. A
// Content-Length that is not a number, or two that disagree, is an *Error
// with Status 502.
func (r *Response) Body() (Body, error) {
	if r.Status < 200 || r.Status == 204 || r.Status == 304 {
		return Body{Kind: BodyNone}, nil
	}
	if r.HasToken("Transfer-Encoding", "chunked") {
		return Body{Kind: BodyChunked}, nil
	}
	n := int64(-1)
	for _, f := range r.Fields {
		if !equalFold(f.Name, "Content-Length") {
			continue
		}
		v, err := strconv.ParseInt(string(f.Value), 10, 64)
		if err != nil || v < 0 || (n >= 0 && v != n) {
			return Body{}, errorf(http.StatusBadGateway, "backend Content-Length %q: want one non-negative number", clip(f.Value))
		}
		n = v
	}
	if n >= 0 {
		return Body{Kind: BodyLength, Length: n}, nil
	}
	return Body{Kind: BodyUntilClose}, nil
}
