package sysio

import (
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tcpPair is a connected pair of loopback TCP connections.
func tcpPair(t *testing.T) (a, b *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// A taken descriptor carries the connection on after the net.Conn closes;
// a connection without one is refused with its type named.
func TestDupFD(t *testing.T) {
	t.Run("socket", func(t *testing.T) {
		a, b := tcpPair(t)
		fd, err := DupFD(a)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		a.Close()
		if n, err := Send(fd, []byte("ping")); n != 4 || err != nil {
			t.Fatalf("Send on the taken descriptor: %d, %v", n, err)
		}
		buf := make([]byte, 4)
		b.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(b, buf); err != nil || string(buf) != "ping" {
			t.Fatalf("peer read %q, %v; want ping", buf, err)
		}
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC == 0 {
			t.Errorf("descriptor flags %#x, %v: want close-on-exec", fl, err)
		}
	})
	t.Run("no descriptor", func(t *testing.T) {
		p, q := net.Pipe()
		defer p.Close()
		defer q.Close()
		if fd, err := DupFD(p); err == nil || fd != -1 || !strings.Contains(err.Error(), "net.pipe") {
			t.Errorf("DupFD(net.Pipe) = %d, %v; want -1 and an error naming *net.pipe", fd, err)
		}
	})
}

func TestRecvSend(t *testing.T) {
	a, b := tcpPair(t)
	fd, err := DupFD(a)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	a.Close()
	buf := make([]byte, 16)
	tests := []struct {
		name    string
		peer    func() // what the other end does first
		wantN   int
		wantErr error
	}{
		{"nothing there: EAGAIN itself", func() {}, -1, unix.EAGAIN},
		{"data", func() { b.Write([]byte("hello")) }, 5, nil},
		{"end of stream", func() { b.CloseWrite() }, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.peer()
			var n int
			var err error
			// Loopback delivery is not instantaneous: poll until the read
			// sees what the peer did (or, for EAGAIN, read once).
			for end := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
				n, err = Recv(fd, buf)
				if tt.wantErr != nil || err != unix.EAGAIN || time.Now().After(end) {
					break
				}
			}
			if n != tt.wantN || err != tt.wantErr {
				t.Errorf("Recv = %d, %v; want %d, %v", n, err, tt.wantN, tt.wantErr)
			}
		})
	}
}

// epollWith is an epoll set watching fds for input, each with its own
// fd as the event's data.
func epollWith(t *testing.T, fds ...int) int {
	t.Helper()
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(epfd) })
	for _, fd := range fds {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			t.Fatal(err)
		}
	}
	return epfd
}

// ready is what EpollPoll reports ready now.
func ready(t *testing.T, epfd int) map[int]bool {
	t.Helper()
	events := make([]unix.EpollEvent, 8)
	n, err := EpollPoll(epfd, events)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]bool{}
	for _, ev := range events[:n] {
		got[int(ev.Fd)] = true
	}
	return got
}

// waitReady waits (EpollWait, up to 10 s) until fd is reported ready.
func waitReady(t *testing.T, epfd, fd int) {
	t.Helper()
	events := make([]unix.EpollEvent, 8)
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		n, err := EpollWait(epfd, events, int64(100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == fd {
				return
			}
		}
	}
	t.Fatalf("descriptor %d not ready within 10 s", fd)
}

func TestWaker(t *testing.T) {
	w, err := NewWaker()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	epfd := epollWith(t, w.Fd())
	if ready(t, epfd)[w.Fd()] {
		t.Fatal("a new waker is ready")
	}
	var wg sync.WaitGroup
	for range 4 { // wakes from several goroutines coalesce
		wg.Go(w.Wake)
	}
	wg.Wait()
	if !ready(t, epfd)[w.Fd()] {
		t.Fatal("not ready after Wake")
	}
	w.Clear()
	if ready(t, epfd)[w.Fd()] {
		t.Fatal("still ready after Clear")
	}
}

