package proxy

import (
	"fmt"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/proxy/relay"
)

// Timing tests assert generous bounds on behaviour, never on speed: a
// 500 ms timeout must not fire before 375 ms, and must fire within a few
// seconds; "kept" tunnels must outlive three timeouts.
const (
	timeout  = 500 * time.Millisecond
	tooEarly = timeout * 3 / 4
	tooLate  = timeout + 3*time.Second
)

// TestReadTimeout: idle tunnels drop near --read-timeout; traffic keeps
// them, where it counts: either direction in nginx mode, only the
// backend's in upstream mode. Pings count like any bytes.
func TestReadTimeout(t *testing.T) {
	tests := []struct {
		name  string
		mode  relay.Mode
		path  string // the backend's workload and its server pings
		talk  func(c *client) error
		kept  bool
		every time.Duration
	}{
		{"nginx/silent", relay.Either, "/echo", nil, false, 0},
		{"nginx/client pings", relay.Either, "/echo", ping, true, timeout / 5},
		{"nginx/client data, no answer", relay.Either, "/sink", data, true, timeout / 5},
		{"nginx/server pings", relay.Either, fmt.Sprintf("/sink?ping=%v", timeout/5), nil, true, 0},
		{"upstream/silent", relay.Upstream, "/echo", nil, false, 0},
		{"upstream/client data, no answer", relay.Upstream, "/sink", data, false, timeout / 5},
		{"upstream/client pings, backend pongs", relay.Upstream, "/echo", ping, true, timeout / 5},
		{"upstream/server pings", relay.Upstream, fmt.Sprintf("/sink?ping=%v", timeout/5), nil, true, 0},
	}
	names := make([]string, len(tests))
	for i, tt := range tests {
		names[i] = tt.name
	}
	concurrently(t, names, func(t *testing.T, i int) {
		tt := tests[i]
		forEachVariant(t, func(t *testing.T, cfg Config) {
			b := startBackend(t, "b1", echo.Config{})
			cfg.Upstreams, cfg.ReadTimeout, cfg.ReadTimeoutMode = upstreams(b), timeout, tt.mode
			p, addr := startProxy(t, cfg)
			c := open(t, addr, tt.path, dialOpts{})
			stop := make(chan struct{})
			defer close(stop)
			if tt.talk != nil {
				go func() {
					for {
						select {
						case <-stop:
							return
						case <-time.After(tt.every):
							if tt.talk(c) != nil {
								return
							}
						}
					}
				}()
			}
			limit := tooLate
			if tt.kept {
				limit = 3 * timeout
			}
			took, closed := c.waitClosed(limit)
			switch {
			case tt.kept && closed:
				t.Fatalf("dropped after %v; want it kept past %v", took, limit)
			case !tt.kept && !closed:
				t.Fatalf("still open after %v with a %v read timeout", took, timeout)
			case !tt.kept && took < tooEarly:
				t.Fatalf("dropped after %v, before the %v read timeout", took, timeout)
			case !tt.kept:
				waitFor(t, "read timeout counted", func() bool { return p.Counters().Timeouts["read"] == 1 })
			}
		})
	})
}

func ping(c *client) error { return c.send(ws.OpPing, []byte("p")) }
func data(c *client) error { return c.send(ws.OpBinary, []byte("to the sink")) }

// TestSendTimeout: a client that stops reading while the backend pushes
// is cut off once the proxy's write to it has been blocked for
// --send-timeout.
func TestSendTimeout(t *testing.T) {
	forEachVariant(t, func(t *testing.T, cfg Config) {
		b := startBackend(t, "b1", echo.Config{})
		cfg.Upstreams, cfg.SendTimeout, cfg.ReadTimeout = upstreams(b), timeout, time.Minute
		p, addr := startProxy(t, cfg)
		c := open(t, addr, "/push?rate=2000&size=16KiB", dialOpts{rcvbuf: 4096})
		defer c.Close()
		start := time.Now()
		// Not reading: the proxy's socket buffers fill, then its write blocks.
		waitFor(t, "send timeout", func() bool { return p.Counters().Timeouts["send"] == 1 })
		if took := time.Since(start); took < tooEarly {
			t.Errorf("cut off after %v, before the %v send timeout", took, timeout)
		}
		if got := p.Counters().TunnelEnds["send_timeout"]; got != 1 {
			t.Errorf("tunnel ends by send timeout: %d", got)
		}
	})
}

func TestMaxLifetime(t *testing.T) {
	forEachVariant(t, func(t *testing.T, cfg Config) {
		b := startBackend(t, "b1", echo.Config{})
		cfg.Upstreams, cfg.MaxLifetime = upstreams(b), timeout
		p, addr := startProxy(t, cfg)
		c := open(t, addr, fmt.Sprintf("/echo?ping=%v", timeout/10), dialOpts{}) // busy: not idle
		took, closed := c.waitClosed(tooLate)
		if !closed || took < tooEarly {
			t.Fatalf("closed=%v after %v; want closed after the %v lifetime", closed, took, timeout)
		}
		waitFor(t, "lifetime counted", func() bool { return p.Counters().Timeouts["lifetime"] == 1 })
	})
}

// TestShutdownGrace: Shutdown stops accepting at once, lets tunnels run for
// the grace period, then closes them.
func TestShutdownGrace(t *testing.T) {
	b := startBackend(t, "b1", echo.Config{})
	p, addr := startProxy(t, Config{Upstreams: upstreams(b), ShutdownGrace: timeout})
	c := open(t, addr, "/", dialOpts{})
	done := make(chan time.Duration, 1)
	start := time.Now()
	go func() { p.Shutdown(t.Context()); done <- time.Since(start) }()
	waitFor(t, "listener closed", func() bool { return p.isShutting() })
	c.echoes("still relayed during the grace period")
	took, closed := c.waitClosed(tooLate)
	if since := time.Since(start); !closed || since < tooEarly {
		t.Fatalf("closed=%v after %v (%v after Shutdown); want closed at the %v grace", closed, took, since, timeout)
	}
	if d := <-done; d > tooLate {
		t.Errorf("Shutdown took %v", d)
	}
	if got := p.Counters().TunnelEnds["shutdown"]; got != 1 {
		t.Errorf("tunnel ends by shutdown: %d", got)
	}
}

// TestShutdownCutsSlowHandshakes: handshakes still waiting when the grace
// ends (a client that never finishes its head, a backend that never
// answers) do not hold Shutdown up for their own timeouts.
func TestShutdownCutsSlowHandshakes(t *testing.T) {
	p, addr := startProxy(t, Config{Upstreams: []Upstream{{Addr: silent(t)}}, ShutdownGrace: timeout})
	slow := dial(t, addr, dialOpts{})
	slow.Write([]byte("GET / HTTP/1.1\r\n")) // and nothing more
	waiting := dial(t, addr, dialOpts{})
	waiting.Write([]byte(upgradeRequest("/"))) // the backend never answers
	waitFor(t, "both handshakes under way", func() bool { return p.inFlightCount() == 2 })
	start := time.Now()
	p.Shutdown(t.Context())
	if took := time.Since(start); took < tooEarly || took > tooLate {
		t.Errorf("Shutdown took %v with a %v grace", took, timeout)
	}
	if got := p.Counters().Handshakes["shutting_down"]; got != 2 {
		t.Errorf("shutting_down handshakes %d, want 2", got)
	}
}
