package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/internal/testenv"
)

// needNginx skips the test without the host's nginx, unless
// WSBENCH_REQUIRE_NGINX=1 (CI) says it must run.
func needNginx(t *testing.T) {
	t.Helper()
	if _, err := nginxProgram.findHost(""); err != nil {
		testenv.Need(t, fmt.Errorf("the local runtime test needs nginx: %w", err), "WSBENCH_REQUIRE_NGINX")
	}
}

// TestLocal runs the same topology as processes on loopback addresses:
// two backends, the host's nginx, two loadgen workers, a kill, usage, and
// no process left after Down.
func TestLocal(t *testing.T) {
	needNginx(t)
	ctx := context.Background()
	s, err := Up(ctx, Spec{Runtime: RuntimeLocal, Binary: fakeBinary(t), Log: testLog{t},
		CPUSet: map[string]string{"echo": "0"}})
	t.Cleanup(func() { _ = s.Down(ctx) })
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, name := range []string{"echo-1", "echo-2"} {
		h, err := s.Start(ctx, Service{Name: name, Role: "echo", Port: 9000,
			Args: []string{"serve", "--listen", s.Bind(name, 9000), "--id", name}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h.Addr(), "127.") || !strings.HasSuffix(h.Addr(), ":9000") {
			t.Errorf("%s Addr() = %q; want a 127.x.y.z:9000 of its own", name, h.Addr())
		}
		if got := wsEcho(t, h.Addr()); got != name {
			t.Errorf("backend header = %q, want %q", got, name)
		}
		pid := h.runtime().(*process).cmd.Process.Pid
		pids = append(pids, pid)
		var set unix.CPUSet
		if err := unix.SchedGetaffinity(pid, &set); err != nil || set.Count() != 1 || !set.IsSet(0) {
			t.Errorf("%s affinity = %v (count %d), %v; want cpu 0 only (CPUSet echo: 0)", name, set, set.Count(), err)
		}
		var lim unix.Rlimit
		if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, nil, &lim); err != nil || lim.Max > DefaultFileLimit {
			t.Errorf("%s file limit = %+v, %v; want at most %d", name, lim, err, DefaultFileLimit)
		}
	}
	if s.Addr("echo-1", 9000) == s.Addr("echo-2", 9000) {
		t.Errorf("two services share the address %s", s.Addr("echo-1", 9000))
	}

	conf := nginxConf(s, "nginx", 8080, s.Addr("echo-1", 9000), s.Addr("echo-2", 9000))
	ng, err := s.Start(ctx, Service{Name: "nginx", Image: ImageNginx, Port: 8080,
		Files: map[string][]byte{NginxConf: conf, "/tmp/.keep": nil}})
	if err != nil {
		t.Fatal(err)
	}
	pids = append(pids, ng.rt.(*process).cmd.Process.Pid)
	if !strings.HasPrefix(ng.Image.Version, "nginx version:") {
		t.Errorf("nginx version = %q", ng.Image.Version)
	}
	w, err := s.StartWindow(ctx, "nginx")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for range 4 {
		seen[wsEcho(t, ng.Addr())]++
	}
	if seen["echo-1"] == 0 || seen["echo-2"] == 0 {
		t.Errorf("through local nginx reached %v; want both backends", seen)
	}

	out := t.TempDir()
	res, err := s.RunLoadgen(ctx, Loadgen{Workers: 2, OutDir: out, StartAt: true,
		Args: func(int) []string {
			return []string{"loadgen", "--url", "ws://" + ng.Addr() + "/", "--messages", "50"}
		}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if fr := readFakeResult(t, r.Dir); fr.Messages != 50 {
			t.Errorf("%s: %+v; want 50 messages", r.Name, fr)
		}
	}
	if err := w.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// nginx's worker (a child of the master) did the relaying: its memory
	// and the tree's are counted; CPU ticks are 10 ms, so only >= 0 holds.
	if w.End["nginx"].Memory <= 0 || w.CPU("nginx") < 0 {
		t.Errorf("nginx window: memory %d, cpu %v; want memory > 0", w.End["nginx"].Memory, w.CPU("nginx"))
	}

	ictx, cancel := context.WithTimeout(ctx, time.Second)
	res, err = s.RunLoadgen(ictx, Loadgen{Name: "hang", OutDir: t.TempDir(),
		Args: func(int) []string { return []string{"hang"} }})
	cancel()
	if err == nil || len(res) != 1 || res[0].ExitCode == 0 {
		t.Errorf("interrupted RunLoadgen(hang) = %+v, %v; want an error and a non-zero exit", res, err)
	}

	if err := s.Kill(ctx, "echo-2"); err != nil {
		t.Fatal(err)
	}
	if dialOK(ctx, s.Addr("echo-2", 9000)) {
		t.Error("echo-2 still accepts connections after Kill")
	}
	if _, err := s.Start(ctx, Service{Name: "broken", Port: 9000, Args: []string{"crash"}}); err == nil {
		t.Error("Start(crash) succeeded")
	}
	if failed, _ := s.Failed(ctx); len(failed) != 1 || failed[0] != "broken" {
		t.Errorf("Failed() = %v; want [broken]", failed)
	}
	dir := s.be.(*localBackend).dir
	if err := s.Down(ctx); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("pid %d still exists after Down (kill 0: %v)", pid, err)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("work dir %s still exists after Down: %v", dir, err)
	}
}

// TestLocalRealWsbench runs the real topology as local processes.
func TestLocalRealWsbench(t *testing.T) {
	needNginx(t)
	if _, err := exec.LookPath("go"); err != nil {
		testenv.Need(t, fmt.Errorf("building wsbench needs the go tool: %w", err))
	}
	realTopology(t, Spec{Runtime: RuntimeLocal, Log: testLog{t}})
}
