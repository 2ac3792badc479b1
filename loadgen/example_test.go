package loadgen_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/loadgen"
)

// An rtt run against an echo backend on loopback: 4 connections, 200
// messages a second for half a second.
func Example() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := echo.New(echo.Config{ID: "b1"})
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	run, err := loadgen.Run(context.Background(), loadgen.Options{
		URL:      "ws://" + ln.Addr().String() + "/echo",
		Workload: loadgen.WorkloadRTT,
		Conns:    4,
		Rate:     200,
		Duration: 500 * time.Millisecond,
	}, loadgen.Progress{})
	if err != nil {
		panic(err)
	}
	s := run.Summary
	fmt.Println("opened:", s.Connections.Opened, "on", s.Backends)
	fmt.Println("every message answered:", s.Messages.Received == s.Messages.Sent && s.Messages.Sent > 0)
	fmt.Println("response times recorded:", s.Histograms["rtt"].Count == s.Messages.Received)
	// Output:
	// opened: 4 on map[b1:4]
	// every message answered: true
	// response times recorded: true
}

// Options as command-line flags, as the harness hands them to a
// load-generator process; zero options are left out.
func ExampleOptions_Flags() {
	o := loadgen.Options{URL: "ws://proxy:8080/echo", Workload: loadgen.WorkloadHold, Conns: 1000, PingInterval: 20 * time.Second}
	fmt.Println(o.Flags())
	// Output: [--url ws://proxy:8080/echo --workload hold --conns 1000 --ping-interval 20s]
}
