package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/wsbench/wsbench/internal/syncbuf"
	"github.com/wsbench/wsbench/internal/testenv"
)

// TestDockerBridge brings a whole topology up on a per-run network: two
// echo backends, nginx in front of them, two loadgen workers, a crashing
// service, a kill, resource windows, and checks nothing is left after Down.
func TestDockerBridge(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	s, err := Up(ctx, Spec{Binary: fakeBinary(t), Log: testLog{t}})
	t.Cleanup(func() { _ = s.Down(ctx) })
	if err != nil {
		t.Fatal(err)
	}
	runID := s.RunID()
	if _, err := s.be.(*dockerBackend).cli.ImageInspect(ctx, ryukImage); err != nil && os.Getenv("TESTCONTAINERS_RYUK_DISABLED") != "true" {
		t.Errorf("ryuk image %s missing but TESTCONTAINERS_RYUK_DISABLED=%q; want \"true\"", ryukImage, os.Getenv("TESTCONTAINERS_RYUK_DISABLED"))
	}

	img, err := s.Image(ctx, ImageWsbench)
	if err != nil || !strings.HasPrefix(img.Ref, imageRepo+"/wsbench:") || img.ID == "" {
		t.Fatalf("wsbench image = %+v, %v; want %s/wsbench:<hash> with an id", img, err, imageRepo)
	}

	for _, name := range []string{"echo-1", "echo-2"} {
		h, err := s.Start(ctx, Service{Name: name, Role: "echo", Port: 9000,
			Args: []string{"serve", "--listen", s.Bind(name, 9000), "--id", name}})
		if err != nil {
			t.Fatal(err)
		}
		if h.Addr() != name+":9000" {
			t.Errorf("%s Addr() = %q, want %q", name, h.Addr(), name+":9000")
		}
		if got := wsEcho(t, h.HostAddr()); got != name {
			t.Errorf("backend header via %s = %q, want %q", h.HostAddr(), got, name)
		}
	}

	t.Run("nginx", func(t *testing.T) {
		conf := nginxConf(s, "nginx", 8080, s.Addr("echo-1", 9000), s.Addr("echo-2", 9000))
		h, err := s.Start(ctx, Service{Name: "nginx", Image: ImageNginx, Port: 8080, Publish: true,
			Files: map[string][]byte{NginxConf: conf}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h.Image.Version, "nginx version: nginx/") {
			t.Errorf("nginx version = %q, want \"nginx version: nginx/…\"", h.Image.Version)
		}
		w, err := s.StartWindow(ctx, "nginx", "echo-1", "echo-2")
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for range 6 {
			seen[wsEcho(t, h.HostAddr())]++
		}
		if seen["echo-1"] == 0 || seen["echo-2"] == 0 {
			t.Errorf("round robin through nginx reached %v; want both echo-1 and echo-2", seen)
		}
		if err := w.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		for _, n := range w.Names() {
			if w.CPU(n) <= 0 || w.End[n].Memory <= 0 {
				t.Errorf("%s: window cpu %v, memory %d; want both > 0 after proxying 6 connections", n, w.CPU(n), w.End[n].Memory)
			}
		}
	})

	t.Run("stats api", func(t *testing.T) {
		// The cgroup files and the stats API read the same counters.
		h, _ := s.Handle("nginx")
		files, ok, err := cgroupUsage(h.ID)
		if !ok {
			testenv.Need(t, errors.New("the containers' cgroup files are not visible here"))
		}
		api, err2 := s.be.(*dockerBackend).apiUsage(ctx, h.ID)
		if err != nil || err2 != nil || api.CPU < files.CPU || api.CPU > files.CPU+time.Second ||
			api.Memory <= 0 || files.Memory <= 0 {
			t.Errorf("cgroup files %+v (%v), then stats API %+v (%v); want the same counters, the API read later", files, err, api, err2)
		}
	})

	t.Run("loadgen", func(t *testing.T) {
		out := t.TempDir()
		res, err := s.RunLoadgen(ctx, Loadgen{Workers: 2, StartAt: true, OutDir: out,
			Args: func(i int) []string {
				return []string{"loadgen", "--url", "ws://" + s.Addr("nginx", 8080) + "/", "--messages", "20"}
			}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2 {
			t.Fatalf("%d worker results, want 2", len(res))
		}
		var starts []int64
		for i, r := range res {
			if r.Dir != filepath.Join(out, "loadgen-"+string(rune('0'+i))) || r.ExitCode != 0 {
				t.Errorf("worker %d = %+v", i, r)
			}
			fr := readFakeResult(t, r.Dir)
			if fr.Messages != 20 || !strings.HasPrefix(fr.Backend, "echo-") || fr.URL != "ws://nginx:8080/" {
				t.Errorf("worker %d result = %+v; want 20 messages through ws://nginx:8080/ to an echo", i, fr)
			}
			starts = append(starts, fr.StartAt)
			if b, err := os.ReadFile(r.Log); err != nil || !strings.Contains(string(b), "20 messages") {
				t.Errorf("worker %d log = %q, %v", i, b, err)
			}
		}
		if starts[0] == 0 || starts[0] != starts[1] {
			t.Errorf("--start-at per worker = %v; want one shared instant", starts)
		}
		if got := leftovers(t, runID); strings.Contains(got, "loadgen") {
			t.Errorf("loadgen containers still present after collection:\n%s", got)
		}
	})

	t.Run("failing worker", func(t *testing.T) {
		res, err := s.RunLoadgen(ctx, Loadgen{Name: "bad", OutDir: t.TempDir(),
			Args: func(int) []string { return []string{"crash"} }})
		var we *WorkerError
		if !errors.As(err, &we) || len(res) != 1 || res[0].ExitCode != 3 {
			t.Fatalf("RunLoadgen(crash) = %+v, %v; want exit 3 as *WorkerError", res, err)
		}
		if !strings.Contains(err.Error(), "crashing on purpose") {
			t.Errorf("error %q does not quote the worker's output", err)
		}
	})

	t.Run("interrupted worker", func(t *testing.T) {
		// A worker that never ends, interrupted as by Ctrl-C: it is stopped
		// (SIGTERM, then SIGKILL after 10 s), its output collected, its
		// container removed.
		ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		start := time.Now()
		res, err := s.RunLoadgen(ictx, Loadgen{Name: "hang", OutDir: t.TempDir(),
			Args: func(int) []string { return []string{"hang"} }})
		var we *WorkerError
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &we) || len(res) != 1 {
			t.Fatalf("RunLoadgen(hang) interrupted = %+v, %v; want the deadline and the worker's exit", res, err)
		}
		t.Logf("interrupted after %v: %v", time.Since(start), err)
		if d := time.Since(start); d < 2*time.Second || d > 30*time.Second {
			t.Errorf("interrupted RunLoadgen took %v; want it to stop within the 10 s grace period", d)
		}
		if _, err := os.Stat(res[0].Log); err != nil {
			t.Errorf("no log of the interrupted worker: %v", err)
		}
		if got := leftovers(t, runID); strings.Contains(got, "hang") {
			t.Errorf("interrupted worker's container still present:\n%s", got)
		}
	})

	t.Run("crash at start", func(t *testing.T) {
		_, err := s.Start(ctx, Service{Name: "broken", Port: 9000, Args: []string{"crash"}})
		var se *StartError
		if !errors.As(err, &se) || se.Reason != "exited" || !strings.Contains(se.Tail, "crashing on purpose") {
			t.Fatalf("Start(crash) = %v; want a StartError that quotes the output", err)
		}
		failed, err := s.Failed(ctx)
		if err != nil || len(failed) != 1 || failed[0] != "broken" {
			t.Errorf("Failed() = %v, %v; want [broken]", failed, err)
		}
		dir := t.TempDir()
		p, err := s.SaveLogs(ctx, "broken", dir)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); !strings.Contains(string(b), "crashing on purpose") {
			t.Errorf("saved log %s = %q", p, b)
		}
	})

	t.Run("kill", func(t *testing.T) {
		w, err := s.StartWindow(ctx, "echo-1", "echo-2")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Kill(ctx, "echo-2"); err != nil {
			t.Fatal(err)
		}
		if err := w.Stop(ctx); err != nil || w.Ended("echo-2") || !w.Ended("echo-1") {
			t.Errorf("window over a kill: %v, ended echo-1 %v echo-2 %v; want only echo-1 ended", err, w.Ended("echo-1"), w.Ended("echo-2"))
		}
		h, _ := s.Handle("echo-2")
		if dialOK(ctx, h.HostAddr()) {
			t.Errorf("echo-2 still accepts connections after Kill")
		}
		failed, _ := s.Failed(ctx)
		for _, f := range failed {
			if f == "echo-2" {
				t.Errorf("Failed() = %v lists the killed echo-2; a kill is not a failure", failed)
			}
		}
		if got := wsEcho(t, s.mustHostAddr(t, "echo-1")); got != "echo-1" {
			t.Errorf("echo-1 answered as %q after echo-2 was killed", got)
		}
	})

	if err := s.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if got := leftovers(t, runID); got != "" {
		t.Errorf("after Down, docker still lists for run %s:\n%s", runID, got)
	}
}

func (s *Stack) mustHostAddr(t *testing.T, name string) string {
	t.Helper()
	h, ok := s.Handle(name)
	if !ok {
		t.Fatalf("no service %q", name)
	}
	return h.HostAddr()
}

// TestDockerImageCache: a second stack finds the images the first built.
func TestDockerImageCache(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	var ids []string
	for range 2 {
		s, err := Up(ctx, Spec{Binary: fakeBinary(t), Log: testLog{t}})
		if err != nil {
			s.Down(ctx)
			t.Fatal(err)
		}
		img, _ := s.Image(ctx, ImageWsbench)
		ng, err := s.Image(ctx, ImageNginx)
		s.Down(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > 0 && (img.Built || ng.Built) {
			t.Errorf("second stack rebuilt: wsbench %+v, nginx %+v", img, ng)
		}
		ids = append(ids, img.ID, ng.ID)
	}
	if ids[0] != ids[2] || ids[1] != ids[3] {
		t.Errorf("image ids differ between stacks: %v", ids)
	}
}

// TestDockerNginxImage: a user's nginx image is used when present (its
// `nginx -v` recorded); a missing one that cannot be pulled falls back to
// the image built from the host's nginx.
func TestDockerNginxImage(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	var built Image
	for _, tc := range []struct{ name, image string }{
		{"missing", "wsbench-test/no-such-nginx:1"},
		{"present", "wsbench-test/user-nginx:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "present" {
				// Stand in for a user's nginx:stable: the built image under
				// another name.
				if out, err := exec.Command("docker", "tag", built.ID, tc.image).CombinedOutput(); err != nil {
					t.Fatalf("docker tag: %v: %s", err, out)
				}
				t.Cleanup(func() { exec.Command("docker", "rmi", tc.image).Run() })
			}
			s, err := Up(ctx, Spec{Binary: fakeBinary(t), Images: map[string]string{ImageNginx: tc.image}, Log: testLog{t}})
			t.Cleanup(func() { _ = s.Down(ctx) })
			if err != nil {
				t.Fatal(err)
			}
			img, err := s.Image(ctx, ImageNginx)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(img.Version, "nginx version: nginx/") {
				t.Errorf("version = %q", img.Version)
			}
			switch tc.name {
			case "missing":
				if !strings.HasPrefix(img.Ref, imageRepo+"/nginx:") || !strings.HasPrefix(img.Source, SourceHost+" /") {
					t.Errorf("fallback image = %q from %q; want %s/nginx:<hash> from the host's nginx", img.Ref, img.Source, imageRepo)
				}
				built = img
			case "present":
				if img.Ref != tc.image || img.ID != built.ID || img.Source != SourceImage+" "+tc.image {
					t.Errorf("user image = %+v; want %s with id %s", img, tc.image, built.ID)
				}
			}
		})
	}
}

