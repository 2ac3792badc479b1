package stack

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Runtimes.
const (
	RuntimeDocker = "docker" // containers under testcontainers-go (default)
	RuntimeLocal  = "local"  // processes on 127.x.y.z, nginx from PATH
)

// Network modes of the docker runtime.
const (
	NetworkBridge = ""     // one user-defined bridge network per run; services by alias
	NetworkHost   = "host" // every container in the host's network namespace, on loopback
)

// Images a Service can run.
const (
	ImageWsbench = "wsbench" // the wsbench binary built from the current source
	ImageNginx   = "nginx"   // nginx:1.22 (Spec.Images), or one built from the host's nginx
)

// Labels put on every container and network the stack creates, so that
// Down and Cleanup find them even when no handle survived.
const (
	LabelRun     = "wsbench.run"     // the run id (Spec.RunID), shared by all stacks of a run
	LabelStack   = "wsbench.stack"   // this stack's id (Spec.StackID): Down removes by it
	LabelService = "wsbench.service" // the service name
	LabelRole    = "wsbench.role"    // the service role
)

// DefaultFileLimit is the open-file limit given to every container and
// local process: the hard limit of this machine class.
const DefaultFileLimit = 20000

// Spec describes a stack before it exists. Its zero value is a working
// default: docker runtime, a bridge network per run, a generated run id,
// the wsbench binary built from the module that contains the working
// directory, nginx built from the host's nginx.
type Spec struct {
	RunID   string // labels everything (wsbench.run), so Cleanup finds a run's stacks; "" = generated
	Runtime string // RuntimeDocker ("" too) or RuntimeLocal
	Network string // NetworkBridge or NetworkHost (docker runtime only)
	// StackID names this stack's containers and labels everything it
	// creates (wsbench.stack), for Down; a run that brings up several
	// stacks gives each its own, e.g. <run id>-<scenario>-<group>.
	// "" = RunID.
	StackID string
	// CPUSet pins a role's containers or processes to CPUs, e.g.
	// {"nginx": "1", "loadgen": "0"}; syntax as in taskset -c / docker --cpuset-cpus.
	CPUSet map[string]string
	// Images names, by proxy kind, the image the docker runtime tries
	// first, used when present locally or pullable, e.g.
	// {"nginx": "nginx:stable"}. A kind not in it tries its pinned
	// official image (nginx:1.22, Program.Image); an empty value tries
	// none. Then comes the host's binary (an image built FROM scratch
	// from it), then installing it (Install). Ignored by the local
	// runtime, which runs host binaries.
	Images map[string]string
	// Install is InstallAuto ("" too) or InstallNever: whether a proxy
	// missing from the host is installed (apt-get, go install) as root.
	Install string
	// ModuleDir is the root of the wsbench module to build; "" = found by
	// walking up from the working directory, else this executable when it
	// is wsbench. Binary, when set, is used as is instead (a linux binary
	// for the docker runtime; a dynamic one gets the libraries ldd lists).
	ModuleDir string
	Binary    string
	// NginxPath is the host nginx (image source and local runtime);
	// "" = nginx from PATH, then /usr/sbin/nginx.
	NginxPath string
	// FileLimit is RLIMIT_NOFILE for every service; 0 = DefaultFileLimit.
	FileLimit int
	// WorkDir holds local-runtime files, logs and the built binary;
	// "" = a temporary directory removed by Down.
	WorkDir string
	// Log receives progress lines (image builds, starts); nil = discarded.
	Log io.Writer
}

// Service is one long-running member of the topology: an echo backend, a
// proxy under test, nginx.
type Service struct {
	// Name is unique in the stack; it is the network alias other services
	// dial in bridge mode, and names its logs.
	Name string
	// Role selects the CPUSet entry and labels the container ("echo",
	// "refproxy", "nginx", …); "" = the Name.
	Role string
	// Image is ImageWsbench (default), ImageNginx or a Program's kind.
	Image string
	// ImageRef runs a user's own image instead (docker runtime only): an
	// image present locally, with its own entrypoint and Args as its
	// command. Binary runs a user's own binary (local runtime only): a
	// path, or a name in PATH, with Args. Either leaves Image empty.
	ImageRef, Binary string
	// Args are the wsbench arguments (e.g. "echo", "--listen", addr). For
	// ImageNginx the stack runs nginx itself: Args are extra nginx flags.
	Args []string
	// Files are written before the service starts, by absolute path as the
	// service sees it. Use Stack.Path to name them in Args and configs; for
	// ImageNginx, Files must hold NginxConf.
	Files map[string][]byte
	// Env adds environment variables.
	Env map[string]string
	// Port is the TCP port the service listens on. Start waits until it
	// accepts connections (unless WaitLog is set).
	Port int
	// WaitLog, when set, is a regular expression that a line of the
	// service's output matches once it is ready.
	WaitLog string
	// Publish also publishes Port on the host's 127.0.0.1 (docker bridge
	// mode), for checks from outside the network only: a published port
	// goes through docker-proxy and must not be in a measured path.
	Publish bool
	// StartTimeout bounds the wait for readiness; 0 = 30 s.
	StartTimeout time.Duration
}

