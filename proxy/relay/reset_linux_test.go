package relay

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// tcpClose is TCP_CLOSE (include/net/tcp_states.h): where a reset leaves a
// socket.
const tcpClose = 7

// resetArrived reports whether c's peer has reset it. It reads the TCP
// state (TCP_INFO), which, unlike the pending error (SO_ERROR, or a read),
// looking at does not clear, so the relay still meets the reset.
func resetArrived(t *testing.T, c *net.TCPConn) bool {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var info *unix.TCPInfo
	rc.Control(func(fd uintptr) { info, err = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) })
	if err != nil {
		t.Fatal(err)
	}
	return info.State == tcpClose
}
