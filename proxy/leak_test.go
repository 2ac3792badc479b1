package proxy

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fdKinds counts this process's descriptors by kind: socket, pipe, anon
// (epoll, eventfd), or a path.
func fdKinds(t testing.TB) map[string]int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting descriptors: %v", err)
	}
	kinds := map[string]int{}
	for _, e := range ents {
		l, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // the ReadDir's own descriptor, closed by now
		}
		kind, _, _ := strings.Cut(l, ":")
		kinds[kind]++
	}
	return kinds
}

// TestNoLeakAfter10000Tunnels opens and closes 10,000 tunnels through the
// proxy to echo backends, each carrying a message, and counts goroutines
// and descriptors before and after: nothing may be left but the relay's
// bounded pool of idle pipes.
func TestNoLeakAfter10000Tunnels(t *testing.T) {
	const tunnels, workers = 10000, 16
	bs := backends(t, 2)
	p, addr := startProxy(t, Config{Upstreams: upstreams(bs...)})
	run := func(n int) {
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Go(func() {
				for next.Add(1) <= int64(n) {
					c := open(t, addr, "/", dialOpts{})
					c.echoes("leak check")
					c.Close()
				}
			})
		}
		wg.Wait()
	}
	settled := func() bool {
		return p.Counters().TunnelsOpen == 0 && bs[0].srv.Stats().Open == 0 && bs[1].srv.Stats().Open == 0
	}
	run(2 * workers) // warm up: pollers, pools, the echo servers' goroutines
	waitFor(t, "warm-up tunnels closed", settled)
	runtime.GC()
	g0, fd0 := runtime.NumGoroutine(), fdKinds(t)

	run(tunnels)
	waitFor(t, "every tunnel closed", settled)
	var g1 int
	var fd1 map[string]int
	waitFor(t, "goroutines and descriptors back to where they were", func() bool {
		g1, fd1 = runtime.NumGoroutine(), fdKinds(t)
		return g1 <= g0 && fd1["socket"] <= fd0["socket"] && fd1["anon_inode"] <= fd0["anon_inode"]
	})
	if d := fd1["pipe"] - fd0["pipe"]; d > 2*(4*runtime.GOMAXPROCS(0)+16) {
		t.Errorf("%d more pipe descriptors after %d tunnels: more than the pools hold", d, tunnels)
	}
	if c := p.Counters(); c.TunnelsTotal != tunnels+2*workers || c.Handshakes["ok"] != c.TunnelsTotal {
		t.Errorf("counted %d tunnels, %d ok handshakes; want %d", c.TunnelsTotal, c.Handshakes["ok"], tunnels+2*workers)
	}
	t.Logf("goroutines %d → %d; descriptors %s → %s", g0, g1, fmtKinds(fd0), fmtKinds(fd1))
}

func fmtKinds(m map[string]int) string {
	var b strings.Builder
	for _, k := range []string{"socket", "pipe", "anon_inode"} {
		fmt.Fprintf(&b, "%s=%d ", k, m[k])
	}
	return strings.TrimSpace(b.String())
}

// TestTidyAfterBurst: once a burst of handshakes has been quiet for a
// second, the proxy returns the memory it left (and counts afresh).
func TestTidyAfterBurst(t *testing.T) {
	p, _ := startProxy(t, Config{Upstreams: []Upstream{{Addr: tripwire(t)}}})
	for i := 0; i < tidyAfter; i++ {
		p.noteHandshake()
	}
	if p.sinceTidy.Load() != tidyAfter {
		t.Fatalf("counted %d handshakes", p.sinceTidy.Load())
	}
	waitFor(t, "the tidy after a quiet second", func() bool { return p.sinceTidy.Load() == 0 })
}
