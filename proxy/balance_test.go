package proxy

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/proxy/balance"
)

// Balancing through the proxy, observed as a client does: by the backend
// id in the 101's X-Wsbench-Backend header.

func backends(t *testing.T, n int) []*backend {
	bs := make([]*backend, n)
	for i := range bs {
		bs[i] = startBackend(t, string(rune('a'+i)), echo.Config{})
	}
	return bs
}

// reached opens and closes n connections one after the other and spells
// the backends they reached.
func reached(t *testing.T, addr string, n int, o func(i int) dialOpts) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		c := open(t, addr, "/", o(i))
		b.WriteString(c.backend())
		c.Close()
	}
	return b.String()
}

func plain(int) dialOpts { return dialOpts{} }

func TestRoundRobinWeightsOrder(t *testing.T) {
	bs := backends(t, 3)
	us := upstreams(bs...)
	us[0].Weight = 5
	_, addr := startProxy(t, Config{Upstreams: us})
	if got := reached(t, addr, 14, plain); got != "aabacaaaabacaa" {
		t.Errorf("order %s, want nginx's smooth aabacaa twice", got)
	}
}

func TestIPHashOneSlash24OneBackend(t *testing.T) {
	bs := backends(t, 3)
	_, addr := startProxy(t, Config{Upstreams: upstreams(bs...), Balance: balance.IPHash})
	// Loopback is a /8 on Linux: 127.0.N.x are real, distinct source
	// addresses in distinct /24s.
	seen := map[string]bool{}
	for n := 1; n <= 12; n++ {
		got := reached(t, addr, 5, func(i int) dialOpts { return dialOpts{local: fmt.Sprintf("127.0.%d.%d", n, 10+i*40)} })
		if strings.Count(got, got[:1]) != len(got) {
			t.Fatalf("clients of 127.0.%d.0/24 reached %s, want one backend", n, got)
		}
		seen[got[:1]] = true
	}
	if len(seen) < 2 {
		t.Errorf("12 networks all reached %v; want them spread", seen)
	}
}

func TestLeastConnFewestTunnels(t *testing.T) {
	bs := backends(t, 3)
	p, addr := startProxy(t, Config{Upstreams: upstreams(bs...), Balance: balance.LeastConn})
	held := map[string][]*client{}
	hold := func() string {
		c := open(t, addr, "/", dialOpts{})
		held[c.backend()] = append(held[c.backend()], c)
		return c.backend()
	}
	for i := 0; i < 6; i++ { // ties go round robin: two each
		hold()
	}
	for _, id := range []string{"a", "b", "c"} {
		if len(held[id]) != 2 {
			t.Fatalf("six tunnels spread %v, want two per backend", len(held[id]))
		}
	}
	held["b"][0].Close()
	held["b"][1].Close()
	held["b"] = nil
	waitFor(t, "the proxy to see b's tunnels end", func() bool { return p.Counters().Backends[1].Conns == 0 })
	if got := hold() + hold(); got != "bb" {
		t.Errorf("after b's tunnels closed, new ones went to %s, want b twice", got)
	}
}

func TestRandom2AvoidsTheBusiest(t *testing.T) {
	bs := backends(t, 2)
	_, addr := startProxy(t, Config{Upstreams: upstreams(bs...), Balance: balance.Random2})
	count := map[string]int{}
	for i := 0; i < 10; i++ { // held: with two backends both are always drawn
		count[open(t, addr, "/", dialOpts{}).backend()]++
	}
	if count["a"] != 5 || count["b"] != 5 {
		t.Errorf("held tunnels %v, want 5 and 5", count)
	}
}

func TestHashStickyAndConsistent(t *testing.T) {
	bs := backends(t, 4)
	cfg := Config{Balance: balance.Hash, HashKey: "header:X-Room"}
	cfg.Upstreams = upstreams(bs[:3]...)
	_, three := startProxy(t, cfg)
	cfg.Upstreams = upstreams(bs...)
	_, four := startProxy(t, cfg)
	room := func(i int) dialOpts { return dialOpts{headers: []string{fmt.Sprintf("X-Room: r%d", i)}} }
	const keys = 120
	first := reached(t, three, keys, room)
	if again := reached(t, three, keys, room); again != first {
		t.Fatalf("the same rooms reached other backends:\n%s\n%s", first, again)
	}
	after := reached(t, four, keys, room)
	moved := 0
	for i := range first {
		if first[i] != after[i] {
			moved++
			if after[i] != 'd' {
				t.Errorf("room r%d moved from %c to %c, not to the new backend", i, first[i], after[i])
			}
		}
	}
	if limit := keys * 3 / 2 / 4; moved == 0 || moved > limit {
		t.Errorf("adding a fourth backend moved %d of %d rooms, want 1 to %d (1.5/N)", moved, keys, limit)
	}
}

// TestFailoverOutAndBack: a dead backend costs one failed connect, is taken
// out for fail_timeout (clients never wait on it meanwhile), and is used
// again once it is back.
func TestFailoverOutAndBack(t *testing.T) {
	live := startBackend(t, "live", echo.Config{})
	dead := deadAddr(t)
	const failTimeout = 500 * time.Millisecond
	p, addr := startProxy(t, Config{
		Upstreams:   []Upstream{{Addr: dead}, {Addr: live.addr}},
		FailTimeout: failTimeout,
	})
	if got := reached(t, addr, 6, plain); got != "livelivelivelivelivelive" {
		t.Fatalf("with one backend dead: %s, want every client on the live one", got)
	}
	st := p.Counters().Backends[0]
	if !st.Down || st.Fails != 1 {
		t.Fatalf("dead backend %+v: want one failure (max_fails 1) and out", st)
	}
	ln, err := net.Listen("tcp", dead)
	if err != nil {
		t.Fatalf("cannot listen on the freed port again: %v", err)
	}
	serveBackend(t, ln, "back", echo.Config{})
	waitFor(t, "fail_timeout to bring the dead backend back", func() bool { return !p.Counters().Backends[0].Down })
	if got := reached(t, addr, 4, plain); !strings.Contains(got, "back") {
		t.Errorf("after fail_timeout: %s, want the revived backend used again", got)
	}
	if st := p.Counters().Backends[0]; st.Down || st.Fails != 0 {
		t.Errorf("revived backend %+v: want up with its failures forgiven", st)
	}
}
