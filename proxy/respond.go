package proxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// lingerTime bounds how long a refused client may keep sending after our
// answer. Closing with unread bytes in the receive buffer would send an
// RST that can destroy the answer before the client reads it.
const lingerTime = 2 * time.Second

// respond writes a complete error response and closes the connection.
func respond(c net.Conn, status int, reason string, header []string, timeout time.Duration) {
	body := fmt.Sprintf("%d %s: %s\n", status, http.StatusText(status), reason)
	conn := "close"
	for _, h := range header {
		if strings.HasPrefix(h, "Upgrade:") {
			conn = "Upgrade, close" // RFC 9110 section 7.8: Upgrade is listed in Connection
		}
	}
	b := fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: %s\r\n",
		status, http.StatusText(status), len(body), conn)
	for _, h := range header {
		b = append(b, h...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	b = append(b, body...)
	c.SetWriteDeadline(time.Now().Add(min(timeout, 10*time.Second)))
	if _, err := c.Write(b); err != nil {
		c.Close()
		return
	}
	lingerClose(c)
}

// lingerClose sends FIN, then reads and discards until the client closes
// too (or lingerTime passes), then closes.
func lingerClose(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.SetReadDeadline(time.Now().Add(lingerTime))
	io.CopyN(io.Discard, c, 1<<20)
	c.Close()
}

// refuseNow answers a client whose request has not been read, at the file
// limit: read what arrived already (briefly), answer, close.
func refuseNow(c net.Conn, status int, reason string) {
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var buf [4096]byte
	c.Read(buf[:])
	respond(c, status, reason, nil, time.Second)
}
