// Command fakewsbench stands in for the wsbench binary in the stack
// package's tests: a small WebSocket echo server, a client that writes a
// result directory, and processes that crash or hang, so that the stack's
// lifecycle is tested with real sockets and real containers without
// depending on the echo and loadgen subcommands' flags.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "fakewsbench: want serve|loadgen|crash|hang|version")
		os.Exit(2)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "serve":
		serve(args)
	case "loadgen":
		loadgen(args)
	case "crash":
		fmt.Fprintln(os.Stderr, "fakewsbench: crashing on purpose")
		os.Exit(3)
	case "hang":
		fmt.Println("fakewsbench: hanging")
		for {
			time.Sleep(time.Hour)
		}
	case "version":
		fmt.Println("fakewsbench test binary")
	default:
		fmt.Fprintf(os.Stderr, "fakewsbench: unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
}

// serve answers WebSocket upgrades with an echo (naming itself in the
// X-Wsbench-Backend header) and plain requests with "hello from ID".
func serve(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	listen := fs.String("listen", ":9000", "address")
	id := fs.String("id", "backend", "backend id")
	fs.Parse(args)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakewsbench:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	hdr := http.Header{"X-Wsbench-Backend": {*id}}
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			fmt.Fprintf(w, "hello from %s\n", *id)
			return
		}
		conn, _, _, err := ws.HTTPUpgrader{Header: hdr}.Upgrade(r, w)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			msg, op, err := wsutil.ReadClientData(conn)
			if err != nil {
				return
			}
			if err := wsutil.WriteServerMessage(conn, op, msg); err != nil {
				return
			}
		}
	}))
}

// result is what a fake loadgen writes to OUT/summary.json.
type result struct {
	URL      string `json:"url"`
	Backend  string `json:"backend"`
	Messages int    `json:"messages"`
	StartAt  int64  `json:"start_at"`
}

func loadgen(args []string) {
	fs := flag.NewFlagSet("loadgen", flag.ExitOnError)
	url := fs.String("url", "", "ws:// URL")
	out := fs.String("out", "", "result dir")
	n := fs.Int("messages", 10, "messages to echo")
	startAt := fs.Int64("start-at", 0, "unix ms")
	fs.Parse(args)
	if d := time.Until(time.UnixMilli(*startAt)); *startAt > 0 && d > 0 {
		time.Sleep(d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := result{URL: *url, StartAt: *startAt}
	d := ws.Dialer{OnHeader: func(k, v []byte) error {
		if http.CanonicalHeaderKey(string(k)) == "X-Wsbench-Backend" {
			res.Backend = string(v)
		}
		return nil
	}}
	conn, _, _, err := d.Dial(ctx, *url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakewsbench: dial:", err)
		os.Exit(1)
	}
	for i := range *n {
		msg := fmt.Appendf(nil, "message %d", i)
		if err := wsutil.WriteClientText(conn, msg); err != nil {
			fmt.Fprintln(os.Stderr, "fakewsbench: write:", err)
			os.Exit(1)
		}
		got, err := wsutil.ReadServerText(conn)
		if err != nil || string(got) != string(msg) {
			fmt.Fprintf(os.Stderr, "fakewsbench: echo %q, %v; want %q\n", got, err, msg)
			os.Exit(1)
		}
		res.Messages++
	}
	conn.Close()
	if err := os.MkdirAll(filepath.Join(*out, "sub"), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "fakewsbench:", err)
		os.Exit(1)
	}
	b, _ := json.Marshal(res)
	os.WriteFile(filepath.Join(*out, "summary.json"), b, 0o644)
	os.WriteFile(filepath.Join(*out, "sub", "note.txt"), []byte("nested\n"), 0o644)
	fmt.Printf("fakewsbench: %d messages via %s\n", res.Messages, res.Backend)
}
