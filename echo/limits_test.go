package echo

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// upgradeRaw dials addr and sends an upgrade request without waiting for
// the answer.
func upgradeRaw(t testing.TB, addr, path string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if _, err := io.WriteString(nc, request(path)); err != nil {
		t.Fatal(err)
	}
	return nc
}

func readStatus(nc net.Conn, wait time.Duration) (int, error) {
	nc.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// A server out of file descriptors says so (once a second, naming the
// limit), keeps its connections, and accepts again once some close.
func TestAcceptEMFILE(t *testing.T) {
	const room = 4 // files the helper may open beyond those open at start
	h := startHelper(t, fmt.Sprintf("%s=%d", helperFDsEnv, room))
	var open, pending []net.Conn
	for i := range room + 3 {
		nc := upgradeRaw(t, h.addr, "/echo")
		if len(pending) > 0 { // past the limit: the rest wait in the backlog
			pending = append(pending, nc)
			continue
		}
		status, err := readStatus(nc, 500*time.Millisecond)
		switch {
		case err == nil && status == 101:
			open = append(open, nc)
		case err != nil && isTimeout(err):
			pending = append(pending, nc)
		default:
			t.Fatalf("connection %d: status %d, %v", i, status, err)
		}
	}
	if len(open) == 0 || len(pending) == 0 {
		t.Fatalf("%d connections upgraded, %d pending: want the limit to stop some but not all", len(open), len(pending))
	}
	logLine := regexp.MustCompile(`echo: too many open files \(limit \d+\): accept tcp .*backing off`)
	deadline := time.After(10 * time.Second)
	for found := false; !found; {
		select {
		case l, ok := <-h.stderr:
			if !ok {
				t.Fatal("helper exited")
			}
			found = logLine.MatchString(l)
		case <-deadline:
			t.Fatal("no \"too many open files (limit N)\" log line within 10s")
		}
	}
	// No spinning: at most one line a second (allow slack for the first).
	lines := 0
	for window := time.After(2 * time.Second); window != nil; {
		select {
		case l := <-h.stderr:
			if strings.Contains(l, "too many open files") {
				lines++
			}
		case <-window:
			window = nil
		}
	}
	if lines > 3 {
		t.Errorf("%d \"too many open files\" lines in 2s, want at most one a second", lines)
	}
	// Existing connections still work.
	// (Its 101 was read through another bufio.Reader, which held nothing
	// more: /echo sends nothing after the 101.)
	c := &testClient{t: t, nc: open[0], br: bufio.NewReader(open[0])}
	c.nc.SetDeadline(time.Now().Add(5 * time.Second))
	c.send(ws.OpText, []byte("still served"))
	if _, p := c.next(); string(p) != "still served" {
		t.Errorf("echo while at the limit = %q", p)
	}
	for _, nc := range open {
		nc.Close()
	}
	if status, err := readStatus(pending[0], 10*time.Second); err != nil || status != 101 {
		t.Errorf("after closing connections the pending one got %d, %v; want 101", status, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
