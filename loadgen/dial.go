package loadgen

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/internal/sysio"
	"github.com/wsbench/wsbench/wire"
)

// dialed is the outcome of one connection attempt, handed to the event
// loop that will own the connection.
type dialed struct {
	conn      net.Conn // nil when the attempt failed
	rest      []byte   // bytes the server sent right after its 101
	connectNS int64    // TCP connect start → established
	shakeNS   int64    // TCP connect start → 101 parsed
	// looked says dnsNS holds a lookup of the target's name to record:
	// every attempt's with ResolveEach, the first attempt's otherwise
	// (carrying the lookup made once before the connect phase).
	looked  bool
	dnsNS   int64
	backend string
	agreed  agreement // subprotocol and compression
	cause   string    // failure cause; "" on success
	// A reconnection takes over a dropped connection's place in the rate
	// schedule: its slot and next message index.
	reconnect bool
	slot      int32
	k         int64
	churn     bool // the reconnection replaces a connection closed by churn
}

// dialer opens WebSocket connections the way every workload needs them.
// It dials addresses, not the URL's host name: the name is resolved once
// before the connect phase (or before each attempt with ResolveEach, and
// timed apart), so connect and handshake times hold no DNS lookup. The
// Host header and the TLS server name stay the URL's host.
type dialer struct {
	url     string
	timeout time.Duration
	header  http.Header
	tls     *tls.Config
	sources []netip.Addr
	rcvbuf  int // SO_RCVBUF before connect; 0 = the kernel's
	// The offer: subprotocols in Sec-WebSocket-Protocol, permessage-deflate
	// (nil: none) in Sec-WebSocket-Extensions.
	protocols  []string
	extensions []httphead.Option

	host   string       // the URL's host name or address
	lookup lookupFunc   // nil when host is an IP address
	each   bool         // look up on every attempt (Options.ResolveEach)
	addrs  []netip.Addr // the host's addresses, when resolved once
	onceNS int64        // how long the one lookup took
	// down holds addresses a connect to them failed: from then on they are
	// tried after the others, so a name that also resolves to an address
	// nothing listens on (::1 for localhost, say) costs one failed connect,
	// not one per connection.
	down sync.Map // netip.Addr → struct{}
}

// lookupFunc resolves a host name to its addresses.
type lookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

func systemLookup(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// newDialer prepares the dials of o and, unless o.ResolveEach, resolves
// the target's host name: a name that does not resolve fails the run.
func newDialer(ctx context.Context, o Options) (*dialer, error) {
	h := http.Header{}
	for _, kv := range o.Headers {
		k, v, _ := strings.Cut(kv, ":")
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	d := &dialer{
		url:     o.target(),
		timeout: o.HandshakeTimeout,
		header:  h,
		tls:     &tls.Config{InsecureSkipVerify: o.Insecure}, //nolint:gosec // opt-in, for self-signed test certificates
		sources: o.SourceIPs,
		rcvbuf:  noReadRcvBuf(o.NoRead),

		protocols: o.Subprotocols,
	}
	if o.Compression {
		d.extensions = []httphead.Option{deflateOffer(o.NoContextTakeover)}
	}
	u, err := url.Parse(d.url)
	if err != nil {
		return nil, fmt.Errorf("loadgen: url %q: %w", d.url, err)
	}
	d.host = u.Hostname()
	if ip, err := netip.ParseAddr(d.host); err == nil {
		d.addrs = []netip.Addr{ip}
		return d, nil
	}
	d.lookup, d.each = o.lookup, o.ResolveEach
	if d.lookup == nil {
		d.lookup = systemLookup
	}
	if d.each {
		return d, nil
	}
	start := time.Now()
	d.addrs, err = d.resolve(ctx)
	d.onceNS = int64(time.Since(start))
	if err != nil {
		return nil, fmt.Errorf("loadgen: resolving %s: %w", d.host, err)
	}
	return d, nil
}

// resolved reports whether the host is a name resolved once, and if so
// its addresses.
func (d *dialer) resolved() ([]netip.Addr, bool) {
	return d.addrs, d.lookup != nil && !d.each
}

// resolve looks the host up, within the handshake timeout, and returns
// its distinct addresses (IPv4 ones as IPv4, not IPv4-mapped IPv6).
func (d *dialer) resolve(ctx context.Context) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	addrs, err := d.lookup(ctx, d.host)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if a = a.Unmap(); a.IsValid() && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: d.host, IsNotFound: true}
	}
	return out, nil
}

// noReadRcvBuf shrinks the receive window of connections that never read,
// so a server's writes block after kilobytes instead of megabytes.
func noReadRcvBuf(noRead bool) int {
	if noRead {
		return 4096
	}
	return 0
}

// dial opens connection idx and performs the handshake. Timings start at
// the TCP connect, after the lookup when there is one per attempt (timed
// into dnsNS); the caller calls dial at the connection's scheduled time.
func (d *dialer) dial(ctx context.Context, idx int) dialed {
	var res dialed
	addrs := d.addrs
	if d.each {
		t := time.Now()
		var err error
		addrs, err = d.resolve(ctx)
		res.looked, res.dnsNS = true, int64(time.Since(t))
		if err != nil {
			res.cause = causeDNS
			return res
		}
	}
	start := time.Now()
	nd := net.Dialer{Timeout: d.timeout, Control: d.control}
	if len(d.sources) > 0 {
		nd.LocalAddr = &net.TCPAddr{IP: d.sources[idx%len(d.sources)].AsSlice()}
	}
	var seen seenHeaders
	wd := d.wsDialer(&res, &seen)
	wd.NetDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.connect(ctx, &nd, network, addr, addrs, idx)
		res.connectNS = int64(time.Since(start))
		return c, err
	}
	conn, br, hs, err := wd.Dial(ctx, d.url)
	res.shakeNS = int64(time.Since(start))
	if err == nil {
		res.agreed, err = agree(d.protocols, hs, seen.protocols, seen.extensions)
	}
	if err != nil {
		res.cause = classify(err)
		if conn != nil {
			conn.Close()
		}
		return res
	}
	res.conn, res.rest = conn, readAhead(br)
	return res
}

