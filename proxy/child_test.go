package proxy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/echo"
)

// Benchmarks measure the proxy alone: it runs in the benchmark process,
// while the echo backends and the clients run in child processes (this
// test binary re-executed with WSBENCH_PROXY_CHILD set). Then the process's
// CPU time, RSS and descriptors are the proxy's, and 9,000 tunnels fit
// under the 20,000-file limit (the proxy holds 2 descriptors per tunnel,
// each child 1).

const childEnv = "WSBENCH_PROXY_CHILD"

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		if err := runChild(role); err != nil {
			fmt.Fprintf(os.Stderr, "child %s: %v\n", role, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child is a running helper process; it ends when its stdin closes.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

func startChild(tb testing.TB, role string, env ...string) *child {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, childEnv+"="+role)...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	tb.Cleanup(c.stop)
	return c
}

// line waits for the child's next line that starts with prefix.
func (c *child) line(tb testing.TB, prefix string) string {
	tb.Helper()
	for c.out.Scan() {
		if l := c.out.Text(); strings.HasPrefix(l, prefix) {
			return strings.TrimSpace(strings.TrimPrefix(l, prefix))
		}
	}
	tb.Fatalf("child exited before printing %q: %v", prefix, c.out.Err())
	return ""
}

func (c *child) stop() {
	c.stdin.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

func runChild(role string) error {
	switch role {
	case "echo":
		return childEcho()
	case "hold":
		return childHold()
	case "load":
		return childLoad()
	case "limitproxy":
		return childLimitProxy()
	}
	return fmt.Errorf("unknown role %q", role)
}

func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}

// childEcho serves an echo backend and prints "addr HOST:PORT".
func childEcho() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := echo.New(echo.Config{ID: "child"})
	go srv.Serve(ln)
	fmt.Printf("addr %s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// limitStats is what childLimitProxy prints after "stats ".
type limitStats struct {
	TunnelsOpen int64 `json:"tunnels_open"`
	InFlight    int64 `json:"in_flight"`
	FileLimit   int64 `json:"file_limit"` // handshakes answered 503 at the limit
	Backoffs    int64 `json:"backoffs"`   // accept backoffs that ran their length
}

// childLimitProxy serves a Proxy in front of ADDR with its file limit
// lowered to NOFILE, prints "addr HOST:PORT", and answers every line on
// stdin with "stats {json}". Its descriptors are its own, so the test's
// clients and backend do not count against the limit.
func childLimitProxy() error {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	rl.Cur = uint64(envInt("NOFILE"))
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	p, err := New(Config{Upstreams: []Upstream{{Addr: os.Getenv("ADDR")}}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go p.Serve(ln)
	fmt.Printf("addr %s\n", ln.Addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		c := p.Counters()
		b, _ := json.Marshal(limitStats{TunnelsOpen: c.TunnelsOpen, InFlight: p.inFlightCount(),
			FileLimit: c.Handshakes["file_limit"], Backoffs: p.limitBackoffs.Load()})
		fmt.Printf("stats %s\n", b)
	}
	return nil
}

// childHold opens N idle WebSocket connections to ADDR, N_PARALLEL at a
// time, prints "ready OPENED FAILED" and holds them until stdin closes.
func childHold() error {
	addr, n := os.Getenv("ADDR"), envInt("N")
	conns := make([]net.Conn, 0, n)
	var mu sync.Mutex
	var failed atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				c, err := rawUpgrade(addr, "/sink")
				if err != nil {
					if failed.Add(1) == 1 {
						fmt.Fprintf(os.Stderr, "hold: first failure: %v\n", err)
					}
					continue
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	fmt.Printf("ready %d %d\n", len(conns), failed.Load())
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// rawUpgrade opens a WebSocket connection with a minimal handshake.
func rawUpgrade(addr, path string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, upgradeRequest(path)); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(c, 1024)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		c.Close()
		if err == nil {
			err = fmt.Errorf("status %s", resp.Status)
		}
		return nil, err
	}
	if br.Buffered() > 0 {
		c.Close()
		return nil, fmt.Errorf("unexpected bytes after the 101")
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// loadResult is what childLoad prints after "result ".
type loadResult struct {
	Count   int64   `json:"count"`
	Seconds float64 `json:"seconds"`
	P50us   float64 `json:"p50_us"`
	P99us   float64 `json:"p99_us"`
}

// childLoad makes COUNT round trips of SIZE-byte messages over CONNS
// connections to ADDR: at RATE per second in all (intended send times
// evenly spaced, latency measured from them), or as fast as each
// connection's echo comes back when RATE is 0. It prints "go" once
// connected, then "result {json}".
func childLoad() error {
	addr, conns, count, rate, size := os.Getenv("ADDR"), envInt("CONNS"), envInt("COUNT"), envInt("RATE"), envInt("SIZE")
	cs := make([]net.Conn, conns)
	for i := range cs {
		c, err := rawUpgrade(addr, "/echo")
		if err != nil {
			return err
		}
		cs[i] = c
	}
	fmt.Println("go")
	start := time.Now()
	hists := make([]*hdrhistogram.Histogram, conns)
	errs := make(chan error, conns)
	var wg sync.WaitGroup
	for i, c := range cs {
		n := count / conns
		if i < count%conns {
			n++
		}
		hists[i] = hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
		wg.Go(func() {
			var interval time.Duration
			if rate > 0 {
				interval = time.Duration(float64(time.Second) * float64(conns) / float64(rate))
			}
			offset := interval * time.Duration(i) / time.Duration(conns)
			if err := roundTrips(c, n, size, start.Add(offset), interval, hists[i]); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	all := hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
	for _, h := range hists {
		all.Merge(h)
	}
	res, _ := json.Marshal(loadResult{Count: all.TotalCount(), Seconds: elapsed.Seconds(),
		P50us: float64(all.ValueAtQuantile(50)), P99us: float64(all.ValueAtQuantile(99))})
	fmt.Printf("result %s\n", res)
	return nil
}

// roundTrips sends n messages on c, each once the previous one is back and
// its scheduled time has come, and records each round trip from its
// scheduled (or, unpaced, actual) send time.
func roundTrips(c net.Conn, n, size int, first time.Time, interval time.Duration, h *hdrhistogram.Histogram) error {
	msg := ws.MustCompileFrame(ws.MaskFrame(ws.NewBinaryFrame(make([]byte, size))))
	buf := make([]byte, size+16)
	br := bufio.NewReaderSize(c, 64<<10)
	for k := 0; k < n; k++ {
		at := time.Now()
		if interval > 0 {
			at = first.Add(time.Duration(k) * interval)
			time.Sleep(time.Until(at))
		}
		if _, err := c.Write(msg); err != nil {
			return err
		}
		hd, err := ws.ReadHeader(br)
		if err != nil {
			return err
		}
		if _, err := io.ReadFull(br, buf[:hd.Length]); err != nil {
			return err
		}
		h.RecordValue(int64(time.Since(at) / time.Microsecond))
	}
	return nil
}
