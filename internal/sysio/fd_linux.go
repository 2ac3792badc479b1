package sysio

import (
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// DupFD duplicates c's descriptor (F_DUPFD_CLOEXEC: close-on-exec, and
// non-blocking like the original, whose open file description it shares).
// Closing c afterwards takes the socket out of Go's poller: the duplicate
// is then its only descriptor, which the caller owns and watches with its
// own epoll. c stays open either way, so a caller that needs several
// descriptors can give up and keep using the connections.
func DupFD(c net.Conn) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return -1, fmt.Errorf("sysio: %T has no file descriptor", c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("sysio: descriptor of %T: %w", c, err)
	}
	fd := -1
	var derr error
	if err := rc.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, fmt.Errorf("sysio: descriptor of %T: %w", c, err)
	}
	if derr != nil {
		return -1, derr
	}
	return fd, nil
}
