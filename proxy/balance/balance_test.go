package balance

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func peers(weights ...int) []Peer {
	ps := make([]Peer, len(weights))
	for i, w := range weights {
		ps[i] = Peer{Addr: string(rune('a' + i)), Weight: w, MaxFails: 1, FailTimeout: 10 * time.Second}
	}
	return ps
}

func mustNew(t *testing.T, m Method, ps []Peer) *Group {
	t.Helper()
	g, err := New(m, ps)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// sequence picks n times (releasing each pick) and spells the peers.
func sequence(g *Group, n int, req Request) string {
	var b strings.Builder
	for k := 0; k < n; k++ {
		i, ok := g.Pick(req, nil, t0)
		if !ok {
			b.WriteByte('-')
			continue
		}
		g.Release(i)
		b.WriteString(g.Addr(i))
	}
	return b.String()
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name   string
		method Method
		peers  []Peer
		want   string
	}{
		{"unknown method", "fastest", peers(1), `unknown method "fastest"`},
		{"no peers", RoundRobin, nil, "no peers"},
		{"zero weight", RoundRobin, []Peer{{Addr: "a"}}, "weight 0"},
		{"no address", RoundRobin, []Peer{{Weight: 1}}, "no address"},
		{"negative max_fails", RoundRobin, []Peer{{Addr: "a", Weight: 1, MaxFails: -1}}, "max_fails -1"},
		{"max_fails without timeout", RoundRobin, []Peer{{Addr: "a", Weight: 1, MaxFails: 1}}, "fail_timeout 0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.method, tt.peers)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "balance: ") {
				t.Fatalf("New = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestRoundRobinOrder(t *testing.T) {
	tests := []struct {
		weights []int
		want    string
	}{
		{[]int{1, 1, 1}, "abcabcabc"},
		{[]int{5, 1, 1}, "aabacaa" + "aabacaa"}, // nginx's documented smooth sequence
		{[]int{2, 1}, "abaaba"},
		{[]int{3, 2}, "ababaababa"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.weights), func(t *testing.T) {
			g := mustNew(t, RoundRobin, peers(tt.weights...))
			if got := sequence(g, len(tt.want), Request{}); got != tt.want {
				t.Errorf("order %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRoundRobinSkipsTried(t *testing.T) {
	g := mustNew(t, RoundRobin, peers(1, 1, 1))
	tried := []bool{true, false, true}
	for k := 0; k < 3; k++ {
		if i, ok := g.Pick(Request{}, tried, t0); !ok || i != 1 {
			t.Fatalf("pick %d = %d %v, want the only untried peer 1", k, i, ok)
		}
	}
	if _, ok := g.Pick(Request{}, []bool{true, true, true}, t0); ok {
		t.Fatal("picked a peer although all were tried")
	}
}

func TestLeastConn(t *testing.T) {
	g := mustNew(t, LeastConn, peers(1, 1, 1))
	// Hold connections: a gets 3, b 1, c 2 (picks made on an emptier peer
	// are filled in by hand through tried).
	hold := func(i int) {
		tried := []bool{true, true, true}
		tried[i] = false
		if _, ok := g.Pick(Request{}, tried, t0); !ok {
			t.Fatal("hold: pick failed")
		}
	}
	for _, i := range []int{0, 0, 0, 1, 2, 2} {
		hold(i)
	}
	if i, _ := g.Pick(Request{}, nil, t0); i != 1 {
		t.Fatalf("picked %s, want b (fewest tunnels)", g.Addr(i))
	}
	// Now b and c hold 2 each: ties alternate between them, never a.
	if got := sequence(g, 6, Request{}); strings.Contains(got, "a") || !strings.Contains(got, "b") || !strings.Contains(got, "c") {
		t.Errorf("tied picks %s: want b and c alternating, never a", got)
	}
	g.Release(0)
	g.Release(0)
	if i, _ := g.Pick(Request{}, nil, t0); i != 0 {
		t.Fatalf("after a dropped to 1 tunnel, picked %s, want a", g.Addr(i))
	}
}

func TestLeastConnWeighted(t *testing.T) {
	g := mustNew(t, LeastConn, peers(3, 1))
	// Connections are never released: a (weight 3) should carry 3 for
	// each one b carries.
	count := map[int]int{}
	for k := 0; k < 400; k++ {
		i, _ := g.Pick(Request{}, nil, t0)
		count[i]++
	}
	if count[0] != 300 || count[1] != 100 {
		t.Errorf("held %v, want a 300 and b 100", count)
	}
}

func TestIPHashSlash24(t *testing.T) {
	g := mustNew(t, IPHash, peers(1, 1, 1))
	spread := map[int]int{}
	for net := 0; net < 300; net++ {
		first := -1
		for host := 1; host < 255; host += 17 {
			ip := netip.AddrFrom4([4]byte{10, byte(net / 256), byte(net), byte(host)})
			i, _ := g.Pick(Request{ClientIP: ip}, nil, t0)
			g.Release(i)
			if first < 0 {
				first = i
			} else if i != first {
				t.Fatalf("%v went to %s, others of its /24 to %s", ip, g.Addr(i), g.Addr(first))
			}
		}
		spread[first]++
	}
	for i := 0; i < 3; i++ {
		if spread[i] < 60 {
			t.Errorf("300 networks spread %v: peer %s gets too few", spread, g.Addr(i))
		}
	}
	// An IPv4-mapped IPv6 address is the IPv4 client.
	a, _ := g.Pick(Request{ClientIP: netip.MustParseAddr("192.0.2.1")}, nil, t0)
	b, _ := g.Pick(Request{ClientIP: netip.MustParseAddr("::ffff:192.0.2.200")}, nil, t0)
	if a != b {
		t.Errorf("192.0.2.1 → %s but ::ffff:192.0.2.200 → %s", g.Addr(a), g.Addr(b))
	}
}

func TestIPHashIPv6UsesWholeAddress(t *testing.T) {
	g := mustNew(t, IPHash, peers(1, 1, 1))
	seen := map[int]bool{}
	for host := 0; host < 64; host++ {
		ip := netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", host))
		i, _ := g.Pick(Request{ClientIP: ip}, nil, t0)
		seen[i] = true
	}
	if len(seen) != 3 {
		t.Errorf("64 addresses of one /64 reached %d peers, want all 3 (whole address hashed)", len(seen))
	}
}

func TestIPHashFailsOverAndReturns(t *testing.T) {
	g := mustNew(t, IPHash, peers(1, 1, 1))
	ip := netip.MustParseAddr("198.51.100.4")
	home, _ := g.Pick(Request{ClientIP: ip}, nil, t0)
	g.Fail(home, t0)
	other, ok := g.Pick(Request{ClientIP: ip}, nil, t0)
	if !ok || other == home {
		t.Fatalf("with %s down, picked %d %v", g.Addr(home), other, ok)
	}
	back, _ := g.Pick(Request{ClientIP: ip}, nil, t0.Add(10*time.Second))
	if back != home {
		t.Errorf("after fail_timeout, picked %s, want home %s again", g.Addr(back), g.Addr(home))
	}
}

func ringPeers(n int) []Peer {
	ps := make([]Peer, n)
	for i := range ps {
		ps[i] = Peer{Addr: fmt.Sprintf("10.0.0.%d:9000", i+1), Weight: 1}
	}
	return ps
}

func TestHashRingMovesFewKeys(t *testing.T) {
	const keys = 10000
	for _, n := range []int{2, 3, 4, 8} {
		t.Run(fmt.Sprintf("%d+1", n), func(t *testing.T) {
			before := mustNew(t, Hash, ringPeers(n))
			after := mustNew(t, Hash, ringPeers(n+1))
			moved := 0
			for k := 0; k < keys; k++ {
				req := Request{Key: fmt.Sprintf("user-%d", k)}
				a, _ := before.Pick(req, nil, t0)
				b, _ := after.Pick(req, nil, t0)
				if a != b {
					moved++
					if b != n {
						t.Fatalf("key %s moved from %s to %s, not to the new peer", req.Key, before.Addr(a), after.Addr(b))
					}
				}
			}
			limit := 1.5 / float64(n+1)
			if frac := float64(moved) / keys; frac > limit || frac == 0 {
				t.Errorf("adding a peer moved %.1f%% of keys, want (0, %.1f%%]", 100*frac, 100*limit)
			}
		})
	}
}

func TestHashSpreadAndStickiness(t *testing.T) {
	g := mustNew(t, Hash, ringPeers(4))
	count := make([]int, 4)
	for k := 0; k < 20000; k++ {
		req := Request{Key: fmt.Sprintf("room-%d", k)}
		i, _ := g.Pick(req, nil, t0)
		j, _ := g.Pick(req, nil, t0)
		if i != j {
			t.Fatalf("key %s went to %d then %d", req.Key, i, j)
		}
		count[i]++
	}
	for i, c := range count {
		if math.Abs(float64(c)-5000)/5000 > 0.25 {
			t.Errorf("peer %d holds %d of 20000 keys: %v, want each within 25%% of 5000", i, c, count)
		}
	}
	// An empty key falls back to round robin.
	if got := sequence(g, 4, Request{}); got != "10.0.0.1:900010.0.0.2:900010.0.0.3:900010.0.0.4:9000" {
		t.Errorf("empty-key sequence %s, want round robin", got)
	}
}

func TestHashSkipsDeadPeer(t *testing.T) {
	ps := ringPeers(3)
	for i := range ps {
		ps[i].MaxFails, ps[i].FailTimeout = 1, time.Second
	}
	g := mustNew(t, Hash, ps)
	req := Request{Key: "k"}
	home, _ := g.Pick(req, nil, t0)
	g.Fail(home, t0)
	if i, ok := g.Pick(req, nil, t0); !ok || i == home {
		t.Fatalf("dead home peer picked again: %d %v", i, ok)
	}
	tried := make([]bool, 3)
	tried[home] = true
	next, _ := g.Pick(req, tried, t0.Add(time.Second))
	if next == home {
		t.Fatal("tried peer picked")
	}
}

func TestRandom2PrefersLessLoaded(t *testing.T) {
	g := mustNew(t, Random2, peers(1, 1, 1))
	// Load a with 5 tunnels, b with 2, c with 0 (through tried masks).
	for _, n := range []struct{ i, k int }{{0, 5}, {1, 2}} {
		for k := 0; k < n.k; k++ {
			tried := []bool{true, true, true}
			tried[n.i] = false
			g.Pick(Request{}, tried, t0)
		}
	}
	count := make([]int, 3)
	for k := 0; k < 3000; k++ {
		i, _ := g.Pick(Request{}, nil, t0)
		g.Release(i)
		count[i]++
	}
	// a is the most loaded of any pair it is drawn in: never picked. c wins
	// every pair it is in (2 of 3 pairs).
	if count[0] != 0 || count[2] < 1800 || count[1] < 700 {
		t.Errorf("picks %v: want a never, c about 2/3, b about 1/3", count)
	}
}

func TestPassiveHealth(t *testing.T) {
	ps := peers(1, 1)
	ps[0].MaxFails, ps[0].FailTimeout = 2, 10*time.Second
	g := mustNew(t, RoundRobin, ps)
	up := func(at time.Duration) bool { return !g.Stats(t0.Add(at))[0].Down }

	g.Fail(0, t0)
	if !up(0) {
		t.Fatal("one failure of max_fails=2 took the peer out")
	}
	g.Fail(0, t0.Add(11*time.Second)) // the first failure is outside the window
	if !up(11 * time.Second) {
		t.Fatal("failures 11 s apart with fail_timeout=10s took the peer out")
	}
	g.Fail(0, t0.Add(12*time.Second))
	if up(12*time.Second) || up(21*time.Second) {
		t.Fatal("two failures within fail_timeout left the peer up")
	}
	for k := 0; k < 4; k++ {
		if i, _ := g.Pick(Request{}, nil, t0.Add(15*time.Second)); i != 1 {
			t.Fatal("picked the peer that is out")
		}
	}
	if !up(22 * time.Second) {
		t.Fatal("peer still out after fail_timeout")
	}
	g.Fail(0, t0.Add(23*time.Second)) // failed its trial: out again at once
	if up(23 * time.Second) {
		t.Fatal("a failed trial did not take the peer out again")
	}
	g.Succeed(0)
	g.Fail(0, t0.Add(40*time.Second))
	if !up(40 * time.Second) {
		t.Fatal("a success did not forgive earlier failures")
	}
}

func TestSinglePeerNeverOut(t *testing.T) {
	g := mustNew(t, RoundRobin, peers(1))
	g.Fail(0, t0)
	if i, ok := g.Pick(Request{}, nil, t0); !ok || i != 0 {
		t.Fatal("the only peer was taken out")
	}
}

func TestMaxFailsZeroNeverOut(t *testing.T) {
	ps := peers(1, 1)
	ps[0].MaxFails = 0
	g := mustNew(t, RoundRobin, ps)
	for k := 0; k < 5; k++ {
		g.Fail(0, t0)
	}
	if g.Stats(t0)[0].Down {
		t.Fatal("max_fails=0 peer taken out")
	}
}

func TestAllDown(t *testing.T) {
	for _, m := range Methods {
		t.Run(string(m), func(t *testing.T) {
			g := mustNew(t, m, peers(1, 1))
			g.Fail(0, t0)
			g.Fail(1, t0)
			req := Request{ClientIP: netip.MustParseAddr("192.0.2.1"), Key: "k"}
			if i, ok := g.Pick(req, nil, t0); ok {
				t.Fatalf("picked %d with every peer out", i)
			}
			if _, ok := g.Pick(req, nil, t0.Add(10*time.Second)); !ok {
				t.Fatal("no pick after fail_timeout")
			}
		})
	}
}

func TestConnsCounted(t *testing.T) {
	g := mustNew(t, RoundRobin, peers(1, 1))
	i, _ := g.Pick(Request{}, nil, t0)
	if g.Stats(t0)[i].Conns != 1 {
		t.Fatal("pick not counted")
	}
	g.Release(i)
	if g.Stats(t0)[i].Conns != 0 {
		t.Fatal("release not counted")
	}
}

func BenchmarkPick(b *testing.B) {
	for _, m := range Methods {
		b.Run(string(m), func(b *testing.B) {
			g, _ := New(m, ringPeers(8))
			req := Request{ClientIP: netip.MustParseAddr("192.0.2.1"), Key: "user-42"}
			b.ReportAllocs()
			for b.Loop() {
				i, _ := g.Pick(req, nil, t0)
				g.Release(i)
			}
		})
	}
}

// TestRenew: a Group renewed over a changed set keeps the state of the
// peers it shares with the old one (connections, failures), and a Release
// on the old Group of a connection picked before the change counts in the
// new one.
func TestRenew(t *testing.T) {
	tests := []struct {
		name   string
		method Method
	}{
		{"least_conn", LeastConn},
		{"round_robin", RoundRobin},
		{"hash", Hash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := mustNew(t, tt.method, peers(1, 1)) // a, b
			i, _ := old.Pick(Request{}, []bool{false, true}, t0)
			if old.Addr(i) != "a" {
				t.Fatalf("picked %s, want a", old.Addr(i))
			}
			old.Fail(1, t0) // b out
			ps := peers(1, 1, 1)[1:]
			ps[1].Addr = "c" // b and c: b kept, a gone, c new
			g, err := old.Renew(ps)
			if err != nil {
				t.Fatal(err)
			}
			if st := g.Stats(t0); st[0].Addr != "b" || !st[0].Down || st[0].Fails != 1 || st[1].Addr != "c" || st[1].Down {
				t.Errorf("renewed stats %+v, want b still out after its failure, c fresh", st)
			}
			j, _ := g.Pick(Request{}, nil, t0)
			if g.Addr(j) != "c" {
				t.Errorf("picked %s with b out, want c", g.Addr(j))
			}
			old.Release(i) // a's connection, picked before the change
			g.Release(j)
			if st := g.Stats(t0); st[0].Conns != 0 || st[1].Conns != 0 {
				t.Errorf("conns after the releases %+v, want 0", st)
			}
		})
	}
	// A kept peer's connection released on the old Group counts in the new.
	old := mustNew(t, LeastConn, peers(1, 1))
	i, _ := old.Pick(Request{}, []bool{true, false}, t0) // b
	g, err := old.Renew(peers(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if st := g.Stats(t0); st[1].Conns != 1 {
		t.Fatalf("b's conns in the renewed group %d, want 1", st[1].Conns)
	}
	old.Release(i)
	if st := g.Stats(t0); st[1].Conns != 0 {
		t.Errorf("b's conns after release on the old group %d, want 0", st[1].Conns)
	}
}
