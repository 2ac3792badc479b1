package proxy

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/wsbench/wsbench/proxy/balance"
	"github.com/wsbench/wsbench/proxy/relay"
)

// Defaults for zero Config fields: nginx's where nginx has the knob.
const (
	DefaultHeaderTimeout  = 60 * time.Second // client_header_timeout
	DefaultMaxHeaderBytes = 8 << 10          // large_client_header_buffers' 8k
	DefaultConnectTimeout = 60 * time.Second // proxy_connect_timeout
	DefaultReadTimeout    = relay.DefaultReadTimeout
	DefaultSendTimeout    = relay.DefaultSendTimeout
	DefaultMaxFails       = 1                // max_fails
	DefaultFailTimeout    = 10 * time.Second // fail_timeout
	DefaultBufferSize     = relay.DefaultBufferSize
	DefaultShutdownGrace  = 10 * time.Second
)

// Bounds on Config sizes: beyond them a value cannot work or is a typo
// that would cost memory per connection.
const (
	MinHeaderBytes   = 256      // less cannot hold any WebSocket handshake
	HeaderBytesLimit = 1 << 20  // a head buffer per handshake; nginx's default is 8k
	BufferSizeLimit  = 16 << 20 // two copy buffers per tunnel
	PollersLimit     = 1024
)

// Upstream is one backend server.
type Upstream struct {
	// Addr is host:port. A host name is resolved in New, like nginx's
	// server names at start; each of its addresses becomes a server of its
	// own with this Upstream's settings, as in nginx.
	Addr   string
	Weight int // 0 → 1
	// MaxFails and FailTimeout override Config's for this server: 0 takes
	// Config's; a negative MaxFails never takes it out (nginx max_fails=0).
	MaxFails    int
	FailTimeout time.Duration
}

// Config configures a Proxy. Its zero value plus Upstreams behaves like
// nginx's map-idiom WebSocket location with default timeouts.
type Config struct {
	Upstreams []Upstream
	Balance   balance.Method // "" → round_robin
	// HashKey is what the hash method hashes: header:NAME, query:NAME, uri
	// or remote_addr ("" → remote_addr).
	HashKey string
	// MaxFails failures within FailTimeout take a backend out for
	// FailTimeout. 0 → DefaultMaxFails; negative → never.
	MaxFails    int
	FailTimeout time.Duration // 0 → DefaultFailTimeout
	// NextUpstream lists backend statuses that count as a failure and move
	// the handshake on to the next backend, like nginx's
	// proxy_next_upstream http_502 …; connect errors and timeouts always do.
	NextUpstream []int
	// ResolveInterval re-resolves the upstreams' host names this often in
	// the background, like nginx's "resolver … valid=": new addresses are
	// swapped in whole; a failed lookup keeps the old ones. 0 resolves them
	// once, in New. No handshake ever waits for a lookup.
	ResolveInterval time.Duration
	// Resolver looks the host names up; nil → net.DefaultResolver.
	Resolver Resolver

	HeaderTimeout   time.Duration // 0 → DefaultHeaderTimeout: whole request head
	MaxHeaderBytes  int           // 0 → DefaultMaxHeaderBytes; more → 431
	ConnectTimeout  time.Duration // 0 → DefaultConnectTimeout; then next backend or 504
	ReadTimeout     time.Duration // 0 → DefaultReadTimeout: backend's answer, idle tunnel
	ReadTimeoutMode relay.Mode    // "" → nginx: bytes either way re-arm it
	SendTimeout     time.Duration // 0 → DefaultSendTimeout: a blocked write
	MaxLifetime     time.Duration // 0 → none

	Copy       bool // relay with a userspace copy instead of splice(2)
	BufferSize int  // 0 → DefaultBufferSize: the copy path's chunk
	Engine     relay.Engine
	Pollers    int
	// InjectDelay delays every relayed chunk, to prove a regression gate
	// notices a slower proxy. Never set it otherwise.
	InjectDelay time.Duration

	MaxConns       int      // 0 → unlimited; more → 503
	MaxConnsPerIP  int      // 0 → unlimited; more from one address → 503 (nginx limit_conn)
	AllowedOrigins []string // empty → any; else another Origin → 403

	// Host is the Host header sent to the backend: "" or "$host" keeps the
	// client's; "$proxy_host" sends the backend's host:port; anything else
	// is sent as is.
	Host           string
	ForwardedProto string // X-Forwarded-Proto: "" → "http"
	// UnderscoresInHeaders forwards client header fields with "_" in
	// their names; false drops them (nginx underscores_in_headers off).
	UnderscoresInHeaders bool

	ShutdownGrace time.Duration // 0 → DefaultShutdownGrace
	Logger        *slog.Logger  // nil → discard
}

// Resolver looks up a host's addresses. *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ParseUpstream reads nginx-like server syntax:
// "host:port[,weight=N][,max_fails=N][,fail_timeout=D]".
func ParseUpstream(s string) (Upstream, error) {
	parts := strings.Split(s, ",")
	u := Upstream{Addr: strings.TrimSpace(parts[0])}
	if err := checkAddr(u.Addr); err != nil {
		return u, fmt.Errorf("proxy: upstream %q: %w", s, err)
	}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		var err error
		switch {
		case !ok:
			err = fmt.Errorf("parameter %q: want name=value", p)
		case k == "weight":
			u.Weight, err = positive(v)
		case k == "max_fails":
			var n int
			n, err = strconv.Atoi(v)
			switch {
			case err != nil || n < 0:
				err = fmt.Errorf("max_fails %q: want a whole number, 0 for never", v)
			case n == 0:
				u.MaxFails = -1
			default:
				u.MaxFails = n
			}
		case k == "fail_timeout":
			u.FailTimeout, err = time.ParseDuration(v)
			if err != nil || u.FailTimeout <= 0 {
				err = fmt.Errorf("fail_timeout %q: want a duration such as 10s", v)
			}
		default:
			err = fmt.Errorf("unknown parameter %q: want weight, max_fails or fail_timeout", k)
		}
		if err != nil {
			return u, fmt.Errorf("proxy: upstream %q: %w", s, err)
		}
	}
	return u, nil
}

