package stack

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
)

// ErrNoDocker is returned (wrapped) by Up when the docker runtime was asked
// for and no Docker engine answers. `wsbench run` exits 2 on it.
var ErrNoDocker = errors.New("stack: docker is not available; start it (e.g. `sudo systemctl start docker`, or `sudo dockerd &`) or use --runtime local")

// Stack is a running topology. Its methods are safe for concurrent use.
type Stack struct {
	spec Spec
	be   backend

	mu       sync.Mutex
	handles  map[string]*Handle
	ips      map[string]netip.Addr // local runtime and host network: one loopback address per name
	ipPrefix [3]byte               // 127.x.y
	downed   bool
}

// Handle is one started service.
type Handle struct {
	Name  string
	Role  string
	ID    string // container id, or "pid N" in the local runtime
	Image Image

	addr     string // host:port as other services dial it
	hostAddr string // host:port as this process dials it, "" if none
	probe    string // host:port the readiness check dials (never docker-proxy)

	mu     sync.Mutex
	killed bool // by Kill: its death is expected
	rt     any  // runtime state: *dockerService or *process
}

func (h *Handle) setRuntime(id string, rt any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ID, h.rt = id, rt
}

func (h *Handle) runtime() any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rt
}

// Addr is host:port at which other services (and loadgen workers) reach
// the service: its alias in bridge mode, its loopback address otherwise.
func (h *Handle) Addr() string { return h.addr }

// HostAddr is host:port at which this process reaches the service: the
// published port (Service.Publish) or the loopback address, else "".
func (h *Handle) HostAddr() string { return h.hostAddr }

// Image describes what a service runs: an image built or found by the
// stack, or in the local runtime the binary itself.
type Image struct {
	Kind    string // ImageWsbench, ImageNginx or a Program's kind
	Ref     string // image tag, or the binary's path
	ID      string // image id, or sha256 of the binary
	Built   bool   // built by this stack (false: found in the cache or given)
	Version string // "nginx version: nginx/1.22.1" for nginx; "" for wsbench
	// Source says where a proxy came from: SourceImage, SourceHost or
	// SourceInstalled, then the image or path ("host /usr/sbin/nginx").
	Source string
}

// backend is what a runtime provides.
type backend interface {
	image(ctx context.Context, kind string) (Image, error)
	start(ctx context.Context, svc *Service, h *Handle) error
	// ownImage finds a user's own image (ImageRef) or binary (Binary).
	ownImage(ctx context.Context, svc *Service) (Image, error)
	// check runs the proxy's own check of its configuration on svc's
	// files: its output, exit code, and the configuration's path as the
	// check saw it.
	check(ctx context.Context, svc *Service, img Image) (out []byte, code int, conf string, err error)
	kill(ctx context.Context, h *Handle) error
	exited(ctx context.Context, h *Handle) (bool, error)
	usage(ctx context.Context, h *Handle) (Usage, error)
	logs(ctx context.Context, h *Handle) ([]byte, error)
	// runWorker runs loadgen worker name with args, writes its result
	// directory to dst and its output to dst+".log", and returns its exit code.
	runWorker(ctx context.Context, lg *Loadgen, name string, args func(out string) []string, dst string) (int, error)
	down(ctx context.Context) error
}

// Up prepares a stack: checks the runtime, builds or finds the wsbench
// image (or binary), and in bridge mode creates the run's network.
// Services are started with Start, in dependency order (nginx resolves
// upstream names when it starts). Call Down in every case, even after an
// error from Up: it removes whatever was created.
func Up(ctx context.Context, spec Spec) (*Stack, error) {
	if err := spec.normalize(); err != nil {
		return nil, err
	}
	s := &Stack{spec: spec, handles: map[string]*Handle{}, ips: map[string]netip.Addr{}}
	h := fnv.New32a()
	h.Write([]byte(spec.StackID))
	sum := h.Sum32()
	// Services live in a /24 of their own, far from 127.0.0.x where load
	// generators pick source addresses, and different for concurrent runs.
	s.ipPrefix = [3]byte{127, byte(200 + sum%50), byte(sum >> 8)}
	// A backend that failed half-way is kept, so that Down removes what
	// it created (a network, a work directory).
	if s.spec.Runtime == RuntimeLocal {
		lb, err := newLocal(ctx, &s.spec)
		if lb != nil {
			s.be = lb
		}
		if err != nil {
			return s, err
		}
	} else {
		db, err := newDocker(ctx, &s.spec)
		if db != nil {
			s.be = db
		}
		if err != nil {
			return s, err
		}
	}
	if _, err := s.be.image(ctx, ImageWsbench); err != nil {
		return s, err
	}
	return s, nil
}

