package upgrade_test

import (
	"fmt"
	"strings"

	"github.com/wsbench/wsbench/proxy/upgrade"
)

// A proxy parses the client's head, checks it is a usable upgrade, and
// rewrites it for the backend.
func Example() {
	head := []byte("GET /chat HTTP/1.1\r\n" +
		"Host: example.com\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"X-Forwarded-For: 10.1.1.1\r\n" +
		"\r\n")
	req, err := upgrade.ParseRequest(head[:upgrade.HeadEnd(head, 0)])
	if err != nil {
		fmt.Println(err)
		return
	}
	if e := upgrade.Check(&req); e != nil {
		fmt.Println(e.Status, e)
		return
	}
	out := upgrade.AppendForward(nil, &req, upgrade.Forward{ClientIP: "203.0.113.7", Proto: "http"})
	fmt.Print(strings.ReplaceAll(string(out), "\r\n", "\n"))
	// Output:
	// GET /chat HTTP/1.1
	// Host: example.com
	// Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
	// Sec-WebSocket-Version: 13
	// Upgrade: websocket
	// Connection: Upgrade
	// X-Forwarded-For: 10.1.1.1, 203.0.113.7
	// X-Real-IP: 203.0.113.7
	// X-Forwarded-Proto: http
}

// A plain HTTP request gets 426 and the headers that say what to do instead.
func ExampleCheck() {
	head := []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
	req, _ := upgrade.ParseRequest(head)
	e := upgrade.Check(&req)
	fmt.Println(e.Status, e.Header)
	// Output:
	// 426 [Upgrade: websocket Sec-WebSocket-Version: 13]
}
