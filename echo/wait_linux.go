package echo

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// waiter holds a connection's ?delay replies until they are due. Go's
// timers can fire up to a millisecond late: when the runtime blocks in
// epoll_wait it waits in whole milliseconds, rounding a shorter wait up to
// 1 ms (runtime/netpoll_epoll.go). That lateness would be added to every
// delayed reply and read as part of the delay a calibration injects. A
// timerfd in the netpoller fires on the kernel's high-resolution clock
// instead: its expiry is an I/O event, which ends the wait at once.
type waiter struct {
	f   *os.File // the timerfd, read through the netpoller; nil: not opened yet
	fd  int      // f's descriptor (f.Fd would make it blocking)
	buf [8]byte  // the expiry count read from it
}

// sleep waits for d; it falls back to time.Sleep without a timerfd (the
// process is out of file descriptors).
func (w *waiter) sleep(d time.Duration) {
	if w.f == nil {
		fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
		if err != nil {
			time.Sleep(d)
			return
		}
		w.f, w.fd = os.NewFile(uintptr(fd), "timerfd"), fd
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(d.Nanoseconds())}
	if err := unix.TimerfdSettime(w.fd, 0, &spec, nil); err != nil {
		time.Sleep(d)
		return
	}
	if _, err := w.f.Read(w.buf[:]); err != nil {
		time.Sleep(d)
	}
}

func (w *waiter) close() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}
