package proxy

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/wsbench/wsbench/internal/selfusage"
	"github.com/wsbench/wsbench/proxy/balance"
	"github.com/wsbench/wsbench/proxy/relay"
)

// outcome is how a handshake ended; each has a counter.
type outcome int

const (
	outOK             outcome = iota // 101 relayed, tunnel started
	outClientClosed                  // the client left before its head was complete
	outHeaderTimeout                 // 408: head not complete within HeaderTimeout
	outHeaderTooLarge                // 431
	outBadRequest                    // 400
	outNotUpgrade                    // 426
	outMethod                        // 405
	outForbidden                     // 403: Origin
	outLimited                       // 503: MaxConns or MaxConnsPerIP
	outShuttingDown                  // 503: Shutdown started
	outFileLimit                     // 503: too many open files
	outNoUpstream                    // 502: every backend failed or is out
	outConnectTimeout                // 504: the last backend tried did not connect in time
	outBackendTimeout                // 504: the last backend tried did not answer in time
	outBackendError                  // 502: the backend's answer was missing or malformed
	outBackendStatus                 // the backend answered something other than 101, relayed as is
	numOutcomes
)

var outcomeNames = [numOutcomes]string{
	"ok", "client_closed", "header_timeout", "header_too_large", "bad_request", "not_upgrade",
	"method_not_allowed", "forbidden_origin", "limited", "shutting_down", "file_limit",
	"no_upstream", "connect_timeout", "backend_timeout", "backend_error", "backend_status",
}

// timeout kinds counted separately from handshake outcomes: a connect
// timeout on the first backend may end in a 101 from the second.
const (
	toHeader   = iota // client head
	toConnect         // TCP connect to a backend
	toResponse        // waiting for a backend's answer
	toRead            // idle tunnel
	toSend            // blocked write in a tunnel
	toLifetime        // MaxLifetime
	numTimeouts
)

var timeoutNames = [numTimeouts]string{"header", "connect", "response", "read", "send", "lifetime"}

var endNames = []relay.End{relay.EndClosed, relay.EndReset, relay.EndReadTimeout, relay.EndSendTimeout, relay.EndLifetime, relay.EndShutdown}

type counters struct {
	outcomes [numOutcomes]atomic.Int64
	timeouts [numTimeouts]atomic.Int64
	ends     [8]atomic.Int64 // by relay.End
	tunnels  atomic.Int64    // started
}

// Counters is a snapshot of what a Proxy has done, served as JSON on the
// admin address.
type Counters struct {
	TunnelsOpen  int64            `json:"tunnels_open"`
	TunnelsTotal int64            `json:"tunnels_total"`
	Backends     []BackendCounter `json:"backends"`
	// Handshakes by outcome: ok, and every way one fails.
	Handshakes map[string]int64 `json:"handshakes"`
	// BytesUp is client→backend, BytesDown backend→client, relayed so far.
	BytesUp   int64 `json:"bytes_up"`
	BytesDown int64 `json:"bytes_down"`
	// Timeouts by kind: header, connect, response, read, send, lifetime.
	Timeouts map[string]int64 `json:"timeouts"`
	// TunnelEnds counts ended tunnels by why: closed, reset, read_timeout,
	// send_timeout, lifetime, shutdown.
	TunnelEnds map[string]int64 `json:"tunnel_ends"`
	// Process is the whole process's resident memory, open descriptors
	// and goroutines, read when the admin endpoint answers (nil from
	// Counters: a process may run several proxies). `wsbench run` samples
	// it once a second to show whether the proxy grows over a soak.
	Process *selfusage.Usage `json:"process,omitempty"`
}

// BackendCounter is one backend's share: one address of an upstream.
type BackendCounter struct {
	Upstream string `json:"upstream"` // as configured, e.g. backend-1:9000
	Addr     string `json:"addr"`     // the address it resolved to, which is dialled
	// Gone: the upstream no longer resolves to Addr; listed while
	// tunnels to it remain.
	Gone         bool  `json:"gone,omitempty"`
	TunnelsOpen  int64 `json:"tunnels_open"`
	TunnelsTotal int64 `json:"tunnels_total"`
	Conns        int   `json:"conns"` // tunnels plus handshakes in progress (least_conn's count)
	Fails        int   `json:"fails"`
	Down         bool  `json:"down"` // out after max_fails failures
}

// Counters returns a snapshot of the counters.
func (p *Proxy) Counters() Counters {
	c := &p.counters
	out := Counters{
		TunnelsTotal: c.tunnels.Load(),
		Handshakes:   map[string]int64{},
		Timeouts:     map[string]int64{},
		TunnelEnds:   map[string]int64{},
	}
	for i := range c.outcomes {
		out.Handshakes[outcomeNames[i]] = c.outcomes[i].Load()
	}
	for i := range c.timeouts {
		out.Timeouts[timeoutNames[i]] = c.timeouts[i].Load()
	}
	for _, e := range endNames {
		out.TunnelEnds[e.String()] = c.ends[e].Load()
	}
	out.BytesUp, out.BytesDown = p.relay.Bytes()
	pl := p.pool.Load()
	stats := pl.group.Stats(time.Now())
	for i, b := range pl.peers {
		open := b.open.Load()
		bc := BackendCounter{Upstream: b.upstream, Addr: b.addr, TunnelsOpen: open, TunnelsTotal: b.total.Load()}
		if i < len(stats) {
			bc.Conns, bc.Fails, bc.Down = stats[i].Conns, stats[i].Fails, stats[i].Down
		} else if open > 0 {
			bc.Gone, bc.Conns = true, int(open)
		} else {
			continue // gone, and its last tunnel closed
		}
		out.Backends = append(out.Backends, bc)
		out.TunnelsOpen += open
	}
	return out
}

func backendCounter(st balance.PeerStats, open, total int64) BackendCounter {
	return BackendCounter{Addr: st.Addr, TunnelsOpen: open, TunnelsTotal: total, Conns: st.Conns, Fails: st.Fails, Down: st.Down}
}

// AdminHandler serves Counters as JSON on GET (any path), with the
// process's usage.
func (p *Proxy) AdminHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "proxy admin: only GET", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		c := p.Counters()
		u := selfusage.Read()
		c.Process = &u
		enc.Encode(c)
	})
}
