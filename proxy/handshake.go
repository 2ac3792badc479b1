package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wsbench/wsbench/proxy/balance"
	"github.com/wsbench/wsbench/proxy/relay"
	"github.com/wsbench/wsbench/proxy/upgrade"
)

// refusal is a handshake the proxy answers itself, with status.
type refusal struct {
	out     outcome
	status  int // 0: no answer (the client is gone)
	reason  string
	header  []string
	backend string
	err     error
	retry   bool // try the next backend
	fails   bool // counts against the backend's max_fails
}

// serveConn runs one client's handshake: read and check its head, pick a
// backend and forward, then hand the pair to the relay or answer an error.
func (p *Proxy) serveConn(c net.Conn) {
	defer p.inFlight.Done()
	defer p.handshaking.Add(-1)
	defer p.noteHandshake()
	h := &handshake{p: p, c: c, start: time.Now(), ip: remoteIP(c)}
	h.unwatch = watch(p.stopping, c)
	defer func() { h.unwatch() }()
	bufp := p.heads.Get().(*[]byte)
	defer p.heads.Put(bufp)
	if r := h.run(*bufp); r != nil {
		h.refuse(r)
	}
}

type handshake struct {
	p     *Proxy
	c     net.Conn
	start time.Time
	ip    netip.Addr
	req   upgrade.Request
	pool  *pool  // the upstreams as resolved when the handshake reached them
	ahead []byte // bytes the client sent after its head
	held  bool   // counted by the limiter
	// unwatch stops Shutdown from cutting the client off, once the
	// connection is the relay's or answered.
	unwatch func() bool
}

// watch makes c's pending and future I/O fail once ctx ends.
func watch(ctx context.Context, c net.Conn) (stop func() bool) {
	return context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
}

func (h *handshake) run(buf []byte) *refusal {
	p := h.p
	h.c.SetReadDeadline(h.start.Add(p.cfg.HeaderTimeout))
	end, n, err := readHead(h.c, buf)
	if r := h.headError(err, n); r != nil {
		return r
	}
	h.c.SetReadDeadline(time.Time{})
	h.ahead = buf[end:n]
	if h.req, err = upgrade.ParseRequest(buf[:end]); err != nil {
		return fromUpgradeError(err, outBadRequest)
	}
	if p.isShutting() {
		return &refusal{out: outShuttingDown, status: 503, reason: "shutting down"}
	}
	if why := p.limits.acquire(h.ip); why != "" {
		return &refusal{out: outLimited, status: 503, reason: why}
	}
	h.held = true
	if e := upgrade.Check(&h.req); e != nil {
		out := outBadRequest
		switch e.Status {
		case 426:
			out = outNotUpgrade
		case 405:
			out = outMethod
		}
		return fromUpgradeError(e, out)
	}
	if r := h.checkOrigin(); r != nil {
		return r
	}
	return h.forward()
}

// headError turns a failed head read into the answer nginx would give.
func (h *handshake) headError(err error, n int) *refusal {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errHeadTooLarge):
		return &refusal{out: outHeaderTooLarge, status: 431, reason: "request head larger than " + strconv.Itoa(h.p.cfg.MaxHeaderBytes) + " bytes"}
	case h.p.stopping.Err() != nil:
		return &refusal{out: outShuttingDown, err: err} // the deadline is Shutdown's: no answer
	case errors.Is(err, os.ErrDeadlineExceeded):
		h.p.counters.timeouts[toHeader].Add(1)
		return &refusal{out: outHeaderTimeout, status: 408, reason: "request head not complete within " + h.p.cfg.HeaderTimeout.String()}
	case n > 0 && errors.Is(err, io.EOF):
		return &refusal{out: outBadRequest, status: 400, reason: "connection closed inside the request head"}
	}
	return &refusal{out: outClientClosed, err: err} // nobody to answer
}

func fromUpgradeError(err error, out outcome) *refusal {
	var e *upgrade.Error
	if errors.As(err, &e) {
		return &refusal{out: out, status: e.Status, reason: e.Reason, header: e.Header}
	}
	return &refusal{out: out, status: 400, reason: err.Error()}
}

// checkOrigin enforces AllowedOrigins. A request without Origin comes from
// a non-browser client, which cross-site hijacking cannot use, so it passes.
func (h *handshake) checkOrigin() *refusal {
	if len(h.p.origins) == 0 {
		return nil
	}
	o, ok := h.req.Get("Origin")
	if !ok || h.p.origins[strings.ToLower(string(o))] {
		return nil
	}
	return &refusal{out: outForbidden, status: 403, reason: "origin " + strconv.Quote(string(o)) + " is not allowed"}
}

