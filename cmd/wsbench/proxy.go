package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsbench/wsbench/proxy"
	"github.com/wsbench/wsbench/proxy/balance"
	"github.com/wsbench/wsbench/proxy/relay"
	"github.com/wsbench/wsbench/units"
)

// proxyOptions are the flags of `wsbench proxy`.
type proxyOptions struct {
	listen, admin, logLevel            string
	upstreams, origins                 []string
	balance, hashKey, nextUpstream     string
	maxFails                           int
	failTimeout, resolveInterval       units.Duration
	headerTimeout, connectTimeout      units.Duration
	readTimeout, sendTimeout, lifetime units.Duration
	readMode                           string
	maxHeader, bufferSize              units.Size
	splice, underscores                bool
	engine                             string
	pollers                            int
	maxConns, maxConnsPerIP            units.Count
	host, proto                        string
	grace, injectDelay                 units.Duration
}

func init() {
	register(&command{
		name:    "proxy",
		summary: "Run the reference zero-copy WebSocket reverse proxy, with nginx's knobs",
		order:   20,
		usage:   "--upstream host:port [--upstream host:port ...] [flags]",
		example: `  # Two echo backends, round robin, nginx's defaults (60s timeouts); the names
  # are resolved once, at start, like nginx's (every address a server):
  wsbench proxy --listen :8080 --upstream echo1:9000 --upstream echo2:9000

  # Names whose addresses change (containers restarted): re-resolve every 30s:
  wsbench proxy --upstream echo1:9000 --resolve-interval 30s

  # Weighted, least connections, a backend out for 30s after 3 failures:
  wsbench proxy --upstream a:9000,weight=3 --upstream b:9000,max_fails=3,fail_timeout=30s \
    --balance least_conn

  # Sticky by user header on a consistent ring; retry the next backend on 502/503:
  wsbench proxy --upstream a:9000 --upstream b:9000 --balance hash --hash-key header:X-User \
    --next-upstream 502,503

  # nginx's proxy_read_timeout 5s, re-armed only by the backend's bytes; counters as JSON:
  wsbench proxy --upstream a:9000 --read-timeout 5s --read-timeout-mode upstream \
    --admin 127.0.0.1:9901
  curl -s 127.0.0.1:9901/

  # limit_conn 10 per client address, browsers only from one origin:
  wsbench proxy --upstream a:9000 --max-conns-per-ip 10 --allowed-origin https://app.example

  # Userspace copy with 16 KiB buffers (nginx proxy_buffer_size 16k) instead of splice:
  wsbench proxy --upstream a:9000 --splice=false --buffer-size 16KiB`,
		flags: func(fs *pflag.FlagSet) func(context.Context, []string, *env) error {
			o := proxyOptions{
				maxFails:       proxy.DefaultMaxFails,
				failTimeout:    units.Duration(proxy.DefaultFailTimeout),
				headerTimeout:  units.Duration(proxy.DefaultHeaderTimeout),
				connectTimeout: units.Duration(proxy.DefaultConnectTimeout),
				readTimeout:    units.Duration(proxy.DefaultReadTimeout),
				sendTimeout:    units.Duration(proxy.DefaultSendTimeout),
				maxHeader:      proxy.DefaultMaxHeaderBytes,
				bufferSize:     proxy.DefaultBufferSize,
				grace:          units.Duration(proxy.DefaultShutdownGrace),
			}
			fs.StringVar(&o.listen, "listen", ":8080", "TCP address to accept clients on")
			fs.StringArrayVar(&o.upstreams, "upstream", nil, "backend host:port[,weight=N][,max_fails=N][,fail_timeout=D] (repeatable, at least one)")
			fs.StringVar(&o.balance, "balance", string(balance.RoundRobin), "round_robin, least_conn, ip_hash (first 3 octets of IPv4), hash (consistent ring) or random2")
			fs.StringVar(&o.hashKey, "hash-key", "remote_addr", "what --balance hash hashes: header:NAME, query:NAME, uri or remote_addr")
			fs.IntVar(&o.maxFails, "max-fails", o.maxFails, "failures within --fail-timeout that take a backend out for --fail-timeout (0: never)")
			fs.Var(&o.failTimeout, "fail-timeout", "window for --max-fails, and how long a failed backend stays out")
			fs.Var(&o.resolveInterval, "resolve-interval", "re-resolve --upstream host names this often in the background (nginx resolver valid=); 0: only at start, like nginx. Handshakes never wait for a lookup; a failed one keeps the old addresses")
			fs.StringVar(&o.nextUpstream, "next-upstream", "", "backend statuses that also move on to the next backend, e.g. 502,503 (connect errors and timeouts always do)")
			fs.Var(&o.headerTimeout, "header-timeout", "time to receive the whole request head (slowloris); then 408")
			fs.Var(&o.maxHeader, "max-header-bytes", "largest request head, 256B to 1MiB; larger gets 431")
			fs.Var(&o.connectTimeout, "connect-timeout", "TCP connect to a backend (nginx proxy_connect_timeout); then the next backend or 504")
			fs.Var(&o.readTimeout, "read-timeout", "idle tunnel, and the wait for the backend's answer (nginx proxy_read_timeout)")
			fs.StringVar(&o.readMode, "read-timeout-mode", string(relay.Either), "nginx: bytes either way re-arm --read-timeout; upstream: only the backend's")
			fs.Var(&o.sendTimeout, "send-timeout", "a write to either side blocked this long closes the tunnel, resetting the stalled peer (nginx proxy_send_timeout with reset_timedout_connection)")
			fs.Var(&o.lifetime, "max-lifetime", "absolute tunnel lifetime (0: none), like Caddy's stream_timeout")
			fs.BoolVar(&o.splice, "splice", true, "relay with splice(2); false copies through --buffer-size buffers")
			fs.Var(&o.bufferSize, "buffer-size", "copy buffer with --splice=false (nginx proxy_buffer_size), at most 16MiB")
			fs.Var(&o.maxConns, "max-conns", "most client connections at once (0: no limit); more get 503")
			fs.Var(&o.maxConnsPerIP, "max-conns-per-ip", "most connections from one client address (0: no limit); more get 503, like nginx limit_conn")
			fs.StringArrayVar(&o.origins, "allowed-origin", nil, "allow only this Origin (repeatable); others get 403, requests without Origin pass")
			fs.StringVar(&o.host, "host", "$host", "Host header sent to the backend: $host (the client's), $proxy_host (the backend's host:port) or a fixed name")
			fs.StringVar(&o.proto, "forwarded-proto", "http", "X-Forwarded-Proto sent to the backend: http or https")
			fs.BoolVar(&o.underscores, "underscores-in-headers", false, "forward client headers with _ in their names (nginx underscores_in_headers); by default they are dropped")
			fs.Var(&o.grace, "shutdown-grace", "on SIGTERM, how long open tunnels may run before they are closed (more than 0)")
			fs.StringVar(&o.admin, "admin", "", "serve JSON counters on this address, e.g. 127.0.0.1:9901 (off when empty)")
			fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error (a failed handshake logs at info, or warn when a backend is at fault)")
			fs.StringVar(&o.engine, "relay", "", "relay engine: epoll (Linux default: no goroutine per tunnel) or goroutines")
			fs.IntVar(&o.pollers, "pollers", 0, "epoll relay loops, up to 1024 (0: one per 4 CPUs, at least one)")
			fs.Var(&o.injectDelay, "inject-delay", "FOR TESTING THE REGRESSION GATE ONLY: hold every relayed chunk this long (0: no delay)")
			return func(ctx context.Context, args []string, e *env) error {
				if len(args) > 0 {
					return usagef("proxy takes no arguments, got %q", args)
				}
				return runProxy(ctx, o, e)
			}
		},
	})
}

