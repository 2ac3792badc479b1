// Package tcptest starts throwaway TCP servers on 127.0.0.1 for tests: the
// backends that misbehave on purpose (never answer, answer with a fixed
// response, reset), which the real echo backend is not meant to be.
package tcptest

import (
	"net"
	"sync"
	"testing"
)

// Serve listens on 127.0.0.1 and runs handle in a goroutine of its own for
// every connection, closing the connection when handle returns. The
// listener, and every connection still open, close when the test ends, so
// a handle that waits on its connection (io.Copy to io.Discard, say) ends
// then too. It returns the listener's address.
func Serve(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	open := map[net.Conn]struct{}{}
	ended := false
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		ended = true
		for c := range open {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if ended { // accepted as the test ended
				mu.Unlock()
				c.Close()
				return
			}
			open[c] = struct{}{}
			mu.Unlock()
			go func() {
				defer func() {
					mu.Lock()
					delete(open, c)
					mu.Unlock()
					c.Close()
				}()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}