// forward tries backends until one answers, then starts the tunnel or
// passes the answer on. Connect errors and timeouts, and statuses listed in
// NextUpstream, move on to the next backend; each counts as a failure for
// passive health, as does a malformed answer (not retried, like nginx's
// invalid_header).
func (h *handshake) forward() *refusal {
	p := h.p
	h.pool = p.pool.Load()
	group := h.pool.group
	tried := make([]bool, group.Len())
	req := balance.Request{ClientIP: h.ip}
	if p.hashKey != nil {
		req.Key = p.hashKey(&h.req, h.ip)
	}
	var last *refusal // why the previous backend failed
	var held *answer  // a NextUpstream answer, passed on if no backend is left
	for {
		i, ok := group.Pick(req, tried, time.Now())
		if !ok {
			break
		}
		tried[i] = true
		if held != nil {
			held.close()
			held = nil
		}
		a, r := h.attempt(i)
		switch {
		case r != nil:
			if r.fails {
				group.Fail(i, time.Now())
			}
			group.Release(i)
			if !r.retry {
				return r
			}
			last = r
		case a.resp.Status == 101:
			group.Succeed(i)
			h.tunnel(i, a)
			return nil
		case p.next[a.resp.Status]:
			group.Fail(i, time.Now())
			group.Release(i)
			held = a
		default:
			group.Succeed(i) // the backend works; it just said no
			group.Release(i)
			h.pass(a)
			return nil
		}
	}
	switch {
	case held != nil:
		h.pass(held)
		return nil
	case last != nil:
		return last
	}
	return &refusal{out: outNoUpstream, status: 502, reason: "no live upstream"}
}

// tunnel answers the client with the backend's 101 and relays.
func (h *handshake) tunnel(i int, a *answer) {
	p := h.p
	p.counters.outcomes[outOK].Add(1)
	p.counters.tunnels.Add(1)
	pl := h.pool
	b := pl.peers[i]
	b.open.Add(1)
	b.total.Add(1)
	ip := h.ip
	h.held = false // the tunnel's Done releases the limiter from here on
	h.unwatch()
	a.unwatch()
	p.relay.Start(relay.Tunnel{
		Client: h.c, Backend: a.conn,
		ToClient:  a.head, // the 101 and whatever the backend sent after it
		ToBackend: h.ahead,
		Done: func(res relay.Result) {
			b.open.Add(-1)
			pl.group.Release(i)
			p.limits.release(ip)
			p.tunnelEnded(res, b.label)
		},
	})
	a.release()
}

func (p *Proxy) tunnelEnded(res relay.Result, backend string) {
	p.reserve.open() // taken at the file limit: its descriptors are free now
	p.counters.ends[res.End].Add(1)
	switch res.End {
	case relay.EndReadTimeout:
		p.counters.timeouts[toRead].Add(1)
	case relay.EndSendTimeout:
		p.counters.timeouts[toSend].Add(1)
	case relay.EndLifetime:
		p.counters.timeouts[toLifetime].Add(1)
	}
	if p.log.Enabled(context.Background(), slog.LevelDebug) { // skip building the line otherwise
		p.log.Debug("tunnel ended", "backend", backend, "end", res.End.String(), "up", res.Up, "down", res.Down,
			"duration", res.Duration, "err", res.Err)
	}
}

// done releases the client's place in the limiter, unless a tunnel holds it.
func (h *handshake) done() {
	if h.held {
		h.p.limits.release(h.ip)
		h.held = false
	}
}

// refuse answers the client with r's status (if any), logs, and closes.
func (h *handshake) refuse(r *refusal) {
	p := h.p
	h.done()
	p.counters.outcomes[r.out].Add(1)
	attrs := []any{"client", h.c.RemoteAddr().String(), "outcome", outcomeNames[r.out], "status", r.status,
		"reason", r.reason, "duration", time.Since(h.start)}
	if r.backend != "" {
		attrs = append(attrs, "backend", r.backend)
	}
	if r.err != nil {
		attrs = append(attrs, "err", r.err)
	}
	if r.status >= 500 {
		p.log.Warn("handshake failed", attrs...)
	} else {
		p.log.Info("handshake failed", attrs...)
	}
	if r.status == 0 {
		h.c.Close()
		return
	}
	respond(h.c, r.status, r.reason, r.header, p.cfg.SendTimeout)
}

// remoteIP is the client's address without port, IPv4-mapped IPv6 unmapped.
func remoteIP(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// queryValue returns the first value of name in target's query string.
func queryValue(target, name string) string {
	_, q, ok := strings.Cut(target, "?")
	if !ok {
		return ""
	}
	v, err := url.ParseQuery(q)
	if err != nil && len(v) == 0 {
		return ""
	}
	return v.Get(name)
}
