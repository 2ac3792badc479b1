package echo

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The test binary doubles as a standalone echo server, so tests can measure
// a server's memory without the client's, and lower its file limit without
// touching the test process.
const (
	helperEnv    = "ECHO_TEST_HELPER"     // "1": run as the helper server
	helperFDsEnv = "ECHO_TEST_HELPER_FDS" // open files allowed beyond those open at start
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(runHelper())
	}
	os.Exit(m.Run())
}

// runHelper serves on 127.0.0.1:0, prints "addr HOST:PORT", then answers
// "rss" (print VmRSS in KiB) and "gc" (collect, return memory to the OS,
// then print VmRSS) on stdin until EOF. Logs go to stderr.
func runHelper() int {
	srv := New(Config{ID: "helper", Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if extra := os.Getenv(helperFDsEnv); extra != "" {
		n, _ := strconv.Atoi(extra)
		if err := limitFiles(n); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	go srv.Serve(ln)
	fmt.Printf("addr %s\n", ln.Addr())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "gc":
			runtime.GC()
			debug.FreeOSMemory()
			fallthrough
		case "rss":
			fmt.Printf("rss %d\n", rssKiB())
		}
	}
	return 0
}

// limitFiles sets the soft open-file limit to what is open now plus extra.
func limitFiles(extra int) error {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	rl.Cur = uint64(len(fds) + extra)
	return unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
}

func rssKiB() int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(string(v)), " kB"))
			return n
		}
	}
	return -1
}

// helper is a running helper server.
type helper struct {
	cmd    *exec.Cmd
	in     *os.File
	out    *bufio.Scanner
	stderr chan string // its log lines
	addr   string
}

func startHelper(t testing.TB, env ...string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), helperEnv+"=1"), env...)
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = inR
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	h := &helper{cmd: cmd, in: inW, out: bufio.NewScanner(stdout), stderr: make(chan string, 1000)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case h.stderr <- sc.Text():
			default: // a flood of lines is itself a failure the test sees as missing lines
			}
		}
		close(h.stderr)
	}()
	t.Cleanup(func() {
		h.in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper server: %v", err)
		}
	})
	h.addr = strings.TrimPrefix(h.line(t), "addr ")
	return h
}

func (h *helper) line(t testing.TB) string {
	t.Helper()
	if !h.out.Scan() {
		t.Fatalf("helper server ended: %v", h.out.Err())
	}
	return h.out.Text()
}

// rss asks the helper for its resident set in KiB, after a GC if gc is set.
func (h *helper) rss(t testing.TB, gc bool) int {
	t.Helper()
	cmd := "rss"
	if gc {
		cmd = "gc"
	}
	fmt.Fprintln(h.in, cmd)
	n, err := strconv.Atoi(strings.TrimPrefix(h.line(t), "rss "))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
