package echo_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/frame"
	"github.com/wsbench/wsbench/wire"
)

// A backend on a loopback port, and one client round trip written by hand.
func ExampleServer() {
	srv := echo.New(echo.Config{ID: "backend-1"})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	nc, _ := net.Dial("tcp", ln.Addr().String())
	defer nc.Close()
	fmt.Fprint(nc, "GET /echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(nc)
	resp, _ := http.ReadResponse(br, nil)
	fmt.Println(resp.Status, "from", resp.Header.Get(wire.BackendHeader))

	// Clients mask their frames; the server's come back unmasked.
	nc.Write(frame.AppendFrame(nil, ws.OpText, []byte("hello"), &[4]byte{1, 2, 3, 4}))
	buf := make([]byte, 64)
	n, _ := br.Read(buf)
	var d frame.Decoder
	msg, _, _ := d.Decode(buf[:n])
	fmt.Printf("%v %q\n", msg.Op == ws.OpText, msg.Payload)
	// Output:
	// 101 Switching Protocols from backend-1
	// true "hello"
}

// Every /push message starts with its send time and sequence number; the
// receiver's clock minus the send time is the one-way latency.
func ExampleParsePushHeader() {
	msg := make([]byte, 64) // one /push?size=64 message
	sent := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	wire.PutPushHeader(msg, sent.UnixNano(), 41)

	ns, seq, ok := wire.ParsePushHeader(msg)
	received := sent.Add(350 * time.Microsecond)
	fmt.Println(ok, seq, received.Sub(time.Unix(0, ns)))
	// Output: true 41 350µs
}
