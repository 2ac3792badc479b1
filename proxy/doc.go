// Package proxy is wsbench's reference WebSocket reverse proxy: the yardstick
// nginx and others are measured against. It exposes the knobs users tune in
// nginx, named and defined like nginx's, so a scenario can run the same
// settings on both and compare.
//
//	p, err := proxy.New(proxy.Config{
//		Upstreams: []proxy.Upstream{{Addr: "10.0.0.1:9000"}, {Addr: "10.0.0.2:9000", Weight: 2}},
//		Balance:   balance.LeastConn,
//	})
//	ln, _ := net.Listen("tcp", ":8080")
//	go p.Serve(ln)
//	...
//	p.Shutdown(ctx) // stop accepting; tunnels get ShutdownGrace, then are closed
//
// # A connection's life
//
// The client's request head is read within HeaderTimeout (slowloris: 408)
// and MaxHeaderBytes (431). It must parse (400) and pass MaxConns and
// MaxConnsPerIP (503, like nginx's limit_conn). Then it must be a WebSocket
// upgrade: plain HTTP gets 426 and never reaches a backend; a bad key 400, a
// method other than GET 405, another version 426 with Sec-WebSocket-Version:
// 13. An Origin outside AllowedOrigins gets 403.
//
// The upstreams' host names are resolved in New, as nginx resolves its
// server names at start (a name that does not resolve fails New), and each
// address becomes a server of its own. Config.ResolveInterval re-resolves
// them in the background; a handshake never waits for a lookup.
//
// The balancer (package balance) picks a backend. The request goes to it over
// HTTP/1.1 as nginx's map idiom sends it: hop-by-hop headers dropped,
// "Upgrade: websocket" and "Connection: Upgrade" set, X-Forwarded-For
// appended to, X-Real-IP and X-Forwarded-Proto set, Host kept (see
// Config.Host). Connect errors, ConnectTimeout, a ReadTimeout waiting for the
// answer, and the statuses in NextUpstream count as failures for passive
// health (MaxFails within FailTimeout take a backend out) and move on to the
// next backend; when none is left the client gets 502, or 504 if the last
// one timed out.
//
// A 101 that switches to websocket starts the tunnel (package relay): the backend's answer and any bytes
// either side sent behind its head are written first, then bytes are
// spliced both ways until both sides close, an error, ReadTimeout with no
// bytes (either way, or only from the backend with ReadTimeoutMode
// "upstream"), SendTimeout on a blocked write, or MaxLifetime. Any other
// answer goes back to the client as the backend wrote it, and both
// connections close; a 101 to another protocol is a 502. No byte the
// client sent after its head reaches a backend before the backend agreed.
//
// # File descriptors
//
// An idle tunnel holds exactly two descriptors (its sockets). When the
// process runs out (EMFILE), accept and backend dials log "too many open
// files (limit N)" at most once a second and the client gets 503: a
// descriptor is kept in reserve so even clients the accept failed on are
// answered, every one queued at once, and the accept loop waits for the
// next client or a backoff instead of spinning. It holds no client while
// it waits, so the first one after the limit clears is served.
//
// # Introspection
//
// Counters (and AdminHandler, which serves them as JSON) report tunnels open
// per backend, handshakes by outcome, bytes each way, timeouts by kind and
// tunnel ends by reason; AdminHandler adds the process's resident memory,
// open descriptors and goroutines, which `wsbench run` samples once a
// second to show whether a long run grows. Every failed handshake is logged once through
// Config.Logger with its outcome, status, reason and backend.
package proxy
