// Package relay moves bytes both ways between an upgraded client connection
// and its backend connection, for many tunnels at once, with nginx's
// timeouts.
//
// After the proxy has answered the handshake, it hands both connections to
// Start together with the bytes it has already read ahead on either side
// (the backend's 101, and a first frame the client sent in the same packet
// as its request); those are written first. From then on the Relay owns
// the connections and calls Tunnel.Done once, with the byte counts and why
// the tunnel ended:
//
//	r, _ := relay.New(relay.Config{ReadTimeout: 60 * time.Second})
//	r.Start(relay.Tunnel{Client: c, Backend: b, ToClient: resp, ToBackend: ahead,
//		Done: func(res relay.Result) { log.Println(res.End, res.Up, res.Down) }})
//
// # Zero copy, and nothing held while idle
//
// Bulk moves with splice(2) through a pipe; small messages, for which two
// splices cost more than recv and send, go through a BufferSize buffer
// (Config.Copy copies everything that way, like nginx with its
// proxy_buffer_size).
// Pipes and buffers are borrowed from small pools only while a chunk is in
// flight: an idle tunnel holds neither. With the Epoll engine (Linux's
// default) it holds no goroutine either: Start duplicates both sockets'
// descriptors and closes the net.Conns, so Go's netpoller forgets them, and
// a poller (one per 4 CPUs) relays inline for all its tunnels from one epoll
// instance. An idle tunnel is then its two sockets and a struct of a few
// hundred bytes.
//
// A poller never blocks a thread in epoll_wait: its epoll descriptor is
// itself registered with Go's netpoller, and the poller goroutine parks
// there until some socket is ready. Its reads, writes and splices are raw
// system calls on non-blocking sockets. Both keep the runtime out of the
// way: a blocking epoll_wait made the scheduler hand the thread's P off
// and back on every wait, and sysmon spin at 20 µs, which cost more CPU
// than the relaying. If the file limit leaves no descriptor to duplicate into, the tunnel
// is relayed by the Goroutines engine instead (two goroutines parked in Go's
// netpoller, also borrowing pipes and buffers only while bytes move), and
// the Relay logs that once.
//
// # Timeouts
//
// Named and defined like nginx's for upgraded connections:
//   - ReadTimeout: no bytes read for this long ends the tunnel. Mode Either
//     (the default, "nginx") counts bytes from either side, as nginx's
//     upgraded handler re-arms proxy_read_timeout on every event; Mode
//     Upstream counts only the backend's.
//   - SendTimeout: a write that makes no progress for this long (the peer
//     stopped reading and its window is full) ends the tunnel, and the
//     stalled peer is reset (SO_LINGER 0, like nginx with
//     reset_timedout_connection on): a FIN would queue behind the bytes it
//     never read. While a write is blocked, the send timeout alone judges
//     the tunnel.
//   - MaxLifetime: an absolute limit, like Caddy's stream_timeout.
//
// They hold on the splice path and the copy path alike, because both move
// bounded chunks through the same loop: a chunk never waits in a blocking
// call, and one timer per tunnel (a heap entry, re-checked lazily: activity
// only stores a timestamp) covers all three. A poller wakes for the first
// of them on a timerfd in its epoll set, to the microsecond; a Go timer
// (a deadline on the epoll file) would wake up to 1 ms late.
//
// A half-close is passed on (shutdown(SHUT_WR) on the other side); the
// tunnel ends when both sides have finished sending, or at the first error
// in either direction.
package relay
