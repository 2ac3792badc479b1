//go:build unix && !linux

package sysio

import "golang.org/x/sys/unix"

// Recv reads from a non-blocking socket once, again after EINTR; it
// returns 0, nil at end of stream. (Linux has a raw recvfrom.)
func Recv(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// Send writes to a non-blocking socket once, again after EINTR.
func Send(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Write(fd, p)
		if err != unix.EINTR {
			return n, err
		}
	}
}
