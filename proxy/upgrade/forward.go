package upgrade

import "bytes"

// Forward says how AppendForward rewrites a request for the backend.
type Forward struct {
	// ClientIP is appended to X-Forwarded-For and sent as X-Real-IP
	// (nginx: $proxy_add_x_forwarded_for and $remote_addr). Empty leaves
	// both as the client sent them.
	ClientIP string
	// Proto is sent as X-Forwarded-Proto ("http" or "https"), replacing the
	// client's. Empty leaves the client's.
	Proto string
	// Host replaces the Host header. Empty keeps the client's ($host), or
	// sends the authority of an absolute-form target in its place.
	Host string
	// Underscores forwards header fields whose names contain "_". By
	// default they are dropped, as nginx does (underscores_in_headers off):
	// a backend that maps headers to CGI-style names (X_Real_IP and
	// X-Real-IP both become HTTP_X_REAL_IP) could otherwise take a
	// client's X_Real_IP for the proxy's X-Real-IP.
	Underscores bool
}

// hopByHop are the headers that describe one connection, not the request
// (RFC 9110 section 7.6.1), and are never forwarded as received.
var hopByHop = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
	"Transfer-Encoding", "Upgrade", "Proxy-Authenticate", "Proxy-Authorization",
}

// AppendForward appends to dst the request head to send the backend: the
// request line as HTTP/1.1, the client's headers minus hop-by-hop ones (and
// any the client listed in Connection, and those with "_" in their names
// unless fw.Underscores), then Upgrade: websocket,
// Connection: Upgrade and the X-Forwarded-* headers fw asks for. The
// target is always origin-form; for an absolute-form one the Host sent is
// its authority (RFC 9112 section 3.2.2), unless fw.Host says otherwise.
func AppendForward(dst []byte, req *Request, fw Forward) []byte {
	host := req.Authority
	if fw.Host != "" {
		host = []byte(fw.Host)
	}
	dst = append(dst, req.Method...)
	dst = append(dst, ' ')
	dst = append(dst, req.Target...)
	dst = append(dst, " HTTP/1.1\r\n"...)
	var xff []byte
	var connBuf [4][]byte
	conn := connectionTokens(connBuf[:0], req.Fields)
	for _, f := range req.Fields {
		switch {
		case dropped(f.Name, conn), !fw.Underscores && bytes.IndexByte(f.Name, '_') >= 0:
			continue
		case fw.ClientIP != "" && equalFold(f.Name, "X-Forwarded-For"):
			xff = joinList(xff, f.Value)
			continue
		case fw.ClientIP != "" && equalFold(f.Name, "X-Real-IP"),
			fw.Proto != "" && equalFold(f.Name, "X-Forwarded-Proto"):
			continue
		case host != nil && equalFold(f.Name, "Host"):
			dst = appendField(dst, "Host", host)
			continue
		}
		dst = appendField(dst, string(f.Name), f.Value)
	}
	dst = append(dst, "Upgrade: websocket\r\nConnection: Upgrade\r\n"...)
	if fw.ClientIP != "" {
		dst = appendField(dst, "X-Forwarded-For", joinList(xff, []byte(fw.ClientIP)))
		dst = appendField(dst, "X-Real-IP", []byte(fw.ClientIP))
	}
	if fw.Proto != "" {
		dst = appendField(dst, "X-Forwarded-Proto", []byte(fw.Proto))
	}
	return append(dst, "\r\n"...)
}

// connectionTokens appends to dst the tokens of the Connection fields, split
// and trimmed as hasToken does, so each field is checked against them
// without rescanning the head.
func connectionTokens(dst [][]byte, fields []Field) [][]byte {
	for _, f := range fields {
		if !equalFold(f.Name, "Connection") {
			continue
		}
		for v := f.Value; len(v) > 0; {
			var t []byte
			t, v, _ = bytes.Cut(v, []byte{','})
			dst = append(dst, bytes.Trim(t, " \t"))
		}
	}
	return dst
}

// dropped reports whether a header is hop-by-hop, by the fixed list or
// because the client's Connection header names it (conn holds its tokens).
func dropped(name []byte, conn [][]byte) bool {
	for _, h := range hopByHop {
		if equalFold(name, h) {
			return true
		}
	}
	for _, t := range conn {
		if equalFold(t, string(name)) {
			return true
		}
	}
	return false
}

// joinList appends v to a comma-separated list, as RFC 9110 section 5.3
// combines repeated fields.
func joinList(list, v []byte) []byte {
	if len(list) == 0 {
		return append([]byte(nil), v...)
	}
	return append(append(list, ", "...), v...)
}

func appendField(dst []byte, name string, value []byte) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, bytes.Trim(value, " \t")...)
	return append(dst, "\r\n"...)
}