// NginxConf is where the stack tells nginx to read its configuration
// (Stack.Path of it in the local runtime).
const NginxConf = "/etc/nginx/nginx.conf"

// Loadgen describes one load-generator run split over Workers processes
// or containers started together.
type Loadgen struct {
	// Name prefixes the workers' names: <Name>-0 … <Name>-(N-1); "" = "loadgen".
	Name string
	// Workers is how many load generators share the work; 0 = 1.
	Workers int
	// Args returns worker i's wsbench arguments (e.g. "loadgen", "--url",
	// …, with its share of the connections and rate). The stack appends
	// "--out DIR" itself, and "--start-at <unix-ms>" when StartAt is set.
	Args func(worker int) []string
	// StartAt makes all workers start their load at the same wall-clock
	// instant, a little after the last one was launched.
	StartAt bool
	// Files are written into every worker before it starts.
	Files map[string][]byte
	// OutDir receives worker i's result directory as OutDir/<Name>-i, and
	// its output as OutDir/<Name>-i.log.
	OutDir string
	// Timeout bounds the whole run; 0 = no bound beyond ctx.
	Timeout time.Duration
	// Role selects the CPUSet entry; "" = "loadgen".
	Role string
}

// containerOut is where a loadgen container writes its results.
const containerOut = "/out"

var (
	nameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	runIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
)

// NewRunID returns a fresh run id: UTC time plus random bits, sortable.
func NewRunID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// normalize fills defaults and validates the spec.
func (s *Spec) normalize() error {
	if s.RunID == "" {
		s.RunID = NewRunID()
	}
	if !runIDRE.MatchString(s.RunID) {
		return fmt.Errorf("stack: run id %q: want letters, digits, '.', '_' or '-' (at most 64)", s.RunID)
	}
	if s.StackID == "" {
		s.StackID = s.RunID
	}
	if !runIDRE.MatchString(s.StackID) {
		return fmt.Errorf("stack: stack id %q: want letters, digits, '.', '_' or '-' (at most 64)", s.StackID)
	}
	switch s.Runtime {
	case "":
		s.Runtime = RuntimeDocker
	case RuntimeDocker, RuntimeLocal:
	default:
		return fmt.Errorf("stack: runtime %q: want %q or %q", s.Runtime, RuntimeDocker, RuntimeLocal)
	}
	switch s.Network {
	case NetworkBridge, NetworkHost:
	case "bridge":
		s.Network = NetworkBridge
	default:
		return fmt.Errorf("stack: network %q: want \"bridge\" (a network per run) or %q", s.Network, NetworkHost)
	}
	for role, set := range s.CPUSet {
		if _, err := ParseCPUSet(set); err != nil {
			return fmt.Errorf("stack: cpuset of role %q: %w", role, err)
		}
	}
	switch s.Install {
	case "":
		s.Install = InstallAuto
	case InstallAuto, InstallNever:
	default:
		return fmt.Errorf("stack: install %q: want %q or %q", s.Install, InstallAuto, InstallNever)
	}
	if s.FileLimit == 0 {
		s.FileLimit = DefaultFileLimit
	}
	if s.FileLimit < 0 {
		return fmt.Errorf("stack: file limit %d: want a positive number", s.FileLimit)
	}
	if s.Log == nil {
		s.Log = io.Discard
	}
	return nil
}

// validate checks a service before it starts.
func (svc *Service) validate() error {
	if !nameRE.MatchString(svc.Name) {
		return fmt.Errorf("stack: service name %q: want lowercase letters, digits and '-' (at most 63)", svc.Name)
	}
	own := svc.ImageRef != "" || svc.Binary != ""
	switch {
	case own && (svc.Image != "" || svc.ImageRef != "" && svc.Binary != ""):
		return fmt.Errorf("stack: service %q: one of Image, ImageRef and Binary", svc.Name)
	case own:
		return svc.validatePort()
	}
	switch svc.Image {
	case "", ImageWsbench:
		if len(svc.Args) == 0 {
			return fmt.Errorf("stack: service %q: no arguments; want a wsbench subcommand such as echo", svc.Name)
		}
	case ImageNginx:
		if _, ok := svc.Files[NginxConf]; !ok {
			return fmt.Errorf("stack: service %q: nginx needs its configuration in Files[%q]", svc.Name, NginxConf)
		}
	default:
		p, ok := program(svc.Image)
		if !ok {
			return fmt.Errorf("stack: service %q: image %q: want one of %s", svc.Name, svc.Image, imageKinds())
		}
		if _, ok := svc.Files[p.Conf]; !ok {
			return fmt.Errorf("stack: service %q: %s needs its configuration in Files[%q]", svc.Name, p.Kind, p.Conf)
		}
	}
	return svc.validatePort()
}

