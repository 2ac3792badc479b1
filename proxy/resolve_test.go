package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/internal/syncbuf"
)

// fakeResolver answers lookups with answer(ctx, n) for the n-th call (from
// 1) and counts them.
type fakeResolver struct {
	mu     sync.Mutex
	n      int
	answer func(ctx context.Context, n int) ([]netip.Addr, error)
}

func (r *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	r.n++
	n := r.n
	r.mu.Unlock()
	return r.answer(ctx, n)
}

func (r *fakeResolver) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

// TestNoLookupOnHandshake: an upstream name whose resolver answers slowly
// after the first call does not slow handshakes, because the first call
// (in New) is the only one.
func TestNoLookupOnHandshake(t *testing.T) {
	const slow = 300 * time.Millisecond
	b := startBackend(t, "b1", echo.Config{})
	_, port, _ := net.SplitHostPort(b.addr)
	r := &fakeResolver{answer: func(ctx context.Context, n int) ([]netip.Addr, error) {
		if n > 1 {
			select {
			case <-time.After(slow):
			case <-ctx.Done():
			}
		}
		return addrs("127.0.0.1"), nil
	}}
	p, addr := startProxy(t, Config{Upstreams: []Upstream{{Addr: "backend.test:" + port}}, Resolver: r})
	for i := 0; i < 20; i++ {
		start := time.Now()
		c := open(t, addr, "/", dialOpts{})
		if took := time.Since(start); took >= slow {
			t.Errorf("handshake %d took %v: as long as a lookup", i, took)
		}
		c.Close()
	}
	if n := r.calls(); n != 1 {
		t.Errorf("resolver called %d times, want once (in New)", n)
	}
	if bs := p.Counters().Backends; len(bs) != 1 || bs[0].Upstream != "backend.test:"+port || bs[0].Addr != b.addr || bs[0].TunnelsTotal != 20 {
		t.Errorf("backends %+v, want backend.test:%s at %s with 20 tunnels", bs, port, b.addr)
	}
}

// samePort listens on 127.0.0.1 and 127.0.0.2 on one port, so one upstream
// name can resolve to either.
func samePort(t *testing.T) (net.Listener, net.Listener, string) {
	for try := 0; try < 20; try++ {
		ln1, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(ln1.Addr().String())
		ln2, err := net.Listen("tcp", "127.0.0.2:"+port)
		if err == nil {
			return ln1, ln2, port
		}
		ln1.Close()
	}
	t.Fatal("no port free on both 127.0.0.1 and 127.0.0.2")
	return nil, nil, ""
}

// switchable is a resolver whose answer the test changes.
type switchable struct {
	fakeResolver
	mu   sync.Mutex
	addr []netip.Addr
	err  error
}

func newSwitchable(a ...string) *switchable {
	s := &switchable{addr: addrs(a...)}
	s.answer = func(context.Context, int) ([]netip.Addr, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.addr, s.err
	}
	return s
}

func (s *switchable) set(err error, a ...string) {
	s.mu.Lock()
	s.addr, s.err = addrs(a...), err
	s.mu.Unlock()
}

