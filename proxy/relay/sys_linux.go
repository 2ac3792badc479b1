package relay

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The relay's system calls on its non-blocking descriptors never block, so
// they skip the runtime's syscall bookkeeping (entersyscall wakes sysmon,
// which then polls every 20 µs: a tenth of the proxy's CPU at 10k
// messages/s). A raw call that runs long (a big splice) only delays
// preemption of this goroutine by as long as it runs.

// errnoErr returns e as an error without allocating.
func errnoErr(e syscall.Errno) error {
	if e == unix.EAGAIN {
		return unix.EAGAIN
	}
	return e
}

// sysRead is recvfrom(2): on a socket it skips read(2)'s file-position
// bookkeeping.
func sysRead(fd int, p []byte) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), 0, 0, 0)
	for e == unix.EINTR {
		n, _, e = unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), 0, 0, 0)
	}
	if e != 0 {
		return -1, errnoErr(e)
	}
	return int(n), nil
}

// sysWrite is sendto(2) with MSG_NOSIGNAL: a peer that reset gets EPIPE
// without a SIGPIPE for the runtime to field.
func sysWrite(fd int, p []byte) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), unix.MSG_NOSIGNAL, 0, 0)
	for e == unix.EINTR {
		n, _, e = unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), unix.MSG_NOSIGNAL, 0, 0)
	}
	if e != 0 {
		return -1, errnoErr(e)
	}
	return int(n), nil
}

func rawSplice(in, out, n int) (int, error) {
	w, _, e := unix.RawSyscall6(unix.SYS_SPLICE, uintptr(in), 0, uintptr(out), 0, uintptr(n), spliceFlags)
	for e == unix.EINTR {
		w, _, e = unix.RawSyscall6(unix.SYS_SPLICE, uintptr(in), 0, uintptr(out), 0, uintptr(n), spliceFlags)
	}
	if e != 0 {
		return -1, errnoErr(e)
	}
	return int(w), nil
}

// rawEpollPoll is epoll_wait with a zero timeout: it never blocks.
func rawEpollPoll(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(unsafe.SliceData(events))), uintptr(len(events)), 0, 0, 0)
	for e == unix.EINTR {
		n, _, e = unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(unsafe.SliceData(events))), uintptr(len(events)), 0, 0, 0)
	}
	if e != 0 {
		return -1, errnoErr(e)
	}
	return int(n), nil
}

// resetOnClose makes closing fd send RST instead of FIN (SO_LINGER 0), as
// nginx's reset_timedout_connection does for a peer that stopped reading:
// a FIN would queue behind the bytes it never read, so it would never learn
// the tunnel ended, and the socket would hold that memory in FIN-WAIT-1.
func resetOnClose(fd int) {
	unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}
