package sysio

import "golang.org/x/sys/unix"

// Waker wakes an event loop from other goroutines: an eventfd in the
// loop's epoll set, readable from a Wake until the loop's Clear. Wakes
// before a Clear coalesce into one event.
type Waker struct{ fd int }

// NewWaker opens the eventfd (non-blocking, close-on-exec).
func NewWaker() (Waker, error) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return Waker{fd: -1}, err
	}
	return Waker{fd: fd}, nil
}

// Fd is the descriptor to watch for EPOLLIN.
func (w Waker) Fd() int { return w.fd }

// Wake makes the descriptor readable. Safe from any goroutine.
func (w Waker) Wake() { counterWrite(w.fd, 1) }

// Clear consumes the wakes so far; the loop calls it when the descriptor
// was reported readable, before it looks at what it was woken for.
func (w Waker) Clear() { counterRead(w.fd) }

// Close closes the descriptor.
func (w Waker) Close() error { return unix.Close(w.fd) }
