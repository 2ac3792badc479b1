// Package upgrade parses and rewrites the HTTP/1.1 heads a WebSocket reverse
// proxy sees: the client's upgrade request and the backend's answer.
//
// It works on bytes the caller has already read and never does I/O, so every
// function is a pure function of its input and fuzzed as such. A proxy reads
// until HeadEnd reports a complete head (or its size limit is hit, which it
// answers with 431), then:
//
//	req, err := upgrade.ParseRequest(buf[:end]) // *Error with Status 400 when malformed
//	if err := upgrade.Check(&req); err != nil {  // 426, 405 or 400: not a usable upgrade
//		// answer err.Status, never contact a backend
//	}
//	out := upgrade.AppendForward(nil, &req, upgrade.Forward{ClientIP: "203.0.113.7", Proto: "http"})
//	// write out to the backend, then read its answer the same way:
//	resp, err := upgrade.ParseResponse(head) // Status 101 starts the tunnel
//
// AppendForward drops hop-by-hop headers (RFC 9110 section 7.6.1, including
// those the client named in Connection), sends "Upgrade: websocket" and
// "Connection: Upgrade" as nginx's proxy_set_header idiom does, appends the
// client to X-Forwarded-For ($proxy_add_x_forwarded_for), and sets X-Real-IP
// and X-Forwarded-Proto. Every other header goes through byte for byte. The
// target always goes as origin-form: an absolute-form one (GET
// http://host/chat, RFC 9112 section 3.2.2) is accepted, and its authority
// is sent as the Host.
//
// Parsing is strict where a lenient reading lets two hops disagree on a
// message (request smuggling): a NUL or a bare CR anywhere, whitespace
// before a colon or before the first field, obs-fold, two Host headers, a
// body on an upgrade, Content-Length together with Transfer-Encoding are
// all a 400 with a reason that says which.
//
// Parsed values alias the caller's buffer: keep the buffer while the Request
// or Response is in use.
package upgrade
