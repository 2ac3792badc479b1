// Package balance chooses an upstream server for each new WebSocket
// connection, with nginx's algorithms and nginx's passive health checks, so a
// scenario can run the same upstream block on nginx and on wsbench's proxy
// and expect the same spread.
//
// A Group holds the peers. Each handshake calls Pick, tries the peer, and
// reports the outcome; a tunnel holds its pick until it ends:
//
//	g, _ := balance.New(balance.LeastConn, peers)
//	tried := make([]bool, g.Len())
//	for {
//		i, ok := g.Pick(balance.Request{ClientIP: ip}, tried, time.Now())
//		if !ok { /* 502: no live upstream */ }
//		tried[i] = true
//		if err := dial(g.Addr(i)); err != nil {
//			g.Fail(i, time.Now()); g.Release(i); continue
//		}
//		g.Succeed(i)
//		// ... relay; when the tunnel ends: g.Release(i)
//	}
//
// Methods (nginx semantics): round_robin is smooth weighted round robin
// (weights 5,1,1 pick a a b a c a a); least_conn counts every connection
// from pick to release, so a long-lived tunnel weighs on its peer for its
// whole life; ip_hash hashes the first three octets of an IPv4 client (one
// /24 always lands on one peer) and all of an IPv6 one; hash places 160
// points per weight unit on a ring, so adding a peer moves about 1/N of the
// keys, all of them to the new peer; random2 draws two peers by weight and
// keeps the less loaded.
//
// Passive health: MaxFails failures within FailTimeout take a peer out for
// FailTimeout; then it gets one trial, and failing it takes it out again.
// A group of one peer never takes it out.
package balance
