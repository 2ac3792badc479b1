package harness

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"time"
)

// live prints the run's progress: plain lines, plus on a terminal a line
// rewritten in place once a second while a workload runs ("elapsed of
// expected"), so a long run never looks hung.
type live struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	label string
	began time.Time
	total time.Duration
	stopc chan struct{}
	shown bool
}

func newLive(w io.Writer, tty bool) *live { return &live{w: w, tty: tty} }

func (l *live) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
	fmt.Fprintf(l.w, format, args...)
}

// lines adapts the stack's progress output (image builds) to printf,
// without testcontainers' per-container chatter.
func (l *live) lines() io.Writer {
	return writerFunc(func(p []byte) {
		if !bytes.Contains(p, []byte("testcontainers:")) {
			l.printf("   %s", p)
		}
	})
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

// start shows label as running, expected to take about total.
func (l *live) start(label string, total time.Duration) {
	l.mu.Lock()
	l.label, l.began, l.total, l.stopc = label, time.Now(), total, make(chan struct{})
	stop := l.stopc
	l.mu.Unlock()
	if !l.tty {
		l.printf("   running %s (about %s)\n", label, total.Round(time.Second))
		return
	}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			l.draw()
			select {
			case <-t.C:
			case <-stop:
				return
			}
		}
	}()
}

func (l *live) draw() {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "\r   running %s: %s of about %s\x1b[K", l.label,
		time.Since(l.began).Round(time.Second), l.total.Round(time.Second))
	l.shown = true
}

func (l *live) stop() {
	l.mu.Lock()
	if l.stopc != nil {
		close(l.stopc)
		l.stopc = nil
	}
	l.clear()
	l.mu.Unlock()
}

// clear erases the in-place line before other output. Callers hold mu.
func (l *live) clear() {
	if l.tty && l.shown {
		fmt.Fprint(l.w, "\r\x1b[K")
		l.shown = false
	}
}
