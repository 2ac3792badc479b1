package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// localBackend runs the topology as processes of this host, each service
// on its own 127.x.y.z address.
type localBackend struct {
	spec   *Spec
	dir    string // work dir: svc/<name>/…, logs/<name>.log, bin/wsbench
	ownDir bool

	imgMu sync.Mutex
	imgs  map[string]Image

	mu    sync.Mutex
	procs []*process
}

// process is a started service or worker.
type process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when it exited
	err  error         // Wait's result, valid after done
}

func newLocal(_ context.Context, spec *Spec) (*localBackend, error) {
	b := &localBackend{spec: spec, imgs: map[string]Image{}, dir: spec.WorkDir}
	if b.dir == "" {
		dir, err := os.MkdirTemp("", "wsbench-local-"+spec.StackID+"-")
		if err != nil {
			return nil, fmt.Errorf("stack: work dir: %w", err)
		}
		b.dir, b.ownDir = dir, true
	}
	for _, d := range []string{"svc", "logs", "bin"} {
		if err := os.MkdirAll(filepath.Join(b.dir, d), 0o755); err != nil {
			return b, fmt.Errorf("stack: work dir: %w", err)
		}
	}
	return b, nil
}

func (b *localBackend) image(ctx context.Context, kind string) (Image, error) {
	b.imgMu.Lock()
	defer b.imgMu.Unlock()
	if img, ok := b.imgs[kind]; ok {
		return img, nil
	}
	var bin, version, source string
	var err error
	if p, ok := proxyProgram(kind); ok {
		if bin, source, err = hostProxy(ctx, b.spec, p, hostInstaller); err == nil {
			version, err = p.version(ctx, bin)
		}
		if err == nil {
			announce(b.spec.Log, kind, source, version)
		}
	} else {
		bin, err = wsbenchBinary(ctx, b.spec, filepath.Join(b.dir, "bin"))
	}
	if err != nil {
		return Image{}, err
	}
	sum, err := fileSHA256(bin)
	if err != nil {
		return Image{}, fmt.Errorf("stack: hash %s: %w", bin, err)
	}
	img := Image{Kind: kind, Ref: bin, ID: "sha256:" + sum, Built: kind == ImageWsbench && filepath.Dir(bin) == filepath.Join(b.dir, "bin"), Version: version, Source: source}
	b.imgs[kind] = img
	return img, nil
}

// writeFiles writes files (slash paths → contents) under root, making
// directories as needed: a service's view of its own file system.
func writeFiles(root string, files map[string][]byte) error {
	for p, data := range files {
		dst := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (b *localBackend) start(ctx context.Context, svc *Service, h *Handle) error {
	root := filepath.Join(b.dir, "svc", svc.Name)
	if err := writeFiles(root, svc.Files); err != nil {
		return fmt.Errorf("stack: %q: %w", svc.Name, err)
	}
	args := svc.Args
	if p, ok := program(svc.Image); ok {
		args = append(p.Args(filepath.Join(root, filepath.FromSlash(p.Conf))), svc.Args...)
	} else if svc.Image == ImageNginx {
		// -p keeps relative paths of the config inside the service's dir.
		args = append([]string{"-e", "stderr", "-g", "daemon off;", "-p", root + "/",
			"-c", filepath.Join(root, filepath.FromSlash(NginxConf))}, svc.Args...)
	}
	p, err := b.spawn(ctx, h.Image.Ref, args, svc.Env, filepath.Join(b.dir, "logs", svc.Name+".log"), h.Role)
	if err != nil {
		return fmt.Errorf("stack: start %q: %w", svc.Name, err)
	}
	h.setRuntime(fmt.Sprintf("pid %d", p.cmd.Process.Pid), p)
	return waitReady(ctx, svc, h, b)
}

// spawn starts bin with its output in logPath, in its own process group
// (so a kill reaches nginx's workers), killed if this process dies, with
// the role's cpuset and the file limit.
func (b *localBackend) spawn(ctx context.Context, bin string, args []string, env map[string]string, logPath, role string) (*process, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own copy
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var cpus []int
	if set := b.spec.CPUSet[role]; set != "" {
		cpus, _ = ParseCPUSet(set) // validated by Spec.normalize
	}
	if err := startWith(cmd, cpus, b.spec.FileLimit); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	b.mu.Lock()
	b.procs = append(b.procs, p)
	b.mu.Unlock()
	return p, nil
}

// startWith starts cmd from a thread pinned to cpus (the child inherits
// the affinity of the thread that forks it) and sets its file limit.
func startWith(cmd *exec.Cmd, cpus []int, fileLimit int) error {
	if len(cpus) == 0 {
		if err := cmd.Start(); err != nil {
			return err
		}
		return setFileLimit(cmd.Process.Pid, fileLimit)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return fmt.Errorf("cpuset: %w", err)
	}
	for _, c := range cpus {
		set.Set(c)
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("cpuset %v: %w", cpus, err)
	}
	err := cmd.Start()
	if rerr := unix.SchedSetaffinity(0, &old); rerr != nil && err == nil {
		err = fmt.Errorf("cpuset: restore: %w", rerr)
	}
	if err != nil {
		return err
	}
	return setFileLimit(cmd.Process.Pid, fileLimit)
}

// setFileLimit sets a started child's RLIMIT_NOFILE; a Go child raises its
// soft limit to the hard one itself, so both are set.
func setFileLimit(pid, n int) error {
	lim := unix.Rlimit{Cur: uint64(n), Max: uint64(n)}
	var cur unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, nil, &cur); err == nil && cur.Max < lim.Max {
		// Raising a hard limit needs privileges we may lack: refuse
		// clearly rather than run with fewer files than asked.
		if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &lim, nil); err != nil {
			return fmt.Errorf("file limit %d for pid %d: the hard limit is %d (%w); lower the file limit or split load over more workers", n, pid, cur.Max, err)
		}
		return nil
	}
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &lim, nil); err != nil {
		return fmt.Errorf("file limit %d for pid %d: %w", n, pid, err)
	}
	return nil
}

