package proxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/wsbench/wsbench/internal/sysio"
	"github.com/wsbench/wsbench/proxy/upgrade"
)

var errHeadTooLarge = errors.New("proxy: head larger than the buffer")

// readHead reads from c into buf until it holds a complete HTTP head. end
// is the head's length; bytes buf[end:n] came after it.
func readHead(c net.Conn, buf []byte) (end, n int, err error) {
	from := 0
	for {
		if n == len(buf) {
			return -1, n, errHeadTooLarge
		}
		k, err := c.Read(buf[n:])
		n += k
		if end := upgrade.HeadEnd(buf[:n], from); end >= 0 {
			return end, n, nil
		}
		from = n
		if err != nil {
			return -1, n, err
		}
	}
}

// answer is a backend's response head, with the connection it came on.
type answer struct {
	conn    net.Conn
	buf     *[]byte // pooled; holds the head and what followed it
	head    []byte  // the head and the bytes read after it
	headLen int
	resp    upgrade.Response
	p       *Proxy
	unwatch func() bool // see handshake.unwatch
}

func (a *answer) release() {
	if a.buf != nil {
		a.p.heads.Put(a.buf)
		a.buf, a.head = nil, nil
	}
}

func (a *answer) close() {
	a.unwatch()
	a.conn.Close()
	a.release()
}

// attempt connects to backend i, forwards the request and reads the answer
// head.
func (h *handshake) attempt(i int) (*answer, *refusal) {
	p := h.p
	b := h.pool.peers[i]
	addr := b.label
	bc, err := p.dialer.DialContext(p.stopping, "tcp", b.addr) // an IP address: no lookup
	if err != nil {
		return nil, h.dialError(addr, err)
	}
	unwatch := watch(p.stopping, bc)
	if r := h.sendRequest(bc, b, addr); r != nil {
		unwatch()
		bc.Close()
		return nil, r
	}
	bufp := p.heads.Get().(*[]byte)
	a, r := h.readAnswer(bc, addr, bufp)
	if r != nil {
		unwatch()
		bc.Close()
		p.heads.Put(bufp)
		return nil, r
	}
	a.unwatch = unwatch
	return a, nil
}

func (h *handshake) dialError(addr string, err error) *refusal {
	p := h.p
	if p.stopping.Err() != nil {
		return &refusal{out: outShuttingDown, status: 503, reason: "shutting down", backend: addr, err: err}
	}
	if sysio.IsFileLimit(err) {
		p.logLimit("connecting to backend "+addr+"; answering 503", err)
		return &refusal{out: outFileLimit, status: 503, reason: "too many open files", backend: addr, err: err}
	}
	if isTimeout(err) {
		p.counters.timeouts[toConnect].Add(1)
		return &refusal{out: outConnectTimeout, status: 504, reason: "backend did not accept the connection within " + p.cfg.ConnectTimeout.String(),
			backend: addr, err: err, retry: true, fails: true}
	}
	return &refusal{out: outBackendError, status: 502, reason: "cannot connect to backend", backend: addr, err: err, retry: true, fails: true}
}

// sendRequest writes the rewritten request head.
func (h *handshake) sendRequest(bc net.Conn, b *server, addr string) *refusal {
	p := h.p
	fw := upgrade.Forward{ClientIP: h.ip.String(), Proto: p.cfg.ForwardedProto, Underscores: p.cfg.UnderscoresInHeaders}
	switch p.cfg.Host {
	case "", "$host":
	case "$proxy_host":
		fw.Host = b.upstream // the name as configured, as nginx's $proxy_host
	default:
		fw.Host = p.cfg.Host
	}
	outp := p.heads.Get().(*[]byte)
	out := upgrade.AppendForward((*outp)[:0], &h.req, fw)
	bc.SetWriteDeadline(time.Now().Add(p.cfg.SendTimeout))
	_, err := bc.Write(out)
	if cap(out) == cap(*outp) { // not grown past the pooled buffer
		p.heads.Put(outp)
	}
	if err != nil {
		return &refusal{out: outBackendError, status: 502, reason: "cannot send the request to backend", backend: addr, err: err, retry: true, fails: true}
	}
	return nil
}

