package proxy

import (
	"encoding/json"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/proxy/relay"
)

// target is what a benchmark's load goes through.
type target struct {
	name string
	cfg  *Config // the reference proxy, in this process
	// nginx: nginx 1.22, one worker, the seeds' map config; direct: nothing.
	nginx, direct bool
}

var proxyTargets = []target{
	{name: "refproxy/epoll/splice", cfg: &Config{Engine: relay.Epoll}},
	{name: "refproxy/epoll/copy", cfg: &Config{Engine: relay.Epoll, Copy: true}},
	{name: "refproxy/goroutines/splice", cfg: &Config{Engine: relay.Goroutines}},
	{name: "refproxy/goroutines/copy", cfg: &Config{Engine: relay.Goroutines, Copy: true}},
	{name: "nginx", nginx: true},
}

// up starts the target in front of backend and returns the address to
// load and the process whose cost is measured (0 for direct).
func (tg target) up(b *testing.B, backend string) (addr string, pid int, p *Proxy) {
	switch {
	case tg.direct:
		return backend, 0, nil
	case tg.nginx:
		n := startNginx(b, backend)
		return n.addr, n.worker, nil
	}
	cfg := *tg.cfg
	cfg.Upstreams = []Upstream{{Addr: backend}}
	cfg.ReadTimeout, cfg.SendTimeout = time.Hour, time.Hour
	cfg.Logger = nil // benchmarks measure the proxy, not the test log
	p, addr = startProxy(b, cfg)
	return addr, os.Getpid(), p
}

// BenchmarkRoundTrip: echo round trips through each target, the load and
// the echo backend in child processes. Metrics:
//
//	cpu-µs/rt    the proxy's CPU time (user+system) per round trip, i.e. per
//	             two relayed messages: nginx's ≈46 µs is the bar at 10k/s
//	rtt-p50-µs   round-trip latency from the intended send time
//	rtt-p99-µs
//	allocs/op    the reference proxy's heap allocations per round trip
//
// "rtt" paces 64-byte messages at 10,000/s over 50 connections (the
// issue's fixed rate); "max" sends each connection's next message as soon
// as its echo is back, for throughput (MB/s counts both directions).
func BenchmarkRoundTrip(b *testing.B) {
	backend := startChild(b, "echo")
	echoAddr := backend.line(b, "addr ")
	loads := []struct {
		name              string
		size, conns, rate int
	}{
		{"rtt/64B", 64, 50, 10000},
		{"max/64B", 64, 50, 0},
		{"max/16KiB", 16 << 10, 50, 0},
		{"max/1MiB", 1 << 20, 8, 0},
	}
	targets := append([]target{{name: "direct", direct: true}}, proxyTargets...)
	for _, ld := range loads {
		for _, tg := range targets {
			b.Run(ld.name+"/"+tg.name, func(b *testing.B) {
				addr, pid, _ := tg.up(b, echoAddr)
				res, cpu := runLoad(b, addr, pid, ld.size, ld.conns, ld.rate)
				b.SetBytes(int64(2 * ld.size))
				if pid != 0 {
					b.ReportMetric(float64(cpu.Microseconds())/float64(res.Count), "cpu-µs/rt")
				}
				b.ReportMetric(res.P50us, "rtt-p50-µs")
				b.ReportMetric(res.P99us, "rtt-p99-µs")
			})
		}
	}
}

// runLoad makes b.N round trips through addr and returns the load's
// result and the CPU time process pid spent meanwhile.
func runLoad(b *testing.B, addr string, pid, size, conns, rate int) (loadResult, time.Duration) {
	b.Helper()
	b.StopTimer()
	b.ReportAllocs()
	n := max(b.N, conns)
	load := startChild(b, "load", "ADDR="+addr, "CONNS="+strconv.Itoa(conns), "COUNT="+strconv.Itoa(n),
		"RATE="+strconv.Itoa(rate), "SIZE="+strconv.Itoa(size))
	load.line(b, "go")
	cpu0 := cpuTime(pid)
	b.StartTimer()
	line := load.line(b, "result ")
	b.StopTimer()
	cpu := cpuTime(pid) - cpu0
	var res loadResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		b.Fatalf("load result %q: %v", line, err)
	}
	if res.Count != int64(n) {
		b.Fatalf("load made %d round trips, want %d", res.Count, n)
	}
	return res, cpu
}

// BenchmarkIdleTunnels holds WSBENCH_IDLE_TUNNELS (default 9,000) idle
// tunnels through each target, clients and backend in child processes,
// and reports the proxy's resident memory and descriptors per tunnel.
// Run it once: -benchtime=1x.
func BenchmarkIdleTunnels(b *testing.B) {
	n := 9000
	if s := os.Getenv("WSBENCH_IDLE_TUNNELS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	backend := startChild(b, "echo")
	echoAddr := backend.line(b, "addr ")
	for _, tg := range proxyTargets {
		b.Run(tg.name, func(b *testing.B) {
			for b.Loop() {
				idleTunnels(b, tg, echoAddr, n)
			}
		})
	}
}

func idleTunnels(b *testing.B, tg target, backend string, n int) {
	addr, pid, p := tg.up(b, backend)
	warm := startChild(b, "hold", "ADDR="+addr, "N=64") // pools, pollers, first allocations
	warm.line(b, "ready ")
	warm.stop()
	settle(p, 0)
	rss0, fds0 := rssKiB(pid), fdsOf(pid)
	hold := startChild(b, "hold", "ADDR="+addr, "N="+strconv.Itoa(n))
	f := strings.Fields(hold.line(b, "ready "))
	opened, _ := strconv.Atoi(f[0])
	failed, _ := strconv.Atoi(f[1])
	settle(p, int64(opened))
	rss1, fds1 := rssKiB(pid), fdsOf(pid)
	if opened == 0 {
		b.Fatalf("no tunnel opened (%d failed)", failed)
	}
	b.ReportMetric(float64(rss1-rss0)/float64(opened), "rss-KiB/tunnel")
	b.ReportMetric(float64(fds1-fds0)/float64(opened), "fds/tunnel")
	b.ReportMetric(float64(opened), "tunnels")
	b.ReportMetric(float64(failed), "failed")
	hold.stop()
}

// settle waits until the proxy holds want tunnels, then for its memory to
// stop moving (the runtime returns freed handshake memory in the
// background, as a long-running proxy would see it).
func settle(p *Proxy, want int64) {
	if p != nil {
		for end := time.Now().Add(60 * time.Second); p.Counters().TunnelsOpen != want && time.Now().Before(end); {
			time.Sleep(50 * time.Millisecond)
		}
		runtime.GC()
	}
	time.Sleep(3 * time.Second)
}

// Example-style check that the harness itself works, run with the tests:
// a tiny round-trip load through the proxy from a child process.
func TestChildLoadThroughProxy(t *testing.T) {
	backend := startChild(t, "echo")
	echoAddr := backend.line(t, "addr ")
	_, addr := startProxy(t, Config{Upstreams: []Upstream{{Addr: echoAddr}}})
	load := startChild(t, "load", "ADDR="+addr, "CONNS=4", "COUNT=200", "RATE=0", "SIZE=100")
	load.line(t, "go")
	var res loadResult
	if err := json.Unmarshal([]byte(load.line(t, "result ")), &res); err != nil || res.Count != 200 {
		t.Fatalf("load result %+v, %v; want 200 round trips", res, err)
	}
	hold := startChild(t, "hold", "ADDR="+addr, "N=20")
	if got := hold.line(t, "ready "); got != "20 0" {
		t.Fatalf("hold: %s, want 20 opened 0 failed", got)
	}
}