func (svc *Service) validatePort() error {
	if svc.Port < 0 || svc.Port > 65535 {
		return fmt.Errorf("stack: service %q: port %d: want 1-65535 (or 0 for none)", svc.Name, svc.Port)
	}
	if svc.Port == 0 && svc.WaitLog == "" {
		return fmt.Errorf("stack: service %q: neither Port nor WaitLog: nothing says when it is ready", svc.Name)
	}
	if svc.WaitLog != "" {
		if _, err := regexp.Compile(svc.WaitLog); err != nil {
			return fmt.Errorf("stack: service %q: wait log pattern: %w", svc.Name, err)
		}
	}
	for p := range svc.Files {
		if err := checkFilePath(p); err != nil {
			return fmt.Errorf("stack: service %q: %w", svc.Name, err)
		}
	}
	return nil
}

func (svc *Service) role() string {
	if svc.Role == "" {
		return svc.Name
	}
	return svc.Role
}

func (svc *Service) startTimeout() time.Duration {
	if svc.StartTimeout <= 0 {
		return 30 * time.Second
	}
	return svc.StartTimeout
}

// normalize fills defaults and validates a loadgen run.
func (lg *Loadgen) normalize() error {
	if lg.Name == "" {
		lg.Name = "loadgen"
	}
	if !nameRE.MatchString(lg.Name) {
		return fmt.Errorf("stack: loadgen name %q: want lowercase letters, digits and '-'", lg.Name)
	}
	if lg.Workers == 0 {
		lg.Workers = 1
	}
	if lg.Workers < 0 || lg.Workers > 64 {
		return fmt.Errorf("stack: loadgen workers %d: want 1-64", lg.Workers)
	}
	if lg.Args == nil {
		return fmt.Errorf("stack: loadgen %q: no Args function", lg.Name)
	}
	if lg.OutDir == "" {
		return fmt.Errorf("stack: loadgen %q: no OutDir for the results", lg.Name)
	}
	if lg.Role == "" {
		lg.Role = "loadgen"
	}
	for p := range lg.Files {
		if err := checkFilePath(p); err != nil {
			return fmt.Errorf("stack: loadgen %q: %w", lg.Name, err)
		}
	}
	return nil
}

// workerName is the name of loadgen worker i.
func (lg *Loadgen) workerName(i int) string { return lg.Name + "-" + strconv.Itoa(i) }

// workerArgs is worker i's full argument list.
func (lg *Loadgen) workerArgs(i int, out string, startAt time.Time) []string {
	args := append([]string(nil), lg.Args(i)...)
	args = append(args, "--out", out)
	if lg.StartAt {
		args = append(args, "--start-at", strconv.FormatInt(startAt.UnixMilli(), 10))
	}
	return args
}

// startAt is when Workers loadgens launched now can all begin together:
// about half a second per container start on a loaded 2-core machine.
func startAt(now time.Time, workers int) time.Time {
	return now.Add(2*time.Second + time.Duration(workers)*500*time.Millisecond)
}

func checkFilePath(p string) error {
	if !path.IsAbs(p) || path.Clean(p) != p || p == "/" {
		return fmt.Errorf("file path %q: want a clean absolute path such as /etc/x.conf", p)
	}
	return nil
}

// ParseCPUSet parses a CPU list ("0", "0-1", "0,2-3") into CPU numbers.
func ParseCPUSet(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("cpuset %q: empty; want a list like 0 or 0-1 or 0,2", s)
	}
	seen := map[int]bool{}
	var cpus []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, errA := strconv.Atoi(lo)
		b := a
		var errB error
		if isRange {
			b, errB = strconv.Atoi(hi)
		}
		if errA != nil || errB != nil || a < 0 || b < a || b > 1023 {
			return nil, fmt.Errorf("cpuset %q: bad element %q; want a list like 0 or 0-1 or 0,2", s, part)
		}
		for c := a; c <= b; c++ {
			if !seen[c] {
				seen[c] = true
				cpus = append(cpus, c)
			}
		}
	}
	return cpus, nil
}