// readAnswer reads the backend's response head within ReadTimeout, as
// nginx's proxy_read_timeout also bounds the wait for the response header.
func (h *handshake) readAnswer(bc net.Conn, addr string, bufp *[]byte) (*answer, *refusal) {
	p := h.p
	bc.SetReadDeadline(time.Now().Add(p.cfg.ReadTimeout))
	end, n, err := readHead(bc, *bufp)
	switch {
	case err != nil && p.stopping.Err() != nil:
		return nil, &refusal{out: outShuttingDown, status: 503, reason: "shutting down", backend: addr, err: err}
	case errors.Is(err, errHeadTooLarge):
		return nil, &refusal{out: outBackendError, status: 502, reason: "backend response head too large", backend: addr, fails: true}
	case isTimeout(err):
		p.counters.timeouts[toResponse].Add(1)
		return nil, &refusal{out: outBackendTimeout, status: 504, reason: "backend did not answer within " + p.cfg.ReadTimeout.String(),
			backend: addr, err: err, retry: true, fails: true}
	case err != nil:
		return nil, &refusal{out: outBackendError, status: 502, reason: "backend closed the connection without answering", backend: addr, err: err, retry: true, fails: true}
	}
	resp, err := upgrade.ParseResponse((*bufp)[:end])
	reason := "malformed answer from backend"
	switch {
	case err != nil:
	case resp.Status/100 == 1 && resp.Status != 101:
		err = errors.New("proxy: interim response before the handshake's answer")
	case resp.Status == 101 && !resp.HasToken("Upgrade", "websocket"):
		// The request asked for websocket only: a switch to anything else
		// is no agreement to carry the client's WebSocket bytes.
		up, _ := resp.Get("Upgrade")
		reason = "backend switched protocols without Upgrade: websocket"
		err = fmt.Errorf("proxy: backend's 101 has Upgrade %q: want websocket", up)
	}
	if err != nil {
		return nil, &refusal{out: outBackendError, status: 502, reason: reason, backend: addr, err: err, fails: true}
	}
	bc.SetDeadline(time.Time{})
	return &answer{conn: bc, buf: bufp, head: (*bufp)[:n], headLen: end, resp: resp, p: p}, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// pass sends a non-101 answer to the client as the backend wrote it, head
// and body, then closes both connections.
func (h *handshake) pass(a *answer) {
	p := h.p
	defer h.done()
	p.counters.outcomes[outBackendStatus].Add(1)
	p.log.Info("handshake refused by backend", "client", h.c.RemoteAddr().String(), "backend", a.conn.RemoteAddr().String(),
		"status", a.resp.Status, "duration", time.Since(h.start))
	defer a.close()
	body, err := a.resp.Body()
	if err != nil {
		respond(h.c, 502, "malformed answer from backend", nil, p.cfg.SendTimeout)
		return
	}
	deadline := time.Now().Add(p.cfg.ReadTimeout)
	a.conn.SetReadDeadline(deadline)
	h.c.SetWriteDeadline(time.Now().Add(p.cfg.SendTimeout))
	if _, err := h.c.Write(a.head[:a.headLen]); err == nil {
		copyBody(h.c, a.conn, a.head[a.headLen:], body)
	}
	lingerClose(h.c)
}

// copyBody copies a response body delimited as body says: first from
// ahead (already read), then from src.
func copyBody(dst io.Writer, src io.Reader, ahead []byte, body upgrade.Body) {
	switch body.Kind {
	case upgrade.BodyNone:
	case upgrade.BodyLength:
		k := min(int64(len(ahead)), body.Length)
		if _, err := dst.Write(ahead[:k]); err == nil {
			io.CopyN(dst, src, body.Length-k)
		}
	case upgrade.BodyUntilClose:
		if _, err := dst.Write(ahead); err == nil {
			io.Copy(dst, src)
		}
	case upgrade.BodyChunked:
		var ce upgrade.ChunkedEnd
		buf := make([]byte, 4096)
		for b := ahead; ; {
			n, done, err := ce.Scan(b)
			if _, werr := dst.Write(b[:n]); werr != nil || done || err != nil {
				return
			}
			k, rerr := src.Read(buf)
			if k == 0 && rerr != nil {
				return
			}
			b = buf[:k]
		}
	}
}
