package tcptest

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestServeClosesAtCleanup: a handler waiting on its connection ends when
// the test does, and the client sees the connection close.
func TestServeClosesAtCleanup(t *testing.T) {
	var c net.Conn
	started, handled := make(chan struct{}), make(chan struct{})
	t.Run("server", func(t *testing.T) {
		addr := Serve(t, func(c net.Conn) {
			close(started)
			io.Copy(io.Discard, c)
			close(handled)
		})
		var err error
		if c, err = net.Dial("tcp", addr); err != nil {
			t.Fatal(err)
		}
		<-started
	})
	defer c.Close()
	select {
	case <-handled:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler was still running after the test ended")
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("client read after cleanup: %v, want EOF", err)
	}
}
