package proxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// lingerTime bounds how long a refused client may keep sending after our
// answer. Closing with unread bytes in the receive buffer would send an
// RST that can destroy the answer before the client reads it.
const lingerTime = 2 * time.Second

// respond writes a complete error response and closes the connection.
func respond(c net.Conn, status int, reason string, header []string, timeout time.Duration) {
	c.SetWriteDeadline(time.Now().Add(min(timeout, 10*time.Second)))
	if _, err := c.Write(errorResponse(status, reason, header)); err != nil {
		c.Close()
		return
	}
	lingerClose(c)
}

// errorResponse is the whole answer for status, reason in its body.
func errorResponse(status int, reason string, header []string) []byte {
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
	return append(b, body...)
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

// atLimitLinger bounds how long refuseFD lingers: at the file limit the
// next queued client waits for it.
const atLimitLinger = 100 * time.Millisecond

// refuseFD answers a client accepted at the file limit into a raw
// descriptor (a net.Conn would need a second one): read what arrived
// already (briefly), answer, send FIN, read until the client closes or
// atLimitLinger passes (so unread bytes do not turn the close into an RST
// that destroys the answer), close.
func refuseFD(fd int, status int, reason string) {
	defer unix.Close(fd)
	var buf [4096]byte
	setTimeout(fd, unix.SO_RCVTIMEO, 50*time.Millisecond)
	readFD(fd, buf[:])
	setTimeout(fd, unix.SO_SNDTIMEO, time.Second)
	if _, err := unix.Write(fd, errorResponse(status, reason, nil)); err != nil {
		return
	}
	unix.Shutdown(fd, unix.SHUT_WR)
	setTimeout(fd, unix.SO_RCVTIMEO, 20*time.Millisecond)
	for end := time.Now().Add(atLimitLinger); time.Now().Before(end); {
		if readFD(fd, buf[:]) <= 0 {
			return
		}
	}
}

func setTimeout(fd, opt int, d time.Duration) {
	tv := unix.NsecToTimeval(d.Nanoseconds())
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, opt, &tv)
}

// readFD reads once, again if a signal interrupted it (with a socket
// timeout set, SA_RESTART does not restart the read).
func readFD(fd int, buf []byte) int {
	for {
		n, err := unix.Read(fd, buf)
		if err != unix.EINTR {
			return n
		}
	}
}
