package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/internal/testenv"
	"github.com/wsbench/wsbench/results"
)

// slowLookup answers every lookup with addrs after delay, as a slow DNS
// server would, and counts the lookups.
func slowLookup(delay time.Duration, addrs ...string) (lookupFunc, *atomic.Int64) {
	n := new(atomic.Int64)
	return func(ctx context.Context, host string) ([]netip.Addr, error) {
		n.Add(1)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		var out []netip.Addr
		for _, a := range addrs {
			out = append(out, netip.MustParseAddr(a))
		}
		return out, nil
	}, n
}

// The target's name is looked up once, before the connect phase, and the
// lookup is timed into dns, not into connect or handshake: with a lookup
// that takes 200 ms, handshakes on loopback stay far below it. With
// resolve-each every attempt looks up again, still timed apart.
func TestResolveTimesTheLookupApart(t *testing.T) {
	const delay = 200 * time.Millisecond
	port := strings.TrimPrefix(startEcho(t, echo.Config{ID: "b1"}), "127.0.0.1:")
	tests := []struct {
		name    string
		each    bool
		resolve string
		dns     int64 // samples
	}{
		{name: "once", resolve: "once", dns: 1},
		{name: "each", each: true, resolve: "each", dns: 5},
	}
	for _, eng := range engines() {
		for _, tt := range tests {
			t.Run(eng+"/"+tt.name, func(t *testing.T) {
				lookup, _ := slowLookup(delay, "127.0.0.1")
				run := mustRun(t, Options{
					URL: "ws://wsbench.test:" + port + "/echo?hello=1", Workload: WorkloadHold, Conns: 5,
					Duration: 100 * time.Millisecond, Engine: eng, ResolveEach: tt.each, lookup: lookup,
				})
				s := run.Summary
				if s.Connections.Opened != 5 {
					t.Fatalf("connections %+v failures %v, want 5 opened", s.Connections, s.Failures)
				}
				dns, hs := s.Histograms[results.MetricDNS], s.Histograms[results.MetricHandshake]
				// The histogram keeps 3 significant digits: a 200,040 µs
				// lookup reads back as its bucket's 199,936.
				if dns.Count != tt.dns || dns.Min < delay.Microseconds()*999/1000 {
					t.Fatalf("dns: %d samples, min %d µs; want %d of at least %d µs", dns.Count, dns.Min, tt.dns, delay.Microseconds())
				}
				if hs.Count != 5 || hs.P50 >= delay.Microseconds() {
					t.Fatalf("handshake: %d samples, p50 %d µs; want 5, below the %v lookup", hs.Count, hs.P50, delay)
				}
				if s.Params["resolve"] != tt.resolve {
					t.Fatalf("params resolve=%q, want %q", s.Params["resolve"], tt.resolve)
				}
				var h echo.Hello
				if len(s.Hellos) == 0 || json.Unmarshal(s.Hellos[0], &h) != nil || h.Host != "wsbench.test:"+port {
					t.Fatalf("hellos %s: want the URL's host in the Host header", s.Hellos)
				}
				noted := strings.Contains(strings.Join(s.Notes, "\n"), "resolved wsbench.test once, before the connect phase, to 127.0.0.1")
				if noted == tt.each {
					t.Fatalf("notes %q: the resolved addresses are noted with resolve-once only", s.Notes)
				}
			})
		}
	}
}

// Connections spread round-robin over the addresses a name resolves to;
// an address nothing listens on is passed over, and tried last after it
// failed once.
func TestResolveSpreadsOverAddresses(t *testing.T) {
	if runtime.GOOS != "linux" {
		testenv.Need(t, errors.New("127.0.0.0/8 aliases are a Linux loopback feature"))
	}
	port := echoPair(t)
	tests := []struct {
		name     string
		addrs    []string
		backends map[string]int64
	}{
		{name: "two addresses", addrs: []string{"127.0.0.1", "127.0.0.2"}, backends: map[string]int64{"a": 3, "b": 3}},
		{name: "one refuses", addrs: []string{"127.0.0.3", "127.0.0.1"}, backends: map[string]int64{"a": 6}},
	}
	for _, eng := range engines() {
		for _, tt := range tests {
			t.Run(eng+"/"+tt.name, func(t *testing.T) {
				lookup, _ := slowLookup(0, tt.addrs...)
				run := mustRun(t, Options{
					URL: "ws://wsbench.test:" + port + "/echo", Workload: WorkloadHold, Conns: 6,
					Duration: 100 * time.Millisecond, Engine: eng, lookup: lookup,
				})
				s := run.Summary
				if s.Connections.Opened != 6 || len(s.Failures) != 0 {
					t.Fatalf("connections %+v failures %v, want 6 opened", s.Connections, s.Failures)
				}
				if len(s.Backends) != len(tt.backends) {
					t.Fatalf("backends %v, want %v", s.Backends, tt.backends)
				}
				for b, n := range tt.backends {
					if s.Backends[b] != n {
						t.Fatalf("backends %v, want %v", s.Backends, tt.backends)
					}
				}
			})
		}
	}
}