// seenHeaders are the echo backend's headers saying what it was offered.
type seenHeaders struct{ protocols, extensions string }

// wsDialer is the client side of the handshake: the request's headers and
// offers, and what the 101 tells (the backend into res, what the backend
// saw offered into seen).
func (d *dialer) wsDialer(res *dialed, seen *seenHeaders) ws.Dialer {
	return ws.Dialer{
		Timeout:    d.timeout,
		Header:     ws.HandshakeHeaderHTTP(d.header),
		TLSConfig:  d.tls,
		Protocols:  d.protocols,
		Extensions: d.extensions,
		OnHeader: func(key, value []byte) error {
			switch {
			case strings.EqualFold(string(key), wire.BackendHeader):
				res.backend = string(value)
			case strings.EqualFold(string(key), wire.ProtocolsSeenHeader):
				seen.protocols = string(value)
			case strings.EqualFold(string(key), wire.ExtensionsSeenHeader):
				seen.extensions = string(value)
			}
			return nil
		},
	}
}

// connect opens the TCP connection to one of addrs on hostport's port:
// connection idx starts at the idx-th address, so connections spread
// round-robin over the host's addresses as a browser's pool would. An
// address that fails is passed over for the next, as net.Dialer does with
// the addresses of a name (the connect time then includes the failed
// attempt); a timeout ends the attempt.
func (d *dialer) connect(ctx context.Context, nd *net.Dialer, network, hostport string, addrs []netip.Addr, idx int) (net.Conn, error) {
	_, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("loadgen: port %q: want 0 to 65535", portStr)
	}
	var first error
	for _, a := range d.order(addrs, idx) {
		c, err := nd.DialContext(ctx, network, netip.AddrPortFrom(a, uint16(port)).String())
		if err == nil {
			d.down.Delete(a)
			return c, nil
		}
		if first == nil {
			first = err
		}
		var nerr net.Error
		if ctx.Err() != nil || errors.As(err, &nerr) && nerr.Timeout() {
			break
		}
		d.down.Store(a, struct{}{})
	}
	return nil, first
}

// order lists addrs from the idx-th on, round-robin, with the addresses
// that failed before moved to the end.
func (d *dialer) order(addrs []netip.Addr, idx int) []netip.Addr {
	if len(addrs) == 1 {
		return addrs
	}
	out := make([]netip.Addr, 0, len(addrs))
	var later []netip.Addr
	for i := range addrs {
		a := addrs[(idx+i)%len(addrs)]
		if _, failed := d.down.Load(a); failed {
			later = append(later, a)
		} else {
			out = append(out, a)
		}
	}
	return append(out, later...)
}

// readAhead returns what the handshake reader buffered past the response.
func readAhead(br *bufio.Reader) []byte {
	if br == nil {
		return nil
	}
	b, _ := br.Peek(br.Buffered())
	rest := append([]byte(nil), b...)
	ws.PutReader(br)
	return rest
}

// control runs on each socket before connect. IP_BIND_ADDRESS_NO_PORT lets
// many connections share a source address without reserving an ephemeral
// port at bind time: the port is picked at connect, per destination, so one
// address serves far more than 28k connections spread over destinations.
func (d *dialer) control(network, _ string, c syscall.RawConn) error {
	if !strings.HasPrefix(network, "tcp") {
		return nil
	}
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		if serr == nil && d.rcvbuf > 0 {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, d.rcvbuf)
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// causeDNS is the failure cause of an attempt whose lookup failed.
const causeDNS = "dns"

// classify names the cause of a failed attempt for the failure table.
func classify(err error) string {
	var status ws.StatusError
	var nerr net.Error
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &status):
		return fmt.Sprintf("http_%d", int(status))
	case errors.Is(err, ws.ErrHandshakeBadSecAccept):
		return "bad_accept"
	case errors.Is(err, ws.ErrHandshakeBadUpgrade), errors.Is(err, ws.ErrHandshakeBadConnection):
		return "bad_upgrade"
	case errors.Is(err, ws.ErrHandshakeBadSubProtocol):
		return "bad_subprotocol"
	case errors.Is(err, ws.ErrHandshakeBadExtensions), errors.Is(err, errDeflateResponse):
		return "bad_extensions"
	case errors.Is(err, ws.ErrMalformedResponse), errors.Is(err, ws.ErrHandshakeBadProtocol):
		return "bad_response"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case sysio.IsFileLimit(err):
		return "emfile"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no_ports"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &nerr) && nerr.Timeout():
		return "timeout"
	case errors.As(err, &dnsErr):
		return causeDNS
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	}
	return "other"
}

// CauseHint explains the causes a user can act on.
func CauseHint(cause string) string {
	switch cause {
	case "emfile":
		return "too many open files: raise the limit (ulimit -n) or split the connections over several load generators"
	case "no_ports":
		return "out of ephemeral ports: spread connections over source addresses with --source-ips 127.0.0.2-127.0.0.40"
	case "refused":
		return "connection refused: is the target listening on that address?"
	case causeDNS:
		return "the target host name did not resolve"
	case "bad_subprotocol":
		return "the server selected a subprotocol that was not offered (RFC 6455 4.1): see --subprotocol"
	case "bad_extensions":
		return "the server agreed an extension, or permessage-deflate parameters, that were not offered (RFC 7692 7.1)"
	}
	return ""
}
