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
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/echo"
)

// dialed is the outcome of one connection attempt, handed to the event
// loop that will own the connection.
type dialed struct {
	conn      net.Conn // nil when the attempt failed
	rest      []byte   // bytes the server sent right after its 101
	connectNS int64    // dial start → TCP established
	shakeNS   int64    // dial start → 101 parsed
	backend   string
	cause     string // failure cause; "" on success
	// A reconnection takes over a dropped connection's place in the rate
	// schedule: its slot and next message index.
	reconnect bool
	slot      int32
	k         int64
	churn     bool // the reconnection replaces a connection closed by churn
}

// dialer opens WebSocket connections the way every workload needs them.
type dialer struct {
	url     string
	timeout time.Duration
	header  http.Header
	tls     *tls.Config
	sources []netip.Addr
	rcvbuf  int // SO_RCVBUF before connect; 0 = the kernel's
}

func newDialer(o Options) *dialer {
	h := http.Header{}
	for _, kv := range o.Headers {
		k, v, _ := strings.Cut(kv, ":")
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return &dialer{
		url:     o.target(),
		timeout: o.HandshakeTimeout,
		header:  h,
		tls:     &tls.Config{InsecureSkipVerify: o.Insecure}, //nolint:gosec // opt-in, for self-signed test certificates
		sources: o.SourceIPs,
		rcvbuf:  noReadRcvBuf(o.NoRead),
	}
}

// noReadRcvBuf shrinks the receive window of connections that never read,
// so a server's writes block after kilobytes instead of megabytes.
func noReadRcvBuf(noRead bool) int {
	if noRead {
		return 4096
	}
	return 0
}

// dial opens connection idx and performs the handshake. Timings start when
// dial is called, which the caller does at the connection's scheduled time.
func (d *dialer) dial(ctx context.Context, idx int) dialed {
	var res dialed
	start := time.Now()
	nd := net.Dialer{Timeout: d.timeout, Control: d.control}
	if len(d.sources) > 0 {
		nd.LocalAddr = &net.TCPAddr{IP: d.sources[idx%len(d.sources)].AsSlice()}
	}
	wd := ws.Dialer{
		Timeout:   d.timeout,
		Header:    ws.HandshakeHeaderHTTP(d.header),
		TLSConfig: d.tls,
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := nd.DialContext(ctx, network, addr)
			res.connectNS = int64(time.Since(start))
			return c, err
		},
		OnHeader: func(key, value []byte) error {
			if strings.EqualFold(string(key), echo.BackendHeader) {
				res.backend = string(value)
			}
			return nil
		},
	}
	conn, br, _, err := wd.Dial(ctx, d.url)
	res.shakeNS = int64(time.Since(start))
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
	case errors.Is(err, ws.ErrMalformedResponse), errors.Is(err, ws.ErrHandshakeBadProtocol):
		return "bad_response"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "emfile"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no_ports"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &nerr) && nerr.Timeout():
		return "timeout"
	case errors.As(err, &dnsErr):
		return "dns"
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
	case "dns":
		return "the target host name did not resolve"
	}
	return ""
}
