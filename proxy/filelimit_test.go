package proxy

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/internal/syncbuf"
)

// fileHog takes every free descriptor of this process below a lowered soft
// limit, so a test can hand them back one at a time. It restores the limit
// at cleanup. Tests using it must not run in parallel with others.
type fileHog struct {
	t     *testing.T
	files []*os.File
}

func hogFiles(t *testing.T) *fileHog {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	open := 0
	for _, n := range fdKinds(t) {
		open += n
	}
	lowered := rl
	lowered.Cur = uint64(open) + 64 // what the test needs before it hogs, and a little
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lowered); err != nil {
		t.Fatal(err)
	}
	h := &fileHog{t: t}
	t.Cleanup(func() {
		h.free(len(h.files))
		unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
	})
	h.takeAll()
	return h
}

// takeAll takes every descriptor still free.
func (h *fileHog) takeAll() {
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !errors.Is(err, unix.EMFILE) {
				h.t.Fatalf("hogging descriptors: %v", err)
			}
			return
		}
		h.files = append(h.files, f)
	}
}

// free gives back n descriptors.
func (h *fileHog) free(n int) {
	for ; n > 0 && len(h.files) > 0; n-- {
		h.files[len(h.files)-1].Close()
		h.files = h.files[:len(h.files)-1]
	}
}

// TestFileLimit: at the file limit the client gets a 503 and the log says
// which limit, whether the backend dial or accept hit it; the proxy neither
// hangs the client nor spins. Every socket the test needs is made before
// it takes the last descriptor, so the counts are exact.
func TestFileLimit(t *testing.T) {
	_ = time.Local.String() // load the time zone (a file) while descriptors remain
	var log syncbuf.Buffer
	p, addr := startProxy(t, Config{
		Upstreams: []Upstream{{Addr: tripwire(t)}},
		Logger:    slog.New(slog.NewTextHandler(&log, nil)),
	})

	// Backend dial: the client is connected and accepted first.
	c := dialRaw(t, addr)
	waitFor(t, "the proxy to accept", func() bool { return p.inFlightCount() == 1 })
	// Accept: a socket made now, connected once nothing is left.
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(s)

	hog := hogFiles(t)
	c.Write([]byte(upgradeRequest("/")))
	if status := readStatus(t, c); status != "503" {
		t.Fatalf("backend dial at the limit: status %q, want 503; log:\n%s", status, log.String())
	}
	c.Close()
	waitFor(t, "the refused handshake to end", func() bool { return p.inFlightCount() == 0 })
	hog.takeAll() // what the refused connection gave back

	ap, _ := netip.ParseAddrPort(addr)
	if err := unix.Connect(s, &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}); err != nil {
		t.Fatal(err)
	}
	req := []byte(upgradeRequest("/"))
	unix.Write(s, req)
	unix.SetsockoptTimeval(s, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 10})
	head := make([]byte, 12)
	if n, err := unix.Read(s, head); err != nil || n < 12 || string(head[9:12]) != "503" {
		t.Fatalf("accept at the limit: read %q, %v; want a 503; log:\n%s", head[:max(n, 0)], err, log.String())
	}
	hog.free(len(hog.files))

	out := log.String()
	for _, want := range []string{"too many open files (limit", "connecting to backend", "accepting a client"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if got := p.Counters().Handshakes["file_limit"]; got != 2 {
		t.Errorf("file_limit handshakes %d, want 2", got)
	}
	// And the proxy works again once descriptors are back.
	b := startBackend(t, "after", echo.Config{})
	_, addr2 := startProxy(t, Config{Upstreams: upstreams(b)})
	open(t, addr2, "/", dialOpts{}).echoes("descriptors are back")
}

func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial at the limit: %v", err)
	}
	return c
}

// readStatus reads the status code of an HTTP response.
func readStatus(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 12)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Errorf("reading the answer: %v (got %q)", err, b)
	}
	return string(b[9:12])
}