// TestDockerCancelledStart: a context cancelled while services are being
// created, started or awaited leaves nothing behind once Down ran.
func TestDockerCancelledStart(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	for _, after := range []time.Duration{50 * time.Millisecond, 400 * time.Millisecond, 1500 * time.Millisecond} {
		t.Run(after.String(), func(t *testing.T) {
			s, err := Up(ctx, Spec{Binary: fakeBinary(t), Log: testLog{t}})
			t.Cleanup(func() { _ = s.Down(ctx) })
			if err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithCancel(ctx)
			errc := make(chan error, 2)
			// "hang" never listens: Start waits for its port until cancelled.
			for _, name := range []string{"hang-1", "hang-2"} {
				go func() {
					_, err := s.Start(cctx, Service{Name: name, Port: 9000, Args: []string{"hang"}})
					errc <- err
				}()
			}
			time.Sleep(after)
			cancel()
			for range 2 {
				err := <-errc
				t.Logf("cancelled Start: %v", err)
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Start after cancel = %v; want context.Canceled", err)
				}
			}
			if err := s.Down(cctx); err != nil { // an already-cancelled ctx, as after Ctrl-C
				t.Fatal(err)
			}
			if got := leftovers(t, s.RunID()); got != "" {
				t.Errorf("after a cancelled start and Down, docker still lists:\n%s", got)
			}
		})
	}
}

