package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/internal/httpsyntax"
	"github.com/wsbench/wsbench/internal/sysio"
	"github.com/wsbench/wsbench/units"
	"github.com/wsbench/wsbench/wire"
)

// maxEchoMessage bounds --max-message: the backend holds a message whole
// before echoing it, so a larger limit is a typo or an out-of-memory.
const maxEchoMessage = 1 << 30

// echoOptions are the flags of `wsbench echo`.
type echoOptions struct {
	listen         string
	id             string
	maxMessage     units.Size
	pingInterval   units.Duration
	allowedOrigins []string
	drain          units.Duration
	logLevel       string
	tlsCert        string
	tlsKey         string
	blackhole      bool
	subprotocols   string
	noCompression  bool
}

func init() {
	register(&command{
		name:    "echo",
		summary: "Run the WebSocket echo/push/sink backend that proxies under test forward to",
		order:   10,
		usage:   "[flags]",
		example: `  # An echo backend on port 9000, named for the balance report:
  wsbench echo --listen :9000 --id backend-1

  # Only browsers from this origin may connect (others get 403):
  wsbench echo --allowed-origin https://app.example --allowed-origin https://admin.example

  # Clients choose the workload per connection by path and query:
  #   ws://host:9000/echo                    every message back (any other path too)
  #   ws://host:9000/push?rate=1k&size=256   256-byte timestamped messages, 1000/s
  #   ws://host:9000/sink                    read and discard
  #   ?hello=1                     first message: JSON with the backend id, peer
  #                                address and request headers the backend received
  #   ?ping=2s                     server pings on this connection (0: none)
  #   ?close_after=1s&close_code=1001        server closes after 1s with 1001
  #   ?stall=200ms&stall_every=1s  stop answering 200ms each second (all in phase)
  #   ?delay=2ms                   answer each batch 2ms late (a slow backend)

  # Speak subprotocols chat.v2 and chat.v1 (a client offering both gets the one
  # it lists first); compression (permessage-deflate) is accepted when offered:
  wsbench echo --subprotocols chat.v2,chat.v1

  # wss:// with a certificate (e.g. one made for a test run):
  wsbench echo --listen :9443 --tls-cert cert.pem --tls-key key.pem

  # A port that never completes a TCP connect, to test a proxy's connect timeout:
  wsbench echo --listen :9000 --blackhole`,
		flags: func(fs *pflag.FlagSet) func(context.Context, []string, *env) error {
			o := echoOptions{
				maxMessage: echo.DefaultMaxMessage,
				drain:      units.Duration(echo.DefaultDrain),
			}
			fs.StringVar(&o.listen, "listen", ":9000", "TCP address to listen on")
			fs.StringVar(&o.id, "id", "", "backend id sent in the "+wire.BackendHeader+" header and hello messages (default: the host name)")
			fs.Var(&o.maxMessage, "max-message", "largest message accepted, at most 1GiB; bigger ones are closed with 1009")
			fs.Var(&o.pingInterval, "ping-interval", "send a ping on every connection this often (0: never; ?ping= overrides)")
			fs.StringArrayVar(&o.allowedOrigins, "allowed-origin", nil, "allow only this Origin (repeatable); others get 403, requests without Origin pass")
			fs.Var(&o.drain, "drain", "on SIGTERM, how long to wait for connections to answer close 1001 (more than 0)")
			fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
			fs.StringVar(&o.tlsCert, "tls-cert", "", "serve wss:// with this PEM certificate `FILE` (needs --tls-key)")
			fs.StringVar(&o.tlsKey, "tls-key", "", "PEM private key `FILE` for --tls-cert")
			fs.BoolVar(&o.blackhole, "blackhole", false, "never complete a TCP connect on --listen (SYNs are dropped): a backend that is down")
			fs.StringVar(&o.subprotocols, "subprotocols", wire.Subprotocol, "the subprotocols spoken, comma-separated: the first a client offers that is listed is selected (\"\": none)")
			fs.BoolVar(&o.noCompression, "no-compression", false, "decline permessage-deflate (by default an offer is accepted with its context-takeover parameters)")
			return func(ctx context.Context, args []string, e *env) error {
				if len(args) > 0 {
					return usagef("echo takes no arguments, got %q", args)
				}
				return runEcho(ctx, o, e)
			}
		},
	})
}

func runEcho(ctx context.Context, o echoOptions, e *env) error {
	level, err := parseLogLevel(o.logLevel)
	if err != nil {
		return err
	}
	if o.maxMessage <= 0 || o.maxMessage > maxEchoMessage {
		return usagef("--max-message %s: want 1B to %s (a message is held whole in memory)", o.maxMessage, units.Size(maxEchoMessage))
	}
	if o.drain <= 0 { // echo.Config would take 0 for its default
		return usagef("--drain %s: want more than 0 (e.g. 1ms to close at once)", o.drain)
	}
	if err := checkListenAddr("--listen", o.listen); err != nil {
		return err
	}
	if o.id != "" && strings.ContainsFunc(o.id, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return usagef("--id %q: want printable ASCII without spaces (it is sent as a header value)", o.id)
	}
	protocols := wire.List(o.subprotocols)
	for _, p := range protocols {
		if !httpsyntax.IsToken(p) {
			return usagef("--subprotocols %q: %q is not a token (RFC 6455 4.1: letters, digits and !#$%%&'*+-.^_`|~)", o.subprotocols, p)
		}
	}
	srv := echo.New(echo.Config{
		ID:             o.id,
		MaxMessage:     int64(o.maxMessage),
		PingInterval:   time.Duration(o.pingInterval),
		AllowedOrigins: o.allowedOrigins,
		Drain:          time.Duration(o.drain),
		Subprotocols:   append([]string{}, protocols...), // empty, not nil: none
		NoCompression:  o.noCompression,
		Logger:         slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level})),
	})
	if o.blackhole {
		return runBlackhole(ctx, o.listen, e)
	}
	ln, err := listenEcho(o)
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	// The container stack waits for this exact line (wait.ForLog): keep its
	// text stable.
	fmt.Fprintf(e.stdout, "wsbench echo: listening on %s as %s\n", ln.Addr(), srv.ID())
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintf(e.stderr, "wsbench echo: shutting down, draining connections for up to %s\n", time.Duration(o.drain))
	if err := srv.Shutdown(context.Background()); err != nil {
		return err
	}
	if err := <-served; err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	st := srv.Stats()
	fmt.Fprintf(e.stderr, "wsbench echo: stopped after %d handshakes, %d messages in, %d out\n", st.Handshakes, st.MessagesIn, st.MessagesOut)
	return nil
}

func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, usagef("--log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// listenEcho opens the listener, with TLS when a certificate is given.
func listenEcho(o echoOptions) (net.Listener, error) {
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return nil, usagef("--tls-cert and --tls-key go together")
	}
	var cfg *tls.Config
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return nil, usagef("--tls-cert %s / --tls-key %s: %v", o.tlsCert, o.tlsKey, err)
		}
		cfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		if sysio.IsFileLimit(err) {
			return nil, sysio.LimitErr(err)
		}
		return nil, listenError("--listen", o.listen, err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	return ln, nil
}

// runBlackhole holds a port that drops every connection attempt until ctx
// ends.
func runBlackhole(ctx context.Context, addr string, e *env) error {
	b, err := echo.ListenBlackhole(addr)
	if err != nil {
		return listenError("--listen", addr, err)
	}
	defer b.Close()
	// Same stable line as a real backend: the stack waits for it.
	fmt.Fprintf(e.stdout, "wsbench echo: listening on %s as blackhole\n", b.Addr())
	<-ctx.Done()
	return nil
}
