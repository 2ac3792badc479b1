package proxy

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/wsbench/wsbench/proxy/balance"
)

// Upstream host names are resolved when the proxy starts, as nginx resolves
// its server names, and only again by the background re-resolve
// (Config.ResolveInterval): a lookup on every backend connection (10–25 ms
// through Docker's DNS) would be measured as the proxy's handshake cost.
// A handshake loads the current pool once and dials its IP addresses.

// resolveTimeout bounds one upstream's lookup.
const resolveTimeout = 10 * time.Second

// pool is the resolved upstreams: one balancer peer per address of each
// upstream, as nginx makes a server of each address a name resolves to. It
// never changes; a re-resolve that finds other addresses stores a new one.
type pool struct {
	group *balance.Group
	// peers are indexed like the group's; after them come retired ones:
	// addresses no longer resolved whose tunnels are still open, so the
	// counters go on adding them up.
	peers []*server
	addrs [][]netip.Addr // by Config.Upstreams index, sorted: what it was built from
}

// server is one address of one upstream (nginx makes a server of each).
type server struct {
	index       int    // in Config.Upstreams
	upstream    string // as configured, e.g. backend-1:9000
	addr        string // what is dialled, e.g. 172.18.0.3:9000
	label       string // for logs: the upstream, and its address when that differs
	open, total atomic.Int64
}

// resolveAll looks up every upstream, for New: a name that does not
// resolve fails the start, as nginx's "host not found in upstream".
func (p *Proxy) resolveAll() ([][]netip.Addr, error) {
	addrs := make([][]netip.Addr, len(p.cfg.Upstreams))
	for i, u := range p.cfg.Upstreams {
		a, err := p.resolve(context.Background(), i)
		if err != nil {
			return nil, fmt.Errorf("proxy: host not found in upstream %q: %w", u.Addr, err)
		}
		addrs[i] = a
	}
	return addrs, nil
}

// resolve returns upstream i's addresses, sorted and without duplicates so
// that an answer in another order is the same answer. An IP literal is
// never looked up.
func (p *Proxy) resolve(ctx context.Context, i int) ([]netip.Addr, error) {
	host, _, _ := net.SplitHostPort(p.cfg.Upstreams[i].Addr) // checked by fill
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	found, err := p.cfg.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	addrs := make([]netip.Addr, 0, len(found))
	for _, a := range found {
		if a.IsValid() {
			addrs = append(addrs, a.Unmap())
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("lookup %s: no addresses", host)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	return slices.Compact(addrs), nil
}

// hasNames reports whether any upstream is a host name, not an IP address.
func (c *Config) hasNames() bool {
	for _, u := range c.Upstreams {
		host, _, _ := net.SplitHostPort(u.Addr)
		if _, err := netip.ParseAddr(host); err != nil {
			return true
		}
	}
	return false
}

// newPool builds the pool for addrs. With old, balancer state and
// counters carry over for every address both have (balance.Group.Renew).
func (p *Proxy) newPool(addrs [][]netip.Addr, old *pool) (*pool, error) {
	type key struct {
		upstream int
		addr     string
	}
	kept := map[key]*server{}
	np := &pool{addrs: addrs}
	var peers []balance.Peer
	if old != nil {
		for _, b := range old.peers {
			kept[key{b.index, b.addr}] = b
		}
	}
	for i, u := range p.cfg.Upstreams {
		_, port, _ := net.SplitHostPort(u.Addr)
		n, _ := strconv.ParseUint(port, 10, 16)
		for _, a := range addrs[i] {
			addr := netip.AddrPortFrom(a, uint16(n)).String()
			b := kept[key{i, addr}]
			if b != nil {
				delete(kept, key{i, addr})
			} else {
				b = &server{index: i, upstream: u.Addr, addr: addr, label: u.Addr}
				if addr != u.Addr {
					b.label = u.Addr + " (" + addr + ")"
				}
			}
			peer := p.cfg.peer(u)
			peer.Addr = addr
			peers = append(peers, peer)
			np.peers = append(np.peers, b)
		}
	}
	var err error
	if old == nil {
		np.group, err = balance.New(p.cfg.Balance, peers)
	} else {
		np.group, err = old.group.Renew(peers)
		for _, b := range old.peers { // addresses gone: listed while their tunnels last
			if kept[key{b.index, b.addr}] == b && b.open.Load() > 0 {
				np.peers = append(np.peers, b)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	return np, nil
}

// reresolve re-resolves the upstreams every ResolveInterval until ctx
// ends.
func (p *Proxy) reresolve(ctx context.Context) {
	defer close(p.resolved)
	t := time.NewTicker(p.cfg.ResolveInterval)
	defer t.Stop()
	failing := make([]bool, len(p.cfg.Upstreams))
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.refresh(ctx, failing)
	}
}

// refresh resolves every upstream once and swaps in a new pool if any
// address changed. An upstream whose lookup fails keeps its addresses; it
// is logged when it starts failing and when it resolves again, not on
// every round.
func (p *Proxy) refresh(ctx context.Context, failing []bool) {
	old := p.pool.Load()
	addrs := make([][]netip.Addr, len(old.addrs))
	for i, u := range p.cfg.Upstreams {
		a, err := p.resolve(ctx, i)
		switch {
		case err != nil && ctx.Err() != nil:
			return // shutting down
		case err != nil:
			if !failing[i] {
				p.log.Warn("proxy: re-resolving upstream failed; keeping its addresses", "upstream", u.Addr,
					"addrs", fmt.Sprint(old.addrs[i]), "err", err)
			}
			failing[i] = true
			a = old.addrs[i]
		case failing[i]:
			failing[i] = false
			p.log.Info("proxy: upstream resolves again", "upstream", u.Addr, "addrs", fmt.Sprint(a))
		}
		addrs[i] = a
	}
	if slices.EqualFunc(addrs, old.addrs, slices.Equal) {
		return // the same pool: balancer state untouched
	}
	np, err := p.newPool(addrs, old)
	if err != nil {
		p.log.Error("proxy: re-resolved upstreams; keeping the old addresses", "err", err)
		return
	}
	p.pool.Store(np)
	for i, u := range p.cfg.Upstreams {
		if !slices.Equal(addrs[i], old.addrs[i]) {
			p.log.Info("proxy: upstream addresses changed", "upstream", u.Addr, "from", fmt.Sprint(old.addrs[i]), "to", fmt.Sprint(addrs[i]))
		}
	}
}
