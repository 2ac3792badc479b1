package balance

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"
)

// Method is a balancing algorithm, named as in nginx.
type Method string

// The balancing methods.
const (
	RoundRobin Method = "round_robin" // smooth weighted round robin (nginx default)
	LeastConn  Method = "least_conn"  // fewest open connections per weight
	IPHash     Method = "ip_hash"     // first three octets of IPv4, whole IPv6
	Hash       Method = "hash"        // consistent ring over a request key
	Random2    Method = "random2"     // two random peers, the one with fewer connections
)

// Methods lists every Method, for help texts and validation.
var Methods = []Method{RoundRobin, LeastConn, IPHash, Hash, Random2}

// ParseMethod returns the Method called s.
func ParseMethod(s string) (Method, error) {
	for _, m := range Methods {
		if string(m) == s {
			return m, nil
		}
	}
	names := make([]string, len(Methods))
	for i, m := range Methods {
		names[i] = string(m)
	}
	return "", fmt.Errorf("balance: unknown method %q: want one of %s", s, strings.Join(names, ", "))
}

// Peer is one upstream server as configured.
type Peer struct {
	Addr   string
	Weight int // ≥ 1
	// MaxFails failed attempts within FailTimeout take the peer out for
	// FailTimeout (nginx max_fails / fail_timeout). 0 never takes it out.
	MaxFails    int
	FailTimeout time.Duration
}

// Request is what a pick may depend on.
type Request struct {
	ClientIP netip.Addr // ip_hash
	Key      string     // hash; empty falls back to round robin, as in nginx
}

// Group is a set of peers and the method that picks among them. It is safe
// for concurrent use: picks happen once per handshake, so one mutex is
// cheaper than anything cleverer. A Group never changes its peers; Renew
// makes the next one when they change.
type Group struct {
	method Method
	mu     *sync.Mutex // shared with the Groups Renew made from this one
	peers  []*peer     // state shared likewise, for peers both have
	total  int         // sum of weights
	ring   []ringPoint // Hash only
}

type peer struct {
	Peer
	current   int // smooth weighted round robin state
	conns     int // picked and not yet released
	fails     int
	lastFail  time.Time
	downUntil time.Time
}

// New returns a Group over peers.
func New(method Method, peers []Peer) (*Group, error) {
	return build(method, peers, &sync.Mutex{}, nil)
}

// Renew returns a Group over peers with g's method, for when the addresses
// behind the upstreams changed. A peer configured exactly as one of g's
// (same Addr, Weight, MaxFails, FailTimeout) keeps its state: connection
// count, failures, place in the round robin. The two Groups share that
// state and one lock, so a Release on g of a connection picked before the
// change still counts where least_conn and random2 look.
func (g *Group) Renew(peers []Peer) (*Group, error) {
	kept := make(map[Peer]*peer, len(g.peers))
	for _, p := range g.peers {
		kept[p.Peer] = p
	}
	return build(g.method, peers, g.mu, kept)
}

func build(method Method, peers []Peer, mu *sync.Mutex, kept map[Peer]*peer) (*Group, error) {
	if _, err := ParseMethod(string(method)); err != nil {
		return nil, err
	}
	if len(peers) == 0 {
		return nil, fmt.Errorf("balance: no peers: want at least one upstream")
	}
	g := &Group{method: method, mu: mu, peers: make([]*peer, len(peers))}
	for i, p := range peers {
		switch {
		case p.Addr == "":
			return nil, fmt.Errorf("balance: peer %d has no address", i)
		case p.Weight < 1:
			return nil, fmt.Errorf("balance: peer %s: weight %d: want at least 1", p.Addr, p.Weight)
		case p.MaxFails < 0:
			return nil, fmt.Errorf("balance: peer %s: max_fails %d: want 0 or more", p.Addr, p.MaxFails)
		case p.MaxFails > 0 && p.FailTimeout <= 0:
			return nil, fmt.Errorf("balance: peer %s: fail_timeout %v: want more than 0 with max_fails %d", p.Addr, p.FailTimeout, p.MaxFails)
		}
		if g.peers[i] = kept[p]; g.peers[i] != nil {
			delete(kept, p) // a peer listed twice is two peers
		} else {
			g.peers[i] = &peer{Peer: p}
		}
		g.total += p.Weight
	}
	if method == Hash {
		g.ring = buildRing(peers)
	}
	return g, nil
}