func (o *proxyOptions) config(log *slog.Logger) (proxy.Config, error) {
	cfg := proxy.Config{
		HashKey: o.hashKey, FailTimeout: time.Duration(o.failTimeout),
		HeaderTimeout: time.Duration(o.headerTimeout), MaxHeaderBytes: int(o.maxHeader),
		ConnectTimeout: time.Duration(o.connectTimeout), ReadTimeout: time.Duration(o.readTimeout),
		ReadTimeoutMode: relay.Mode(o.readMode), SendTimeout: time.Duration(o.sendTimeout),
		MaxLifetime: time.Duration(o.lifetime), Copy: !o.splice, BufferSize: int(o.bufferSize),
		Engine: relay.Engine(o.engine), Pollers: o.pollers, InjectDelay: time.Duration(o.injectDelay),
		MaxConns: int(o.maxConns), MaxConnsPerIP: int(o.maxConnsPerIP), AllowedOrigins: o.origins,
		Host: o.host, ForwardedProto: o.proto, UnderscoresInHeaders: o.underscores, ShutdownGrace: time.Duration(o.grace), Logger: log,
		ResolveInterval: time.Duration(o.resolveInterval),
	}
	if len(o.upstreams) == 0 {
		return cfg, usagef("--upstream: none given; want at least one backend host:port")
	}
	for _, s := range o.upstreams {
		u, err := proxy.ParseUpstream(s)
		if err != nil {
			return cfg, usagef("--upstream: %w", err)
		}
		cfg.Upstreams = append(cfg.Upstreams, u)
	}
	m, err := balance.ParseMethod(o.balance)
	if err != nil {
		return cfg, usagef("--balance: %w", err)
	}
	cfg.Balance = m
	switch {
	case o.maxFails < 0:
		return cfg, usagef("--max-fails %d: want 0 (never) or more", o.maxFails)
	case o.maxFails == 0:
		cfg.MaxFails = -1
	default:
		cfg.MaxFails = o.maxFails
	}
	if cfg.NextUpstream, err = parseStatuses(o.nextUpstream); err != nil {
		return cfg, err
	}
	// proxy.Config takes a zero for its default: an explicit 0 here is
	// refused, not quietly replaced.
	for _, d := range []struct {
		name string
		v    units.Duration
	}{{"--header-timeout", o.headerTimeout}, {"--connect-timeout", o.connectTimeout}, {"--read-timeout", o.readTimeout},
		{"--send-timeout", o.sendTimeout}, {"--fail-timeout", o.failTimeout}, {"--shutdown-grace", o.grace}} {
		if d.v <= 0 {
			return cfg, usagef("%s %s: want more than 0", d.name, d.v)
		}
	}
	switch {
	case o.maxHeader < proxy.MinHeaderBytes || o.maxHeader > proxy.HeaderBytesLimit:
		return cfg, usagef("--max-header-bytes %s: want %s (the smallest WebSocket handshake) to %s",
			o.maxHeader, units.Size(proxy.MinHeaderBytes), units.Size(proxy.HeaderBytesLimit))
	case o.bufferSize < 1 || o.bufferSize > proxy.BufferSizeLimit:
		return cfg, usagef("--buffer-size %s: want 1B to %s", o.bufferSize, units.Size(proxy.BufferSizeLimit))
	case o.pollers < 0 || o.pollers > proxy.PollersLimit:
		return cfg, usagef("--pollers %d: want 0 (one per 4 CPUs) to %d", o.pollers, proxy.PollersLimit)
	}
	if err := checkListenAddr("--listen", o.listen); err != nil {
		return cfg, err
	}
	if o.admin != "" {
		if err := checkListenAddr("--admin", o.admin); err != nil {
			return cfg, err
		}
	}
	if cfg.Host == "$host" {
		cfg.Host = ""
	}
	return cfg, nil
}