// RunID is the run id every container and network of this stack is
// labelled with (wsbench.run).
func (s *Stack) RunID() string { return s.spec.RunID }

// Spec returns the normalized spec (defaults filled in).
func (s *Stack) Spec() Spec { return s.spec }

// Image returns the image (or binary) of a kind, building it if needed:
// ImageWsbench, ImageNginx or a Program's kind. The result records ids and
// the proxy's version.
func (s *Stack) Image(ctx context.Context, kind string) (Image, error) {
	if _, ok := program(kind); !ok && kind != ImageWsbench && kind != ImageNginx {
		return Image{}, fmt.Errorf("stack: image kind %q: want one of %s", kind, imageKinds())
	}
	return s.be.image(ctx, kind)
}

// loopback returns the loopback address of a name, allocating one.
func (s *Stack) loopback(name string) (netip.Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.ips[name]; ok {
		return a, nil
	}
	n := len(s.ips) + 1
	if n > 254 {
		return netip.Addr{}, fmt.Errorf("stack: %d services: at most 254 loopback addresses per run", n)
	}
	a := netip.AddrFrom4([4]byte{s.ipPrefix[0], s.ipPrefix[1], s.ipPrefix[2], byte(n)})
	s.ips[name] = a
	return a, nil
}

// onLoopback reports whether services live on loopback addresses rather
// than behind network aliases.
func (s *Stack) onLoopback() bool {
	return s.spec.Runtime == RuntimeLocal || s.spec.Network == NetworkHost
}

// Addr returns host:port at which other services reach service name on
// port. It can be called before the service starts (to render a proxy's
// configuration that names its backends).
func (s *Stack) Addr(name string, port int) string {
	if !s.onLoopback() {
		return net.JoinHostPort(name, strconv.Itoa(port))
	}
	a, err := s.loopback(name)
	if err != nil {
		return net.JoinHostPort(name, strconv.Itoa(port)) // fails at Start with the same error
	}
	return netip.AddrPortFrom(a, uint16(port)).String()
}

// Bind returns the address service name should listen on for port.
func (s *Stack) Bind(name string, port int) string {
	if !s.onLoopback() {
		return "0.0.0.0:" + strconv.Itoa(port)
	}
	return s.Addr(name, port)
}

// Path returns the path under which service name sees file p (an
// absolute path as given in Service.Files): p itself in a container, a
// path under the stack's work directory in the local runtime.
func (s *Stack) Path(name, p string) string {
	lb, ok := s.be.(*localBackend)
	if !ok {
		return p
	}
	return filepath.Join(lb.dir, "svc", name, filepath.FromSlash(p))
}

// Start starts a service and waits until it is ready: its Port accepts
// connections, or a line of its output matches WaitLog. If it exits or
// times out first, the error carries the tail of its output.
func (s *Stack) Start(ctx context.Context, svc Service) (*Handle, error) {
	if err := svc.validate(); err != nil {
		return nil, err
	}
	if svc.Image == "" && svc.ImageRef == "" && svc.Binary == "" {
		svc.Image = ImageWsbench
	}
	s.mu.Lock()
	if s.downed {
		s.mu.Unlock()
		return nil, fmt.Errorf("stack: start %q: the stack is down", svc.Name)
	}
	if _, dup := s.handles[svc.Name]; dup {
		s.mu.Unlock()
		return nil, fmt.Errorf("stack: start %q: a service of that name already exists", svc.Name)
	}
	h := &Handle{Name: svc.Name, Role: svc.role()}
	s.handles[svc.Name] = h
	s.mu.Unlock()

	img, err := s.serviceImage(ctx, &svc)
	if err != nil {
		return nil, err
	}
	h.Image = img
	if svc.Port > 0 {
		h.addr = s.Addr(svc.Name, svc.Port)
		if s.onLoopback() {
			h.hostAddr, h.probe = h.addr, h.addr
		}
	}
	if err := s.be.start(ctx, &svc, h); err != nil {
		return h, err
	}
	return h, nil
}