func positive(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("weight %q: want a whole number of at least 1", v)
	}
	return n, nil
}

func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return fmt.Errorf("address %q: want host:port", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("address %q: port %q is not a number from 1 to 65535", addr, port)
	}
	return nil
}

// fill validates c and fills in defaults. Errors name the field. It
// returns the compiled HashKey.
func (c *Config) fill() (keyFunc, error) {
	if len(c.Upstreams) == 0 {
		return nil, fmt.Errorf("proxy: Upstreams: none given; want at least one backend host:port")
	}
	for i, u := range c.Upstreams {
		if err := checkAddr(u.Addr); err != nil {
			return nil, fmt.Errorf("proxy: Upstreams[%d]: %w", i, err)
		}
		if u.Weight < 0 || u.FailTimeout < 0 {
			return nil, fmt.Errorf("proxy: Upstreams[%d] %s: negative weight %d or fail_timeout %v", i, u.Addr, u.Weight, u.FailTimeout)
		}
	}
	if c.Balance == "" {
		c.Balance = balance.RoundRobin
	}
	if _, err := balance.ParseMethod(string(c.Balance)); err != nil {
		return nil, fmt.Errorf("proxy: Balance: %w", err)
	}
	if c.HashKey == "" {
		c.HashKey = "remote_addr"
	}
	hashKey, err := hashKeyFunc(c.HashKey)
	if err != nil {
		return nil, err
	}
	for _, st := range c.NextUpstream {
		if st < 400 || st > 599 {
			return nil, fmt.Errorf("proxy: NextUpstream: status %d: want an error status from 400 to 599", st)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"FailTimeout", c.FailTimeout}, {"HeaderTimeout", c.HeaderTimeout}, {"ConnectTimeout", c.ConnectTimeout},
		{"ReadTimeout", c.ReadTimeout}, {"SendTimeout", c.SendTimeout}, {"MaxLifetime", c.MaxLifetime},
		{"InjectDelay", c.InjectDelay}, {"ShutdownGrace", c.ShutdownGrace}, {"ResolveInterval", c.ResolveInterval}} {
		if d.v < 0 {
			return nil, fmt.Errorf("proxy: %s: %v is negative", d.name, d.v)
		}
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"MaxConns", c.MaxConns}, {"MaxConnsPerIP", c.MaxConnsPerIP}, {"BufferSize", c.BufferSize}, {"Pollers", c.Pollers}} {
		if n.v < 0 {
			return nil, fmt.Errorf("proxy: %s: %d is negative", n.name, n.v)
		}
	}
	if c.MaxHeaderBytes != 0 && (c.MaxHeaderBytes < MinHeaderBytes || c.MaxHeaderBytes > HeaderBytesLimit) {
		return nil, fmt.Errorf("proxy: MaxHeaderBytes: %d: want %d (the smallest WebSocket handshake) to %d", c.MaxHeaderBytes, MinHeaderBytes, HeaderBytesLimit)
	}
	if c.BufferSize > BufferSizeLimit || c.Pollers > PollersLimit {
		return nil, fmt.Errorf("proxy: BufferSize %d or Pollers %d: want at most %d and %d", c.BufferSize, c.Pollers, BufferSizeLimit, PollersLimit)
	}
	if strings.ContainsAny(c.Host, " \t\r\n") {
		return nil, fmt.Errorf("proxy: Host: %q has whitespace", c.Host)
	}
	if c.ForwardedProto != "" && c.ForwardedProto != "http" && c.ForwardedProto != "https" {
		return nil, fmt.Errorf("proxy: ForwardedProto: %q: want http or https", c.ForwardedProto)
	}
	c.MaxFails = cmp.Or(c.MaxFails, DefaultMaxFails)
	c.FailTimeout = cmp.Or(c.FailTimeout, DefaultFailTimeout)
	c.HeaderTimeout = cmp.Or(c.HeaderTimeout, DefaultHeaderTimeout)
	c.MaxHeaderBytes = cmp.Or(c.MaxHeaderBytes, DefaultMaxHeaderBytes)
	c.ConnectTimeout = cmp.Or(c.ConnectTimeout, DefaultConnectTimeout)
	c.ReadTimeout = cmp.Or(c.ReadTimeout, DefaultReadTimeout)
	c.SendTimeout = cmp.Or(c.SendTimeout, DefaultSendTimeout)
	c.BufferSize = cmp.Or(c.BufferSize, DefaultBufferSize)
	c.ShutdownGrace = cmp.Or(c.ShutdownGrace, DefaultShutdownGrace)
	if c.ForwardedProto == "" {
		c.ForwardedProto = "http"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	return hashKey, nil
}

// peer is upstream u's balancer settings with defaults applied, for each
// of its addresses.
func (c *Config) peer(u Upstream) balance.Peer {
	p := balance.Peer{Addr: u.Addr, Weight: max(u.Weight, 1), MaxFails: c.MaxFails, FailTimeout: c.FailTimeout}
	if u.MaxFails != 0 {
		p.MaxFails = u.MaxFails
	}
	if u.FailTimeout != 0 {
		p.FailTimeout = u.FailTimeout
	}
	p.MaxFails = max(p.MaxFails, 0) // negative: never out
	return p
}
