package proxy_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/proxy"
	"github.com/wsbench/wsbench/proxy/balance"
	"github.com/wsbench/wsbench/wire"
)

// A proxy in front of an echo backend, both on loopback; a client learns
// which backend it reached from the 101's X-Wsbench-Backend header.
func Example() {
	bl, _ := net.Listen("tcp", "127.0.0.1:0")
	backend := echo.New(echo.Config{ID: "backend-1"})
	go backend.Serve(bl)
	defer backend.Shutdown(context.Background())

	p, err := proxy.New(proxy.Config{
		Upstreams:     []proxy.Upstream{{Addr: bl.Addr().String()}},
		Balance:       balance.LeastConn,
		ReadTimeout:   30 * time.Second, // nginx proxy_read_timeout
		ShutdownGrace: time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	pl, _ := net.Listen("tcp", "127.0.0.1:0")
	go p.Serve(pl)
	defer p.Shutdown(context.Background())

	d := ws.Dialer{OnHeader: func(key, value []byte) error {
		if string(key) == wire.BackendHeader {
			fmt.Println("backend:", string(value))
		}
		return nil
	}}
	conn, _, _, err := d.Dial(context.Background(), "ws://"+pl.Addr().String()+"/echo")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	wsutil.WriteClientText(conn, []byte("hello"))
	msg, _ := wsutil.ReadServerText(conn)
	fmt.Println("echo:", string(msg))
	fmt.Println("tunnels open:", p.Counters().TunnelsOpen)
	// Output:
	// backend: backend-1
	// echo: hello
	// tunnels open: 1
}

// Upstream servers read nginx's server syntax.
func ExampleParseUpstream() {
	u, _ := proxy.ParseUpstream("10.0.0.2:9000,weight=3,max_fails=2,fail_timeout=30s")
	fmt.Printf("%s weight %d, out after %d failures for %v\n", u.Addr, u.Weight, u.MaxFails, u.FailTimeout)
	// Output: 10.0.0.2:9000 weight 3, out after 2 failures for 30s
}