// TestReresolve: the background re-resolve picks up a changed address,
// keeps the balancer when the answer is the same (in any order), keeps the
// old addresses when a lookup fails, and says so once.
func TestReresolve(t *testing.T) {
	ln1, ln2, port := samePort(t)
	serveBackend(t, ln1, "one", echo.Config{})
	serveBackend(t, ln2, "two", echo.Config{})
	name := "backend.test:" + port
	r := newSwitchable("127.0.0.1")
	var log syncbuf.Buffer
	p, addr := startProxy(t, Config{Upstreams: []Upstream{{Addr: name}}, Resolver: r, ResolveInterval: 10 * time.Millisecond,
		Balance: "least_conn", Logger: slog.New(slog.NewTextHandler(&log, nil))})
	rounds := func(n int) { // waits for n more lookups and the round after them
		want := r.calls() + n + 1
		waitFor(t, strconv.Itoa(n)+" re-resolves", func() bool { return r.calls() >= want })
	}

	held := open(t, addr, "/", dialOpts{})
	if held.backend() != "one" {
		t.Fatalf("first tunnel on %q, want one", held.backend())
	}
	first := p.pool.Load()
	rounds(3)
	if p.pool.Load() != first {
		t.Error("the same answer again built a new pool: balancer state lost")
	}

	r.set(nil, "127.0.0.2")
	waitFor(t, "the new address to be used", func() bool {
		c := open(t, addr, "/", dialOpts{})
		defer c.Close()
		return c.backend() == "two"
	})
	bs := p.Counters().Backends
	if len(bs) != 2 || bs[0].Addr != "127.0.0.2:"+port || bs[0].Upstream != name || bs[0].Gone ||
		bs[1].Addr != "127.0.0.1:"+port || !bs[1].Gone || bs[1].TunnelsOpen != 1 {
		t.Errorf("backends %+v, want 127.0.0.2 live and 127.0.0.1 gone with its one tunnel", bs)
	}
	held.echoes("still relayed after its address went away")
	held.Close()
	waitFor(t, "the gone address to leave the counters", func() bool { return len(p.Counters().Backends) == 1 })

	r.set(nil, "127.0.0.2", "127.0.0.1")
	waitFor(t, "two addresses", func() bool { return len(p.Counters().Backends) == 2 })
	both := p.pool.Load()
	r.set(nil, "127.0.0.1", "127.0.0.2") // the same set, in another order
	rounds(3)
	if p.pool.Load() != both {
		t.Error("the same addresses in another order built a new pool")
	}

	r.set(errors.New("server misbehaving"))
	rounds(3)
	if p.pool.Load() != both {
		t.Error("a failed lookup changed the addresses")
	}
	open(t, addr, "/", dialOpts{}).echoes("the old addresses still work")
	r.set(nil, "127.0.0.1", "127.0.0.2")
	waitFor(t, "the recovery to be logged", func() bool { return strings.Contains(log.String(), "upstream resolves again") })
	if n := strings.Count(log.String(), "re-resolving upstream failed"); n != 1 {
		t.Errorf("the failing lookup logged %d times, want once:\n%s", n, log.String())
	}
}

func TestResolveAtStart(t *testing.T) {
	tests := []struct {
		name    string
		answer  []netip.Addr
		err     error
		wantErr string
		backend []string // Addr of each Counters.Backends
	}{
		{"not found", nil, &net.DNSError{Err: "no such host", Name: "nope.test", IsNotFound: true}, `proxy: host not found in upstream "nope.test:9000": lookup nope.test`, nil},
		{"empty answer", []netip.Addr{}, nil, "no addresses", nil},
		{"two addresses, two servers", addrs("192.0.2.2", "192.0.2.1", "192.0.2.2"), nil, "", []string{"192.0.2.1:9000", "192.0.2.2:9000"}},
		{"IPv6", addrs("2001:db8::1"), nil, "", []string{"[2001:db8::1]:9000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeResolver{answer: func(context.Context, int) ([]netip.Addr, error) { return tt.answer, tt.err }}
			p, err := New(Config{Upstreams: []Upstream{{Addr: "nope.test:9000", Weight: 3}}, Resolver: r})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New: %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer p.Shutdown(context.Background())
			var got []string
			for _, b := range p.Counters().Backends {
				got = append(got, b.Addr)
				if b.Upstream != "nope.test:9000" {
					t.Errorf("backend %s names upstream %q", b.Addr, b.Upstream)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.backend, " ") {
				t.Errorf("backends %v, want %v", got, tt.backend)
			}
		})
	}
	// IP literals are never looked up.
	r := &fakeResolver{answer: func(context.Context, int) ([]netip.Addr, error) { return nil, errors.New("looked up") }}
	p, err := New(Config{Upstreams: []Upstream{{Addr: "127.0.0.1:9"}, {Addr: "[::1]:9"}}, Resolver: r, ResolveInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p.Shutdown(context.Background())
	if r.calls() != 0 {
		t.Errorf("resolver called %d times for IP addresses", r.calls())
	}
}
