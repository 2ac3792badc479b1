package upgrade

import (
	"encoding/base64"
	"net/http"
	"strconv"
)

// Check reports whether req is a WebSocket opening handshake a proxy may
// forward (RFC 6455 section 4.2.1). The answers:
//   - 426 with "Upgrade: websocket" and "Sec-WebSocket-Version: 13" when it
//     is not an upgrade to websocket at all (plain HTTP), or asks for another
//     version (the answer's Connection header must then list "upgrade",
//     RFC 9110 section 7.8);
//   - 405 with Allow: GET for an upgrade with another method;
//   - 400 for an upgrade that is malformed (HTTP/1.0, a target that is
//     neither origin- nor absolute-form, no Host or two, a bad
//     Sec-WebSocket-Key, a body).
func Check(req *Request) *Error {
	if !req.HasToken("Upgrade", "websocket") || !req.HasToken("Connection", "upgrade") {
		e := errorf(http.StatusUpgradeRequired, "not a WebSocket upgrade: want Upgrade: websocket and Connection: Upgrade")
		e.Header = []string{"Upgrade: websocket", "Sec-WebSocket-Version: 13"}
		return e
	}
	if string(req.Method) != http.MethodGet {
		e := errorf(http.StatusMethodNotAllowed, "WebSocket upgrade with method %q: want GET", clip(req.Method))
		e.Header = []string{"Allow: GET"}
		return e
	}
	if req.Major != 1 || req.Minor < 1 {
		return errorf(http.StatusBadRequest, "WebSocket upgrade over HTTP/%d.%d: want HTTP/1.1", req.Major, req.Minor)
	}
	if req.Target[0] != '/' {
		return errorf(http.StatusBadRequest, "request target %q: want an absolute path such as /chat (or http://host/chat)", clip(req.Target))
	}
	if err := checkSingle(req, "Host", true); err != nil {
		return err
	}
	if err := checkKey(req); err != nil {
		return err
	}
	if v, ok := req.Get("Sec-WebSocket-Version"); !ok || string(v) != "13" {
		e := errorf(http.StatusUpgradeRequired, "Sec-WebSocket-Version %q: want 13", clip(v))
		e.Header = []string{"Sec-WebSocket-Version: 13"}
		return e
	}
	return checkNoBody(req)
}

func checkSingle(req *Request, name string, required bool) *Error {
	n := 0
	for _, f := range req.Fields {
		if equalFold(f.Name, name) {
			n++
		}
	}
	switch {
	case n == 0 && required:
		return errorf(http.StatusBadRequest, "no %s header", name)
	case n > 1:
		return errorf(http.StatusBadRequest, "%d %s headers: want one", n, name)
	}
	return nil
}

// checkKey wants one Sec-WebSocket-Key that is 16 bytes in base64.
func checkKey(req *Request) *Error {
	if err := checkSingle(req, "Sec-WebSocket-Key", true); err != nil {
		return err
	}
	k, _ := req.Get("Sec-WebSocket-Key")
	var raw [18]byte
	if len(k) != 24 {
		return errorf(http.StatusBadRequest, "Sec-WebSocket-Key %q: want 16 bytes in base64 (24 characters)", clip(k))
	}
	if n, err := base64.StdEncoding.Decode(raw[:], k); err != nil || n != 16 {
		return errorf(http.StatusBadRequest, "Sec-WebSocket-Key %q: want 16 bytes in base64 (24 characters)", clip(k))
	}
	return nil
}

// checkNoBody refuses a request body: a proxy would otherwise have to decide
// where the body ends and the WebSocket stream begins, the root of request
// smuggling.
func checkNoBody(req *Request) *Error {
	if _, ok := req.Get("Transfer-Encoding"); ok {
		if _, cl := req.Get("Content-Length"); cl {
			// RFC 9112 section 6.1: the classic request-smuggling shape.
			return errorf(http.StatusBadRequest, "WebSocket upgrade with both Content-Length and Transfer-Encoding: want no body")
		}
		return errorf(http.StatusBadRequest, "WebSocket upgrade with Transfer-Encoding: want no body")
	}
	for _, f := range req.Fields {
		if !equalFold(f.Name, "Content-Length") {
			continue
		}
		if n, err := strconv.ParseUint(string(f.Value), 10, 63); err != nil || n != 0 {
			return errorf(http.StatusBadRequest, "WebSocket upgrade with Content-Length %q: want no body", clip(f.Value))
		}
	}
	return nil
}
