package sysio

import (
	"os"
	"time"
)

// Waiter sleeps a goroutine on a timerfd read through Go's netpoller, so
// it wakes within microseconds of the deadline, not up to a millisecond
// after it (see Timer). The zero Waiter is ready: it opens its timerfd at
// the first Sleep and holds it until Close. One goroutine uses it at a
// time.
type Waiter struct {
	f   *os.File // the timerfd, read through the netpoller; nil: not opened yet
	fd  int      // f's descriptor (f.Fd would make it blocking)
	buf [8]byte  // the expiry count read from it
}

// Sleep waits for d. Without a timerfd (the process is out of descriptors)
// it falls back to time.Sleep.
func (w *Waiter) Sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	if w.f == nil {
		fd, err := newTimerFD()
		if err != nil {
			time.Sleep(d)
			return
		}
		w.f, w.fd = os.NewFile(uintptr(fd), "timerfd"), fd
	}
	if err := arm(w.fd, d); err != nil {
		time.Sleep(d)
		return
	}
	if _, err := w.f.Read(w.buf[:]); err != nil {
		time.Sleep(d)
	}
}

// Close releases the timerfd, if one was opened; the Waiter can be used
// again afterwards.
func (w *Waiter) Close() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}