// TestFileLimitClears (issue 15.1): the proxy runs in a child process
// under a 64-file limit, filled with tunnels until a client is refused.
//   - Once the tunnels close, the next client is served: the accept loop
//     holds no client while it waits at the limit.
//   - Fifteen clients queued at the limit all get their 503 at once, not
//     one per accept backoff (which reaches a second).
func TestFileLimitClears(t *testing.T) {
	b := startBackend(t, "b1", echo.Config{})
	ch := startChild(t, "limitproxy", "ADDR="+b.addr, "NOFILE=64")
	addr := ch.line(t, "addr ")
	stats := func(t *testing.T) limitStats {
		t.Helper()
		fmt.Fprintln(ch.stdin, "stats")
		var st limitStats
		if err := json.Unmarshal([]byte(ch.line(t, "stats ")), &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	fill := func(t *testing.T) []*client { // tunnels until one is refused
		var held []*client
		for i := 0; i < 64; i++ {
			c := ask(t, addr, "/sink", dialOpts{})
			switch c.resp.StatusCode {
			case 101:
				held = append(held, c)
				continue
			case 503:
				c.Close()
				return held
			}
			t.Fatalf("tunnel %d: %s, want 101 or, at the limit, 503", i, c.resp.Status)
		}
		t.Fatal("64 tunnels under a 64-file limit")
		return nil
	}
	// atLimit leaves the proxy no descriptor, so its accept loop waits at
	// the limit. Which way fill's last client was refused depends on how
	// many descriptors the proxy holds besides its tunnels: at accept, the
	// proxy stays at the limit; at the backend dial, the client's
	// descriptor is free again once that handshake ends, and an idle
	// client takes it. A proxy at the limit refuses the idle client.
	atLimit := func(t *testing.T) net.Conn {
		waitFor(t, "the refused handshake to end", func() bool { return stats(t).InFlight == 0 })
		from := stats(t)
		c := dialRaw(t, addr)
		waitFor(t, "an idle client held or refused", func() bool {
			st := stats(t)
			return st.InFlight > from.InFlight || st.FileLimit > from.FileLimit
		})
		return c
	}
	closeAll := func(t *testing.T, cs []*client) {
		for _, c := range cs {
			c.Close()
		}
		waitFor(t, "the tunnels to close", func() bool { st := stats(t); return st.TunnelsOpen == 0 && st.InFlight == 0 })
	}

	t.Run("served after the limit clears", func(t *testing.T) {
		held := fill(t)
		idle := atLimit(t)
		// Stay at the limit for a few backoffs that run their length.
		from := stats(t).Backoffs
		waitFor(t, "the accept loop to back off", func() bool { return stats(t).Backoffs >= from+4 })
		idle.Close()
		closeAll(t, held)
		c := ask(t, addr, "/echo", dialOpts{})
		if c.resp.StatusCode != 101 {
			t.Fatalf("first client after the tunnels closed: %s, want 101", c.resp.Status)
		}
		c.echoes("served again")
		c.Close()
	})

	t.Run("queued clients answered at once", func(t *testing.T) {
		held := fill(t)
		defer closeAll(t, held)
		defer atLimit(t).Close()
		from := stats(t)
		const queued = 15
		statuses := make(chan int, queued)
		for i := 0; i < queued; i++ {
			go func() {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					statuses <- 0
					return
				}
				defer c.Close()
				io.WriteString(c, upgradeRequest("/"))
				c.SetReadDeadline(time.Now().Add(15 * time.Second))
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					statuses <- 0
					return
				}
				statuses <- resp.StatusCode
			}()
		}
		for i := 0; i < queued; i++ {
			if st := <-statuses; st != 503 {
				t.Errorf("queued client: status %d, want 503", st)
			}
		}
		to := stats(t)
		if n := to.FileLimit - from.FileLimit; n != queued {
			t.Errorf("%d file_limit refusals, want %d", n, queued)
		}
		// One client per backoff would take 15; all at once, a backoff or
		// two that ran out while the clients were still connecting.
		if n := to.Backoffs - from.Backoffs; n > 3 {
			t.Errorf("%d accept backoffs ran their length while %d clients were answered, want at most 3", n, queued)
		}
	})
}