// TestDockerCancelledUp: cancellation anywhere in Up (binary hash, image
// lookup, network create) leaves nothing once Down ran.
func TestDockerCancelledUp(t *testing.T) {
	needDocker(t)
	bin := fakeBinary(t)
	for _, after := range []time.Duration{5 * time.Millisecond, 20 * time.Millisecond, 60 * time.Millisecond} {
		t.Run(after.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), after)
			defer cancel()
			s, err := Up(ctx, Spec{Binary: bin, Log: testLog{t}})
			t.Logf("Up: %v", err)
			<-ctx.Done()
			if err := s.Down(ctx); err != nil {
				t.Fatal(err)
			}
			if s != nil {
				if got := leftovers(t, s.RunID()); got != "" {
					t.Errorf("after a cancelled Up and Down, docker still lists:\n%s", got)
				}
			}
		})
	}
}

// TestDockerHostNetwork runs a backend and nginx in the host's network
// namespace, on loopback addresses.
func TestDockerHostNetwork(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	s, err := Up(ctx, Spec{Binary: fakeBinary(t), Network: NetworkHost, Log: testLog{t},
		CPUSet: map[string]string{"echo": "1"}, FileLimit: 4096})
	t.Cleanup(func() { _ = s.Down(ctx) })
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.Start(ctx, Service{Name: "echo", Port: 9000, WaitLog: `listening on`,
		Args: []string{"serve", "--listen", s.Bind("echo", 9000), "--id", "host-echo"}})
	if err != nil {
		t.Fatal(err)
	}
	ins, err := s.be.(*dockerBackend).cli.ContainerInspect(ctx, h.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hc := ins.Container.HostConfig
	if hc.CpusetCpus != "1" || string(hc.NetworkMode) != "host" || len(hc.Ulimits) != 1 ||
		hc.Ulimits[0].Name != "nofile" || hc.Ulimits[0].Hard != 4096 {
		t.Errorf("host config: cpuset %q, network %q, ulimits %v; want cpuset 1 (role echo), host, nofile 4096",
			hc.CpusetCpus, hc.NetworkMode, hc.Ulimits)
	}
	if !strings.HasPrefix(h.Addr(), "127.") || h.Addr() != h.HostAddr() {
		t.Errorf("host-mode Addr %q HostAddr %q; want one loopback address", h.Addr(), h.HostAddr())
	}
	if got := wsEcho(t, h.Addr()); got != "host-echo" {
		t.Errorf("backend = %q, want host-echo", got)
	}
	conf := nginxConf(s, "nginx", 8080, s.Addr("echo", 9000))
	ng, err := s.Start(ctx, Service{Name: "nginx", Image: ImageNginx, Port: 8080, Files: map[string][]byte{NginxConf: conf}})
	if err != nil {
		t.Fatal(err)
	}
	if got := wsEcho(t, ng.Addr()); got != "host-echo" {
		t.Errorf("through host-mode nginx: backend = %q, want host-echo", got)
	}
	// nginx resolves upstream names at start: an unknown one is fatal, and
	// the error quotes nginx's own message.
	bad := nginxConf(s, "nginx-bad", 8081, "no-such-backend:9000")
	_, err = s.Start(ctx, Service{Name: "nginx-bad", Image: ImageNginx, Port: 8081, Files: map[string][]byte{NginxConf: bad}})
	var se *StartError
	if !errors.As(err, &se) || !strings.Contains(se.Tail, "host not found in upstream") {
		t.Errorf("nginx with an unknown upstream: %v; want a StartError quoting nginx's emerg", err)
	}
}

// TestDockerRealWsbench measures nginx with the real wsbench image built
// from this module: see realTopology.
func TestDockerRealWsbench(t *testing.T) {
	needDocker(t)
	realTopology(t, Spec{Log: testLog{t}}) // module found from the working directory
}

// TestDockerFileLimitRefused: a file limit above the engine's own is
// refused with advice, not runc's "rlimit type 7".
func TestDockerFileLimitRefused(t *testing.T) {
	needDocker(t)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Max > 1<<20 {
		testenv.Need(t, errors.New("the engine's file limit is not known to be low here"))
	}
	ctx := context.Background()
	s, err := Up(ctx, Spec{Binary: fakeBinary(t), FileLimit: int(lim.Max) + 10000, Log: testLog{t}})
	t.Cleanup(func() { _ = s.Down(ctx) })
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Start(ctx, Service{Name: "echo", Port: 9000, Args: []string{"serve", "--listen", s.Bind("echo", 9000)}})
	if err == nil {
		testenv.Need(t, errors.New("this engine accepts a file limit above ours"))
	}
	if !strings.Contains(err.Error(), "refused a file limit (nofile)") {
		t.Errorf("Start with too high a file limit: %v; want advice naming the file limit", err)
	}
}

// TestNoDocker: an engine that does not answer is ErrNoDocker, with advice.
func TestNoDocker(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no.sock"))
	s, err := Up(context.Background(), Spec{Binary: "/bin/true"})
	defer s.Down(context.Background())
	if !errors.Is(err, ErrNoDocker) || !strings.Contains(err.Error(), "--runtime local") {
		t.Fatalf("Up without docker = %v; want ErrNoDocker mentioning --runtime local", err)
	}
}

// TestDockerCleanupRun: the stacks of one run share its run id, so
// Cleanup(run id) removes every one of them after a run that died before
// its Downs, whatever their stack ids; Down removes its own stack only;
// another run's stack is left alone.
func TestDockerCleanupRun(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	bin := fakeBinary(t)
	runID, otherID := NewRunID(), NewRunID()
	up := func(spec Spec) *Stack {
		t.Helper()
		spec.Binary, spec.Log = bin, testLog{t}
		s, err := Up(ctx, spec)
		t.Cleanup(func() { _ = s.Down(ctx) })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Start(ctx, Service{Name: "echo", Port: 9000, Args: []string{"serve", "--listen", s.Bind("echo", 9000)}}); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// As `wsbench run` brings them up: one stack per scenario and group.
	first := up(Spec{RunID: runID, StackID: runID + "-1-1"})
	up(Spec{RunID: runID, StackID: runID + "-2-1"})
	up(Spec{RunID: runID, StackID: runID + "-2-2"})
	other := up(Spec{RunID: otherID})

	if err := first.Down(ctx); err != nil {
		t.Fatal(err)
	}
	got := leftovers(t, runID)
	if strings.Contains(got, runID+"-1-1") || !strings.Contains(got, runID+"-2-1") || !strings.Contains(got, runID+"-2-2") {
		t.Fatalf("after one stack's Down, docker lists:\n%s\nwant that stack gone and the run's two others kept", got)
	}
	containers, networks, err := Cleanup(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if containers != 2 || networks != 2 {
		t.Errorf("Cleanup(%s) removed %d containers and %d networks, want 2 and 2", runID, containers, networks)
	}
	if got := leftovers(t, runID); got != "" {
		t.Errorf("after Cleanup(%s), docker still lists:\n%s", runID, got)
	}
	if got := leftovers(t, other.RunID()); !strings.Contains(got, "wsbench-"+otherID+"-echo") {
		t.Errorf("Cleanup(%s) removed another run's stack: docker lists %q for %s", runID, got, otherID)
	}
}

// TestDockerPinnedImageFallsThrough: with no Spec.Images, nginx comes from
// its pinned official image when present or pullable, else from the
// host. Where no registry answers (as where wsbench is developed) the pull
// fails, the host's nginx is used, and the next stack does not pull again.
func TestDockerPinnedImageFallsThrough(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	for i := range 2 {
		var log syncbuf.Buffer
		s, err := Up(ctx, Spec{Binary: fakeBinary(t), Log: io.MultiWriter(&log, testLog{t})})
		if err != nil {
			s.Down(ctx)
			t.Fatal(err)
		}
		start := time.Now()
		img, err := s.Image(ctx, ImageNginx)
		s.Down(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("stack %d: nginx from %q in %v", i+1, img.Source, time.Since(start))
		switch {
		case strings.HasPrefix(img.Source, SourceImage+" "+nginxProgram.Image):
			// A registry answered: the official image runs.
			if img.Ref != nginxProgram.Image || !strings.HasPrefix(img.Version, "nginx version: nginx/1.22") {
				t.Errorf("official image = %+v", img)
			}
		case strings.HasPrefix(img.Source, SourceHost+" /"):
			if _, failed := pullFailed.Load(nginxProgram.Image); !failed {
				t.Errorf("the host's nginx was used, yet no failed pull of %s is recorded", nginxProgram.Image)
			}
			if i == 1 && strings.Contains(log.String(), "pulling") {
				t.Errorf("the second stack pulled again:\n%s", log.String())
			}
		default:
			t.Errorf("nginx source %q: want %s %s… or %s /…", img.Source, SourceImage, nginxProgram.Image, SourceHost)
		}
	}
}

// TestDockerDynamicBinary: a dynamically linked wsbench (what a plain `go
// build` with cgo makes) runs in its image with the libraries ldd lists:
// it serves, and a worker reaches it by its network alias.
func TestDockerDynamicBinary(t *testing.T) {
	needDocker(t)
	bin := filepath.Join(t.TempDir(), "wsbench")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./internal/fakewsbench")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		testenv.Need(t, fmt.Errorf("a cgo build (it needs a C compiler): %v: %s", err, out))
	}
	if static, err := linuxELF(bin); static || err != nil {
		t.Fatalf("the cgo build is static %v, %v; want a dynamic one", static, err)
	}
	ctx := context.Background()
	s, err := Up(ctx, Spec{Binary: bin, Log: testLog{t}})
	t.Cleanup(func() { _ = s.Down(ctx) })
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.Start(ctx, Service{Name: "echo", Port: 9000, Args: []string{"serve", "--listen", s.Bind("echo", 9000), "--id", "echo"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := wsEcho(t, h.HostAddr()); got != "echo" {
		t.Errorf("backend header = %q, want echo", got)
	}
	res, err := s.RunLoadgen(ctx, Loadgen{OutDir: t.TempDir(),
		Args: func(int) []string {
			return []string{"loadgen", "--url", "ws://" + s.Addr("echo", 9000) + "/", "--messages", "5"}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if fr := readFakeResult(t, res[0].Dir); fr.Messages != 5 || fr.Backend != "echo" {
		t.Errorf("worker result = %+v; want 5 messages from echo", fr)
	}
}