// Len is the number of peers.
func (g *Group) Len() int { return len(g.peers) }

// Addr is peer i's address.
func (g *Group) Addr(i int) string { return g.peers[i].Addr }

// Pick chooses a live peer that tried does not mark (tried is indexed like
// the peers and may be nil), counts a connection on it, and returns its
// index. ok is false when no peer is left: all tried or out after failures.
// Every successful Pick must be matched by one Release.
func (g *Group) Pick(req Request, tried []bool, now time.Time) (i int, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	live := func(i int) bool { return (tried == nil || !tried[i]) && g.up(i, now) }
	switch {
	case g.method == LeastConn:
		i = g.leastConn(live)
	case g.method == IPHash && req.ClientIP.IsValid():
		i = g.ipHash(req.ClientIP, live)
	case g.method == Hash && req.Key != "":
		i = g.hashPick(req.Key, live)
	case g.method == Random2:
		i = g.random2(live)
	default:
		i = g.roundRobin(live)
	}
	if i < 0 {
		return -1, false
	}
	g.peers[i].conns++
	return i, true
}

// Release ends the connection a Pick counted on peer i.
func (g *Group) Release(i int) {
	g.mu.Lock()
	g.peers[i].conns--
	g.mu.Unlock()
}

// up reports whether peer i may be picked: not out after failures. As in
// nginx, a group of one peer never takes it out: there is nothing to fail
// over to, and refusing every client would only make an outage longer.
func (g *Group) up(i int, now time.Time) bool {
	p := g.peers[i]
	return len(g.peers) == 1 || p.MaxFails == 0 || !now.Before(p.downUntil)
}

// roundRobin is nginx's smooth weighted round robin: every live peer gains
// its weight, the richest is picked and pays the total. Weights 5,1,1 give
// a a b a c a a.
func (g *Group) roundRobin(live func(int) bool) int {
	best, total := -1, 0
	for i := range g.peers {
		if !live(i) {
			continue
		}
		p := g.peers[i]
		p.current += p.Weight
		total += p.Weight
		if best < 0 || p.current > g.peers[best].current {
			best = i
		}
	}
	if best >= 0 {
		g.peers[best].current -= total
	}
	return best
}

// leastConn picks the live peer with the fewest connections per weight;
// ties go round robin among the tied, as nginx does.
func (g *Group) leastConn(live func(int) bool) int {
	best, tied := -1, false
	for i := range g.peers {
		if !live(i) {
			continue
		}
		switch c := g.cmpLoad(i, best); {
		case best < 0 || c < 0:
			best, tied = i, false
		case c == 0:
			tied = true
		}
	}
	if !tied {
		return best
	}
	b := best
	return g.roundRobin(func(i int) bool { return live(i) && g.cmpLoad(i, b) == 0 })
}