// serviceImage is the image (or binary) svc runs.
func (s *Stack) serviceImage(ctx context.Context, svc *Service) (Image, error) {
	if svc.ImageRef != "" || svc.Binary != "" {
		return s.be.ownImage(ctx, svc)
	}
	return s.be.image(ctx, svc.Image)
}

// CheckError is a proxy's own check refusing its configuration: Output is
// what the proxy said, Conf the configuration's path as it saw it.
type CheckError struct {
	Service, Conf string
	Code          int
	Output        []byte
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("stack: %s: the configuration check failed (exit %d): %s", e.Service, e.Code, tail(e.Output, 5))
}

// Check runs the proxy's own check of svc's configuration (nginx -t,
// Program.Check) where svc would run — a throwaway container of its
// image, or its binary in a work directory — without starting it. A
// configuration the proxy refuses is a *CheckError.
func (s *Stack) Check(ctx context.Context, svc Service) error {
	if err := svc.validate(); err != nil {
		return err
	}
	if p, ok := program(svc.Image); svc.Image != ImageNginx && (!ok || p.Check == nil) {
		return fmt.Errorf("stack: service %q: image %q has no configuration check", svc.Name, svc.Image)
	}
	img, err := s.be.image(ctx, svc.Image)
	if err != nil {
		return err
	}
	out, code, conf, err := s.be.check(ctx, &svc, img)
	if err != nil {
		return fmt.Errorf("stack: check %q: %w", svc.Name, err)
	}
	if code != 0 {
		return &CheckError{Service: svc.Name, Conf: conf, Code: code, Output: out}
	}
	return nil
}

// Handle returns a started service by name.
func (s *Stack) Handle(name string) (*Handle, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.handles[name]
	return h, ok
}

func (s *Stack) handle(name string) (*Handle, error) {
	h, ok := s.Handle(name)
	if !ok || h.runtime() == nil {
		return nil, fmt.Errorf("stack: no running service %q", name)
	}
	return h, nil
}

// Kill stops service name at once (SIGKILL), as a crash would: its peers
// see their connections reset or closed. The service stays listed and its
// logs remain readable.
func (s *Stack) Kill(ctx context.Context, name string) error {
	h, err := s.handle(name)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.killed = true
	h.mu.Unlock()
	if err := s.be.kill(ctx, h); err != nil {
		return fmt.Errorf("stack: kill %q: %w", name, err)
	}
	return nil
}

// Failed returns the services that exited without being killed, sorted:
// a caller saves their logs (SaveLogs) next to the results.
func (s *Stack) Failed(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	hs := make([]*Handle, 0, len(s.handles))
	for _, h := range s.handles {
		hs = append(hs, h)
	}
	s.mu.Unlock()
	var failed []string
	for _, h := range hs {
		h.mu.Lock()
		killed := h.killed
		h.mu.Unlock()
		if killed {
			continue
		}
		if h.runtime() == nil { // never got started: that is a failure too
			failed = append(failed, h.Name)
			continue
		}
		dead, err := s.be.exited(ctx, h)
		if err != nil {
			return nil, fmt.Errorf("stack: state of %q: %w", h.Name, err)
		}
		if dead {
			failed = append(failed, h.Name)
		}
	}
	sort.Strings(failed)
	return failed, nil
}

// Logs returns a service's output so far (stdout and stderr interleaved).
func (s *Stack) Logs(ctx context.Context, name string) ([]byte, error) {
	h, err := s.handle(name)
	if err != nil {
		return nil, err
	}
	b, err := s.be.logs(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("stack: logs of %q: %w", name, err)
	}
	return b, nil
}

// SaveLogs writes a service's output to dir/<name>.log and returns the path.
func (s *Stack) SaveLogs(ctx context.Context, name, dir string) (string, error) {
	b, err := s.Logs(ctx, name)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("stack: save logs of %q: %w", name, err)
	}
	p := filepath.Join(dir, name+".log")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return "", fmt.Errorf("stack: save logs of %q: %w", name, err)
	}
	return p, nil
}

// Down stops and removes everything of the stack: containers and network
// (by label, so also what a cancelled Start left half-made), or the local
// processes and work directory. It runs to completion even when ctx is
// already cancelled (Ctrl-C), bounded by 30 s.
func (s *Stack) Down(ctx context.Context) error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	s.downed = true
	s.mu.Unlock()
	if s.be == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return s.be.down(ctx)
}
