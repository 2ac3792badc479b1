package sysio

import (
	"encoding/binary"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Recv, Send, Splice and EpollPoll are for non-blocking descriptors: they
// never block, so they skip the runtime's syscall bookkeeping
// (entersyscall wakes sysmon, which then polls every 20 µs: a tenth of the
// proxy's CPU at 10k messages/s). A raw call that runs long (a big splice)
// only delays preemption of its goroutine by as long as it runs. Each
// retries EINTR itself, and returns unix.EAGAIN as that very value, so
// err == unix.EAGAIN holds.
//
// The EINTR loop is written out in each on purpose: a pointer converted to
// uintptr stays valid only inside the syscall call expression itself
// (unsafe.Pointer rule 4); passed through a shared helper, a buffer on a
// goroutine stack that grows meanwhile would be read at its old address.

// errnoErr returns e as an error without allocating.
func errnoErr(e syscall.Errno) error {
	if e == unix.EAGAIN {
		return unix.EAGAIN
	}
	return e
}

// Recv reads from a socket once: recvfrom(2), which skips read(2)'s
// file-position bookkeeping. It returns 0, nil at end of stream.
func Recv(fd int, p []byte) (int, error) {
	for {
		n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), 0, 0, 0)
		switch e {
		case 0:
			return int(n), nil
		case unix.EINTR:
		default:
			return -1, errnoErr(e)
		}
	}
}

// Send writes to a socket once: sendto(2) with MSG_NOSIGNAL, so a peer that
// reset gets EPIPE without a SIGPIPE for the runtime to field.
func Send(fd int, p []byte) (int, error) {
	for {
		n, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), unix.MSG_NOSIGNAL, 0, 0)
		switch e {
		case 0:
			return int(n), nil
		case unix.EINTR:
		default:
			return -1, errnoErr(e)
		}
	}
}

// Splice moves up to n bytes from in to out, one of them a pipe, without
// copying them through user space (SPLICE_F_MOVE | SPLICE_F_NONBLOCK).
func Splice(in, out, n int) (int, error) {
	for {
		w, _, e := unix.RawSyscall6(unix.SYS_SPLICE, uintptr(in), 0, uintptr(out), 0, uintptr(n), unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
		switch e {
		case 0:
			return int(w), nil
		case unix.EINTR:
		default:
			return -1, errnoErr(e)
		}
	}
}

// EpollPoll takes the ready events of epfd without waiting (epoll_wait
// with a zero timeout).
func EpollPoll(epfd int, events []unix.EpollEvent) (int, error) {
	for {
		n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(unsafe.SliceData(events))), uintptr(len(events)), 0, 0, 0)
		switch e {
		case 0:
			return int(n), nil
		case unix.EINTR:
		default:
			return -1, errnoErr(e)
		}
	}
}

// counterRead and counterWrite move the 8-byte counter of an eventfd or a
// timerfd, raw like Recv and Send: the descriptors are non-blocking.
func counterRead(fd int) {
	var buf [8]byte
	for {
		_, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), 8)
		if e != unix.EINTR {
			return // EAGAIN: nothing to read
		}
	}
}

func counterWrite(fd int, v uint64) {
	var buf [8]byte
	binary.NativeEndian.PutUint64(buf[:], v)
	for {
		_, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), 8)
		if e != unix.EINTR {
			return // EAGAIN: the counter is saturated, which wakes as well
		}
	}
}

// EpollWait waits up to timeoutNS nanoseconds (≥ 0) for events on epfd,
// blocking its thread, with epoll_pwait2's nanosecond timeout; on kernels
// older than 5.11 it waits with epoll_wait, the timeout rounded up to
// whole milliseconds. After EINTR it waits again, for the whole timeout.
func EpollWait(epfd int, events []unix.EpollEvent, timeoutNS int64) (int, error) {
	for {
		var n int
		var err error
		if hasPwait2() {
			ts := unix.NsecToTimespec(timeoutNS)
			r, _, e := unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(epfd), uintptr(unsafe.Pointer(unsafe.SliceData(events))),
				uintptr(len(events)), uintptr(unsafe.Pointer(&ts)), 0, 0)
			n = int(r)
			if e != 0 {
				err = errnoErr(e)
			}
		} else {
			n, err = unix.EpollWait(epfd, events, int((timeoutNS+999_999)/1_000_000))
		}
		if err != unix.EINTR {
			return n, err
		}
	}
}

// hasPwait2 reports whether the kernel has epoll_pwait2 (Linux 5.11). It
// asks once, for every loop at once: with no events to return, the call
// fails at once with EINVAL where it exists, with ENOSYS where it does not,
// and with EPERM under a seccomp profile that predates it (Docker's
// default answers unknown calls so).
var hasPwait2 = sync.OnceValue(func() bool {
	_, _, e := unix.Syscall6(unix.SYS_EPOLL_PWAIT2, ^uintptr(0), 0, 0, 0, 0, 0)
	return e != unix.ENOSYS && e != unix.EPERM
})