// echoPair starts echo backend "a" on 127.0.0.1 and "b" on 127.0.0.2, on
// one port, and returns the port.
func echoPair(t *testing.T) string {
	t.Helper()
	for try := 0; try < 20; try++ {
		a, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(a.Addr().(*net.TCPAddr).Port)
		b, err := net.Listen("tcp", "127.0.0.2:"+port)
		if err != nil { // the port is taken on 127.0.0.2: pick another
			a.Close()
			continue
		}
		for _, s := range []struct {
			ln net.Listener
			id string
		}{{a, "a"}, {b, "b"}} {
			srv := echo.New(echo.Config{ID: s.id})
			go srv.Serve(s.ln)
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				srv.Shutdown(ctx)
			})
		}
		return port
	}
	t.Fatal("no port free on both 127.0.0.1 and 127.0.0.2")
	return ""
}

// A name that does not resolve: resolve-once fails the run, naming the
// host; resolve-each counts every attempt as a dns failure (timed as dns,
// never as a handshake).
func TestResolveFailure(t *testing.T) {
	notFound := func(ctx context.Context, host string) ([]netip.Addr, error) {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	empty := func(ctx context.Context, host string) ([]netip.Addr, error) { return nil, nil }
	tests := []struct {
		name   string
		lookup lookupFunc
	}{
		{"not found", notFound},
		{"no addresses", empty},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/once", func(t *testing.T) {
			_, err := Run(context.Background(), Options{URL: "ws://wsbench.test:9/echo", Workload: WorkloadHold,
				Conns: 3, Duration: 100 * time.Millisecond, lookup: tt.lookup}, Progress{})
			if err == nil || !strings.HasPrefix(err.Error(), "loadgen: resolving wsbench.test: ") {
				t.Fatalf("error %v, want loadgen: resolving wsbench.test: …", err)
			}
		})
		t.Run(tt.name+"/each", func(t *testing.T) {
			run := mustRun(t, Options{URL: "ws://wsbench.test:9/echo", Workload: WorkloadHold,
				Conns: 3, Duration: 100 * time.Millisecond, ResolveEach: true, lookup: tt.lookup})
			s := run.Summary
			if s.Failures[causeDNS] != 3 || s.Connections.Failed != 3 {
				t.Fatalf("failures %v connections %+v, want 3 × dns", s.Failures, s.Connections)
			}
			if s.Histograms[results.MetricDNS].Count != 3 || s.Histograms[results.MetricHandshakeFail].Count != 0 {
				t.Fatalf("histograms %v: want 3 dns samples and no handshake_fail", s.Histograms)
			}
		})
	}
}

// An IP address needs no lookup: no dns sample, no note.
func TestResolveIPLiteral(t *testing.T) {
	addr := startEcho(t, echo.Config{})
	lookup, n := slowLookup(0, "127.0.0.1")
	run := mustRun(t, Options{URL: "ws://" + addr + "/echo", Workload: WorkloadHold, Conns: 2,
		Duration: 100 * time.Millisecond, ResolveEach: true, lookup: lookup})
	if s := run.Summary; s.Connections.Opened != 2 || n.Load() != 0 || s.Histograms[results.MetricDNS].Count != 0 {
		t.Fatalf("opened %d, lookups %d, dns %+v: an IP address needs no lookup", s.Connections.Opened, n.Load(), s.Histograms[results.MetricDNS])
	}
}