func parseStatuses(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(f), "http_")); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 400 || n > 599 {
			return nil, usagef("--next-upstream %q: %q is not a status from 400 to 599", s, f)
		}
		out = append(out, n)
	}
	return out, nil
}

func runProxy(ctx context.Context, o proxyOptions, e *env) error {
	level, err := parseLogLevel(o.logLevel)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	cfg, err := o.config(log)
	if err != nil {
		return err
	}
	p, err := proxy.New(cfg)
	if err != nil {
		return usagef("%w", err) // every New error is a bad setting
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return listenError("--listen", o.listen, err)
	}
	served := make(chan error, 1)
	go func() { served <- p.Serve(ln) }()
	var admin *http.Server
	if o.admin != "" {
		if admin, err = serveAdmin(o.admin, p, e); err != nil {
			p.Shutdown(context.Background())
			return err
		}
	}
	// The container stack waits for this exact line (wait.ForLog): keep its
	// text stable.
	fmt.Fprintf(e.stdout, "wsbench proxy: listening on %s\n", ln.Addr())
	select {
	case err := <-served:
		p.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	fmt.Fprintf(e.stderr, "wsbench proxy: shutting down, %d tunnels get up to %s\n", p.Counters().TunnelsOpen, time.Duration(o.grace))
	p.Shutdown(context.Background())
	if admin != nil {
		admin.Close()
	}
	c := p.Counters()
	fmt.Fprintf(e.stderr, "wsbench proxy: stopped after %d tunnels, %d bytes up, %d down\n", c.TunnelsTotal, c.BytesUp, c.BytesDown)
	if err := <-served; err != nil && !errors.Is(err, proxy.ErrClosed) {
		return err
	}
	return nil
}

func serveAdmin(addr string, p *proxy.Proxy, e *env) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, listenError("--admin", addr, err)
	}
	srv := &http.Server{Handler: p.AdminHandler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Fprintf(e.stdout, "wsbench proxy: admin counters on http://%s/\n", ln.Addr())
	return srv, nil
}