// cmpLoad compares the connections per weight of peers i and j.
func (g *Group) cmpLoad(i, j int) int {
	if j < 0 {
		return -1
	}
	a := g.peers[i].conns * g.peers[j].Weight
	b := g.peers[j].conns * g.peers[i].Weight
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ipHash is nginx's ip_hash: the first three octets of an IPv4 address (so
// a /24 sticks to one peer), all sixteen of IPv6, hashed into the weights.
// A dead or tried peer rehashes, and after 20 tries round robin decides.
func (g *Group) ipHash(ip netip.Addr, live func(int) bool) int {
	ip = ip.Unmap()
	addr := ip.AsSlice()
	if ip.Is4() {
		addr = addr[:3]
	}
	hash := 89
	for tries := 0; tries < 20; tries++ {
		for _, b := range addr {
			hash = (hash*113 + int(b)) % 6271
		}
		if i := g.byWeight(hash % g.total); live(i) {
			return i
		}
	}
	return g.roundRobin(live)
}

// byWeight maps w in [0, total) onto the peer whose weight span holds it.
func (g *Group) byWeight(w int) int {
	i := 0
	for w >= g.peers[i].Weight {
		w -= g.peers[i].Weight
		i++
	}
	return i
}

// random2 picks two distinct live peers at random, weighted, and keeps the
// one with fewer connections per weight (nginx "random two least_conn").
func (g *Group) random2(live func(int) bool) int {
	total := 0
	for i := range g.peers {
		if live(i) {
			total += g.peers[i].Weight
		}
	}
	if total == 0 {
		return -1
	}
	a := g.randomLive(live, -1, total)
	if total == g.peers[a].Weight {
		return a
	}
	b := g.randomLive(live, a, total-g.peers[a].Weight)
	if g.cmpLoad(b, a) < 0 {
		return b
	}
	return a
}

// randomLive picks a live peer other than skip with probability
// proportional to its weight; total is the live weight without skip.
func (g *Group) randomLive(live func(int) bool, skip, total int) int {
	w := rand.IntN(total)
	last := -1
	for i := range g.peers {
		if i == skip || !live(i) {
			continue
		}
		last = i
		if w < g.peers[i].Weight {
			return i
		}
		w -= g.peers[i].Weight
	}
	return last
}

// Fail records a failed attempt on peer i (connect error or timeout, or a
// status listed for the next upstream). max_fails of them within
// fail_timeout take it out for fail_timeout. A peer that fails its first
// attempt after coming back goes out again at once, as nginx's does.
func (g *Group) Fail(i int, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.peers[i]
	if p.MaxFails == 0 {
		return
	}
	if p.fails < p.MaxFails && now.Sub(p.lastFail) > p.FailTimeout {
		p.fails = 0 // the earlier failures are outside the window
	}
	p.fails++
	p.lastFail = now
	if p.fails >= p.MaxFails {
		p.downUntil = now.Add(p.FailTimeout)
	}
}

// Succeed records a successful attempt on peer i, which forgives its
// failures.
func (g *Group) Succeed(i int) {
	g.mu.Lock()
	g.peers[i].fails = 0
	g.mu.Unlock()
}

// PeerStats is one peer's state, for introspection.
type PeerStats struct {
	Addr  string `json:"addr"`
	Conns int    `json:"conns"` // picked and not released: handshakes and tunnels
	Fails int    `json:"fails"`
	Down  bool   `json:"down"` // out after failures until fail_timeout passes
}

// Stats returns every peer's state at now.
func (g *Group) Stats(now time.Time) []PeerStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]PeerStats, len(g.peers))
	for i, p := range g.peers {
		out[i] = PeerStats{Addr: p.Addr, Conns: p.conns, Fails: p.fails, Down: !g.up(i, now)}
	}
	return out
}

// ringPoint is one virtual node of a peer on the hash ring.
type ringPoint struct {
	hash uint64
	peer int
}

// pointsPerWeight virtual nodes per unit of weight, as nginx's ketama-style
// ring uses, keep the spread within a few percent.
const pointsPerWeight = 160

func buildRing(peers []Peer) []ringPoint {
	var ring []ringPoint
	for i, p := range peers {
		for j := 0; j < pointsPerWeight*p.Weight; j++ {
			ring = append(ring, ringPoint{hash64(fmt.Sprintf("%s-%d", p.Addr, j)), i})
		}
	}
	sort.Slice(ring, func(a, b int) bool { return ring[a].hash < ring[b].hash })
	return ring
}

// hashPick walks the ring clockwise from the key's point to the first live
// peer, so a key moves only when its peer goes away or a new peer's point
// lands in front of it.
func (g *Group) hashPick(key string, live func(int) bool) int {
	h := hash64(key)
	start := sort.Search(len(g.ring), func(k int) bool { return g.ring[k].hash >= h })
	for k := 0; k < len(g.ring); k++ {
		if p := g.ring[(start+k)%len(g.ring)].peer; live(p) {
			return p
		}
	}
	return -1
}

// hash64 is FNV-1a with a splitmix64 finish: stable across processes and
// versions (unlike hash/maphash), so every proxy instance agrees on the ring.
func hash64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}
