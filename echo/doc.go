// Package echo is wsbench's WebSocket backend: the server a proxy under test
// forwards to. One Server serves every workload; each connection picks its
// own by path and query, so a load generator (or a scenario) needs no
// backend restart to change what it measures.
//
//	srv := echo.New(echo.Config{ID: "backend-1"})
//	ln, _ := net.Listen("tcp", "127.0.0.1:9000")
//	go srv.Serve(ln)
//	...
//	srv.Shutdown(ctx) // close 1001 to every connection, wait up to Config.Drain
//
// # Workloads
//
// The last path segment chooses the workload, so a proxy that adds a
// prefix (/ws/push) reaches the same one:
//
//	/push   the server sends binary messages of size bytes, rate per second.
//	        Each starts with a 16-byte push header (wire.PutPushHeader): the send
//	        time in Unix nanoseconds, taken right before the write, and a
//	        sequence number counting from 0 on each connection. Messages the
//	        client sends are read and discarded. ?rate=10&size=64 by default.
//	/sink   data messages are read and discarded.
//	other   (/echo, /, anything) every data message is sent back with its
//	        opcode; a fragmented message comes back as one frame.
//
// Query options, valid on every path (anything else is refused with 400,
// so a typo does not silently measure the wrong thing):
//
//	hello=1                 the first server message is a Hello (JSON text):
//	                        backend id, peer address, request URI, Host and
//	                        every other non-handshake request header, to check
//	                        what a proxy forwards (X-Forwarded-For, X-Real-IP…)
//	ping=2s                 server pings on this connection (0 disables;
//	                        overrides Config.PingInterval)
//	close_after=1s          the server starts a close handshake after that
//	close_code=1001         ... with this code (default 1000)
//	stall=200ms             the handler neither reads nor answers for stall,
//	stall_every=1s          once per stall_every of wall-clock time; windows
//	                        start at multiples of stall_every since the Unix
//	                        epoch, so all connections stall in phase
//	delay=2ms               each batch of replies leaves that much after it
//	                        was read: a slow backend (processing is serial,
//	                        so a connection answers at most one batch per
//	                        delay). On Linux the wait is a timerfd (one
//	                        more descriptor per delayed connection), so the
//	                        delay is what it says to within about 0.1 ms,
//	                        where Go's timers can be a millisecond late: it
//	                        is the ground truth of the calibrate scenario
//	rate=5k, size=16KiB     /push only
//
// # Protocol
//
// The whole request head is read and checked before gobwas/ws's Upgrader
// parses it: 431 for a head (request line, header lines and the blank line)
// of more than 16 KiB, exactly; 400 for what RFC 9110 and RFC 9112 refuse
// and the upgrader alone would take (a NUL, bare CR or other control byte
// in a line, whitespace before a colon, a folded line, a second Host); 405
// with "Allow: GET" for another method. Then the upgrader: 400 for a missing
// or invalid Sec-WebSocket-Key or a missing Upgrade or Connection header,
// 426 with "Sec-WebSocket-Version: 13" for another version, 403 for an
// Origin outside Config.AllowedOrigins (a request without Origin, a
// non-browser client, is let through). Every response carries
// wire.BackendHeader. Bytes the client sent right after its request (its first
// frames, in the same packet) are kept: the upgrader's buffered reader would
// otherwise drop them.
//
// Subprotocols: of those the client offers (Sec-WebSocket-Protocol), the
// first that is in Config.Subprotocols (default wire.Subprotocol) is
// selected. permessage-deflate (RFC 7692) is accepted when offered (unless
// Config.NoCompression), with the client's client_no_context_takeover and
// server_no_context_takeover; an offer limiting server_max_window_bits
// below 15 is declined. A compressed message is echoed compressed, an
// uncompressed one as it came; /push messages are never compressed. The
// 101 says what the request offered, in wire.ProtocolsSeenHeader and
// wire.ExtensionsSeenHeader, so a client can tell whether a proxy passed
// its offer on; the hello has the same and what was agreed.
//
// Pings are answered with pongs carrying the same payload; a close is
// answered with the same status code (an empty close with an empty close),
// then the server half-closes TCP and waits briefly for the client's FIN.
// Protocol violations close with the code RFC 6455 prescribes: 1002 for an
// unmasked or malformed frame, 1007 for invalid UTF-8 in a text message,
// 1009 for a message over Config.MaxMessage.
//
// # Cost
//
// The server is built to stay out of the measurement. A connection reads
// every complete frame in its buffer and sends all replies in one write(2);
// steady state allocates nothing per message. An idle connection holds no
// buffer: it waits for readability through syscall.RawConn and borrows a
// pooled buffer only while bytes move (a larger one only while a large
// message is being read), so holding many idle connections costs little
// more than a parked goroutine and a socket.
//
// When the process runs out of file descriptors, Serve logs
// "echo: too many open files (limit N): …" at most once a second and backs
// off instead of spinning or exiting.
package echo