func (b *localBackend) exited(_ context.Context, h *Handle) (bool, error) {
	select {
	case <-h.runtime().(*process).done:
		return true, nil
	default:
		return false, nil
	}
}

func (b *localBackend) kill(_ context.Context, h *Handle) error {
	p := h.runtime().(*process)
	killGroup(p, syscall.SIGKILL)
	<-p.done
	return nil
}

// killGroup signals the process group of p (and p itself, in case it left
// it), unless p was already reaped: its pid may belong to another by now.
func killGroup(p *process, sig syscall.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	pid := p.cmd.Process.Pid
	_ = syscall.Kill(-pid, sig)
	_ = syscall.Kill(pid, sig)
}

func (b *localBackend) logs(_ context.Context, h *Handle) ([]byte, error) {
	return os.ReadFile(h.runtime().(*process).log)
}

func (b *localBackend) usage(_ context.Context, h *Handle) (Usage, error) {
	p := h.runtime().(*process)
	select {
	case <-p.done:
		return Usage{At: time.Now()}, nil // like a stopped container: nothing running
	default:
	}
	return treeUsage(p.cmd.Process.Pid)
}

func (b *localBackend) runWorker(ctx context.Context, lg *Loadgen, name string, args func(string) []string, dst string) (int, error) {
	root := filepath.Join(b.dir, "svc", name)
	if err := writeFiles(root, lg.Files); err != nil {
		return 0, err
	}
	img, err := b.image(ctx, ImageWsbench)
	if err != nil {
		return 0, err
	}
	p, err := b.spawn(ctx, img.Ref, args(dst), nil, dst+".log", lg.Role)
	if err != nil {
		return 0, err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		// Interrupted: SIGTERM lets the loadgen write partial results.
		killGroup(p, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			killGroup(p, syscall.SIGKILL)
			<-p.done
		}
	}
	return exitCode(p.cmd.ProcessState), nil
}

// exitCode is the shell's view of how a process ended: its status, or
// 128+signal when a signal ended it.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

func (b *localBackend) down(context.Context) error {
	b.mu.Lock()
	procs := b.procs
	b.procs = nil
	b.mu.Unlock()
	for _, p := range procs {
		killGroup(p, syscall.SIGKILL)
	}
	for _, p := range procs {
		<-p.done
	}
	if b.ownDir {
		if err := os.RemoveAll(b.dir); err != nil {
			return fmt.Errorf("stack: remove work dir: %w", errors.Unwrap(err))
		}
	}
	return nil
}
