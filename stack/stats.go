package stack

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Usage is one reading of a service's resource accounting. What a proxy
// spent over a window, the difference of two readings as run.json and the
// metrics record it, is results.Usage.
type Usage struct {
	At time.Time
	// CPU is the total CPU time (user + system) its processes used since
	// they started: the cgroup's in a container (ns resolution), the
	// process tree's utime+stime in the local runtime (10 ms ticks).
	CPU time.Duration
	// Memory is resident memory in bytes: the cgroup's usage minus its page
	// cache in a container, the process tree's VmRSS in the local runtime.
	Memory int64
}

// Usage reads a service's current resource accounting.
func (s *Stack) Usage(ctx context.Context, name string) (Usage, error) {
	h, err := s.handle(name)
	if err != nil {
		return Usage{}, err
	}
	u, err := s.be.usage(ctx, h)
	if err != nil {
		return Usage{}, fmt.Errorf("stack: usage of %q: %w", name, err)
	}
	return u, nil
}

// Window is a measurement window over some services: their usage when it
// started and when it stopped. The caller divides the CPU by messages or
// handshakes and the memory growth by held connections.
type Window struct {
	s          *Stack
	Start, End map[string]Usage
}

// StartWindow reads the usage of the named services (all started ones if
// none are named) as the start of a measurement window.
func (s *Stack) StartWindow(ctx context.Context, names ...string) (*Window, error) {
	if len(names) == 0 {
		s.mu.Lock()
		for n, h := range s.handles {
			if h.runtime() != nil {
				names = append(names, n)
			}
		}
		s.mu.Unlock()
		sort.Strings(names)
	}
	w := &Window{s: s, Start: map[string]Usage{}, End: map[string]Usage{}}
	us, errs := s.usages(ctx, names)
	for i, n := range names {
		if errs[i] != nil {
			return nil, errs[i]
		}
		w.Start[n] = us[i]
	}
	return w, nil
}

// usages reads several services at once: the stats API answers on a 1 s
// tick, so one at a time would stretch the window's edges.
func (s *Stack) usages(ctx context.Context, names []string) ([]Usage, []error) {
	us := make([]Usage, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() { us[i], errs[i] = s.Usage(ctx, n) })
	}
	wg.Wait()
	return us, errs
}

// Stop reads the usage again as the end of the window. A service that
// exited meanwhile (killed, crashed) has no end reading: its accounting
// died with it, and Ended reports false for it.
func (w *Window) Stop(ctx context.Context) error {
	var alive []string
	for _, n := range w.Names() {
		h, err := w.s.handle(n)
		if err != nil {
			return err
		}
		if dead, err := w.s.be.exited(ctx, h); err == nil && dead {
			continue
		}
		alive = append(alive, n)
	}
	us, errs := w.s.usages(ctx, alive)
	for i, n := range alive {
		if errs[i] != nil {
			return errs[i]
		}
		w.End[n] = us[i]
	}
	return nil
}

// Names lists the services of the window, sorted.
func (w *Window) Names() []string {
	names := make([]string, 0, len(w.Start))
	for n := range w.Start {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Ended reports whether service name has both readings: false when it
// exited during the window, or Stop was not called.
func (w *Window) Ended(name string) bool {
	_, ok := w.End[name]
	return ok
}

// CPU is the CPU time service name used during the window (0 unless Ended).
func (w *Window) CPU(name string) time.Duration {
	if !w.Ended(name) {
		return 0
	}
	return w.End[name].CPU - w.Start[name].CPU
}

// MemoryGrowth is how much resident memory service name gained during the
// window, negative if it shrank (0 unless Ended).
func (w *Window) MemoryGrowth(name string) int64 {
	if !w.Ended(name) {
		return 0
	}
	return w.End[name].Memory - w.Start[name].Memory
}

// Elapsed is the wall-clock length of the window as seen for name.
func (w *Window) Elapsed(name string) time.Duration {
	return w.End[name].At.Sub(w.Start[name].At)
}