func TestTimer(t *testing.T) {
	tm, err := NewTimer()
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	epfd := epollWith(t, tm.Fd())
	const d = 20 * time.Millisecond
	t.Run("fires no earlier than armed", func(t *testing.T) {
		start := time.Now()
		if err := tm.Arm(d); err != nil {
			t.Fatal(err)
		}
		waitReady(t, epfd, tm.Fd())
		if took := time.Since(start); took < d {
			t.Errorf("fired after %v, armed for %v", took, d)
		}
		tm.Clear()
		if ready(t, epfd)[tm.Fd()] {
			t.Error("still ready after Clear")
		}
	})
	t.Run("a deadline passed fires at once", func(t *testing.T) {
		if err := tm.Arm(-time.Second); err != nil {
			t.Fatal(err)
		}
		waitReady(t, epfd, tm.Fd())
		tm.Clear()
	})
	t.Run("re-arming replaces the deadline", func(t *testing.T) {
		if err := tm.Arm(time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := tm.Arm(time.Hour); err != nil {
			t.Fatal(err)
		}
		events := make([]unix.EpollEvent, 1)
		if n, err := EpollWait(epfd, events, int64(d)); n != 0 || err != nil {
			t.Errorf("EpollWait = %d, %v; want the 1 ms deadline gone", n, err)
		}
	})
	t.Run("Stop disarms", func(t *testing.T) {
		if err := tm.Arm(time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := tm.Stop(); err != nil {
			t.Fatal(err)
		}
		events := make([]unix.EpollEvent, 1)
		if n, err := EpollWait(epfd, events, int64(d)); n != 0 || err != nil {
			t.Errorf("EpollWait = %d, %v; want no expiry after Stop", n, err)
		}
	})
}

// EpollWait with and without epoll_pwait2 waits out its timeout when
// nothing happens, from many loops at once (the fallback used to be
// chosen by a variable every loop wrote: a data race under -race).
func TestEpollWait(t *testing.T) {
	for _, tt := range []struct {
		name   string
		pwait2 func() bool
	}{
		{"as detected", hasPwait2},
		{"epoll_wait fallback", func() bool { return false }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			saved := hasPwait2
			hasPwait2 = tt.pwait2
			defer func() { hasPwait2 = saved }()
			const timeout = 5 * time.Millisecond
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					w, err := NewWaker()
					if err != nil {
						t.Error(err)
						return
					}
					defer w.Close()
					epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
					if err != nil {
						t.Error(err)
						return
					}
					defer unix.Close(epfd)
					ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(w.Fd())}
					unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, w.Fd(), &ev)
					events := make([]unix.EpollEvent, 1)
					start := time.Now()
					if n, err := EpollWait(epfd, events, int64(timeout)); n != 0 || err != nil || time.Since(start) < timeout {
						t.Errorf("idle EpollWait = %d, %v after %v; want 0 events after at least %v", n, err, time.Since(start), timeout)
					}
					w.Wake()
					if n, err := EpollWait(epfd, events, int64(time.Minute)); n != 1 || err != nil || int(events[0].Fd) != w.Fd() {
						t.Errorf("EpollWait after Wake = %d, %v; want the waker", n, err)
					}
				})
			}
			wg.Wait()
		})
	}
}

// timerFDs counts this process's open timerfds.
func timerFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.Contains(l, "timerfd") {
			n++
		}
	}
	return n
}

// A Waiter sleeps at least as asked, on one timerfd opened at its first
// Sleep and released by Close.
func TestWaiter(t *testing.T) {
	base := timerFDs(t)
	var w Waiter
	if got := timerFDs(t) - base; got != 0 {
		t.Fatalf("%d timerfds before the first Sleep, want 0", got)
	}
	for _, d := range []time.Duration{2 * time.Millisecond, 0, time.Millisecond} {
		start := time.Now()
		w.Sleep(d)
		if took := time.Since(start); took < d {
			t.Errorf("Sleep(%v) returned after %v", d, took)
		}
	}
	if got := timerFDs(t) - base; got != 1 {
		t.Errorf("%d timerfds open after three Sleeps, want 1", got)
	}
	w.Close()
	if got := timerFDs(t) - base; got != 0 {
		t.Errorf("%d timerfds left after Close, want 0", got)
	}
}
