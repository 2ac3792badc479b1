// Package httpsyntax holds the RFC 9110 character classes that both ends
// of a handshake check: the echo backend and the reference proxy each
// parse a request head their own way (so a misreading in one is caught by
// the other), but what a token is, the RFC defines once.
package httpsyntax

// IsTokenChar reports whether c may appear in an RFC 9110 token (section
// 5.6.2), such as a header field name or a method.
func IsTokenChar(c byte) bool { return c < 0x80 && tokenChar[c] }

// IsToken reports whether s is a non-empty RFC 9110 token, as a
// WebSocket subprotocol name must be (RFC 6455 section 4.1).
func IsToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !IsTokenChar(s[i]) {
			return false
		}
	}
	return s != ""
}

var tokenChar = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
