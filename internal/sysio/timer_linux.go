package sysio

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Go's timers can fire up to a millisecond late: when the runtime blocks
// in epoll_wait it waits in whole milliseconds, rounding a shorter wait up
// to 1 ms (runtime/netpoll_epoll.go). A loop parked in Go's netpoller
// (the relay's pollers) or a goroutine sleeping (the echo backend's
// ?delay) would add that lateness to every hold it times. A timerfd fires
// on the kernel's high-resolution clock instead, and its expiry is an I/O
// event, which ends the netpoller's wait at once.

// Timer is a one-shot timerfd on CLOCK_MONOTONIC for a loop's own epoll
// set: it is readable from its deadline until Clear or the next Arm.
type Timer struct{ fd int }

// NewTimer opens the timerfd (non-blocking, close-on-exec), disarmed.
func NewTimer() (Timer, error) {
	fd, err := newTimerFD()
	return Timer{fd: fd}, err
}

func newTimerFD() (int, error) {
	return unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
}

// Fd is the descriptor to watch for EPOLLIN.
func (t Timer) Fd() int { return t.fd }

// Arm makes the timer fire d from now (at once if d ≤ 0), replacing any
// deadline set before and clearing an expiry not yet read.
func (t Timer) Arm(d time.Duration) error { return arm(t.fd, max(d, 1)) }

// Stop disarms the timer.
func (t Timer) Stop() error { return arm(t.fd, 0) }

// arm sets fd to expire once after d; d = 0 disarms it. The call never
// blocks, so it is made raw, like Recv: an --inject-delay relay arms a
// timer for every chunk.
func arm(fd int, d time.Duration) error {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	for {
		_, _, e := unix.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(fd), 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
		switch e {
		case 0:
			return nil
		case unix.EINTR:
		default:
			return e
		}
	}
}

// Clear consumes an expiry, so the descriptor is no longer readable.
func (t Timer) Clear() { counterRead(t.fd) }

// Close closes the descriptor.
func (t Timer) Close() error { return unix.Close(t.fd) }
