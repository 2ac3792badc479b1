//go:build unix && !linux

package relay

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// resetArrived reports whether c's peer has reset it. Without TCP_INFO it
// peeks, which takes the pending ECONNRESET: the relay's write then meets
// a closed socket (EPIPE) rather than the reset, a write failure all the same.
func resetArrived(t *testing.T, c *net.TCPConn) bool {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var rerr error
	var buf [1]byte
	rc.Control(func(fd uintptr) { _, _, rerr = unix.Recvfrom(int(fd), buf[:], unix.MSG_PEEK|unix.MSG_DONTWAIT) })
	return rerr == unix.ECONNRESET
}
