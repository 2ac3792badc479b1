package proxy

import (
	"sync"

	"golang.org/x/sys/unix"
)

// reserveFD keeps one descriptor open for the moment the process hits its
// file limit: closing it lets accept take the waiting client so it can be
// told 503 instead of hanging in the backlog.
type reserveFD struct {
	mu     sync.Mutex
	fd     int
	ok     bool
	closed bool // by Shutdown: open no more
}

// open opens the reserve unless it is open; at the limit it cannot.
func (r *reserveFD) open() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ok || r.closed {
		return
	}
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	r.fd, r.ok = fd, err == nil
}

// release closes the reserve; false if there was none.
func (r *reserveFD) release() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.ok {
		return false
	}
	unix.Close(r.fd)
	r.ok = false
	return true
}

func (r *reserveFD) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.ok {
		unix.Close(r.fd)
		r.ok = false
	}
}

// held reports whether the reserve is open.
func (r *reserveFD) held() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ok
}

// spareFD reports whether a descriptor can be opened now, beyond the
// reserve: whether the file limit has cleared.
func spareFD() bool {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}
