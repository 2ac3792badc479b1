package stack

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/moby/moby/client"
)

// Where a proxy came from: Image.Source starts with one of these.
const (
	SourceImage     = "image"     // an official (or Spec.Images) image, present or pulled
	SourceHost      = "host"      // the host's binary (in the docker runtime, a scratch image built from it)
	SourceInstalled = "installed" // the host's binary, installed by this process (apt-get, go install)
)

// Install policies, Spec.Install.
const (
	// InstallAuto ("" too) installs a missing proxy when this process
	// runs as root and the machine has the tool (apt-get for a Package,
	// go for a GoInstall), printing each command before it runs. As any
	// other user it installs nothing: the error says the command.
	InstallAuto = "auto"
	// InstallNever installs nothing: the error says the command.
	InstallNever = "never"
)

// nginxProgram is how the stack finds nginx. It is not registered: nginx
// predates Program, its image is hostNginxRootfs and its Service.Files
// hold NginxConf.
var nginxProgram = Program{Kind: ImageNginx, Binary: "/usr/sbin/nginx", Version: []string{"-v"},
	Image: "nginx:1.22", Package: "nginx"}

// proxyProgram is the Program of a proxy kind: nginx or a registered one.
func proxyProgram(kind string) (Program, bool) {
	if kind == ImageNginx {
		return nginxProgram, true
	}
	return program(kind)
}

// ProxyKinds lists the proxies the stack can run from an image or the
// host's binary: nginx, then the registered programs, sorted.
func ProxyKinds() []string {
	programsMu.Lock()
	defer programsMu.Unlock()
	return append([]string{ImageNginx}, slices.Sorted(maps.Keys(programs))...)
}

// DefaultImages are the pinned official images, by proxy kind, a stack
// tries first when Spec.Images does not name one.
func DefaultImages() map[string]string {
	images := map[string]string{}
	for _, kind := range ProxyKinds() {
		if p, _ := proxyProgram(kind); p.Image != "" {
			images[kind] = p.Image
		}
	}
	return images
}

// imageRef is the image tried first for p: Spec.Images' entry, else
// p.Image; "" = none.
func (s *Spec) imageRef(p Program) string {
	if ref, ok := s.Images[p.Kind]; ok {
		return ref
	}
	return p.Image
}

// givenPath is the host binary the spec names for p, "" = look it up.
func (s *Spec) givenPath(p Program) string {
	if p.Kind == ImageNginx {
		return s.NginxPath
	}
	return ""
}

// proxyRootfs is the scratch image of p's host binary bin.
func proxyRootfs(ctx context.Context, p Program, bin string) (rootfs, error) {
	if p.Kind == ImageNginx {
		return hostNginxRootfs(ctx, bin)
	}
	return p.rootfs(ctx, bin)
}

// hostProxy finds p's binary on the host (given, PATH, p.Binary) and,
// when it is missing and spec.Install allows, installs it with in. source
// is SourceHost or SourceInstalled, then the path and, once installed,
// the command and the package version.
func hostProxy(ctx context.Context, spec *Spec, p Program, in *installer) (bin, source string, err error) {
	given := spec.givenPath(p)
	bin, err = p.findHost(given)
	if err == nil {
		return bin, SourceHost + " " + bin, nil
	}
	if given != "" {
		return "", "", err
	}
	plan := in.plan(p)
	switch {
	case len(plan.steps) == 0:
		return "", "", fmt.Errorf("%w; install it: %s (%s)", err, plan.fix, plan.why)
	case spec.Install == InstallNever:
		return "", "", fmt.Errorf("%w; install it: %s (wsbench does not: --install never)", err, plan.fix)
	}
	return in.install(ctx, spec.Log, p, plan)
}

// installStep is one command of an installation.
type installStep struct {
	env  []string // KEY=value added to the environment
	args []string
	// optional steps may fail without failing the installation: the
	// package lists (the cached ones may do), stopping the service the
	// package started (there may be none running).
	optional bool
	// once steps run at most once per process (apt-get update).
	once bool
}

// String is the step as a shell command line.
func (s installStep) String() string {
	words := slices.Clone(s.env)
	for _, a := range s.args {
		if strings.ContainsAny(a, " '\"$\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

// installPlan is how to install a proxy here: steps wsbench may run, or
// none and why not; fix is the command a person would run.
type installPlan struct {
	steps []installStep
	fix   string
	why   string
}

// installer installs missing proxies. Its fields are the machine, so a
// test can stand in for it; hostInstaller is this one.
type installer struct {
	root     bool
	lookPath func(file string) (string, error)
	// run runs a step and returns its combined output.
	run func(ctx context.Context, s installStep) ([]byte, error)

	mu   sync.Mutex
	done map[string]installResult // by kind: each proxy is tried once per process
	ran  map[string]bool          // once steps that succeeded
}

type installResult struct {
	bin, source string
	err         error
}

var hostInstaller = &installer{root: os.Geteuid() == 0, lookPath: exec.LookPath, run: runStep}

func runStep(ctx context.Context, s installStep) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.args[0], s.args[1:]...)
	cmd.Env = append(os.Environ(), s.env...)
	return cmd.CombinedOutput()
}

// plan says how p would be installed on this machine: its Debian package
// with apt-get, else its Go module with go install, as root only.
func (in *installer) plan(p Program) installPlan {
	_, aptErr := in.lookPath("apt-get")
	_, goErr := in.lookPath("go")
	var steps []installStep
	var userFix string
	switch {
	case p.Package != "" && aptErr == nil:
		apt := []string{"DEBIAN_FRONTEND=noninteractive"}
		steps = []installStep{
			{env: apt, args: []string{"apt-get", "update", "-qq"}, optional: true, once: true},
			{env: apt, args: []string{"apt-get", "install", "-y", "--no-install-recommends", p.Package}},
		}
		// The Debian package starts the distribution's service (nginx
		// and apache2 on :80): wsbench runs its own.
		if _, err := in.lookPath("service"); err == nil {
			steps = append(steps, installStep{args: []string{"service", p.Package, "stop"}, optional: true})
		} else if _, err := in.lookPath("systemctl"); err == nil {
			steps = append(steps, installStep{args: []string{"systemctl", "stop", p.Package}, optional: true})
		}
		userFix = "sudo apt-get install -y --no-install-recommends " + p.Package
	case p.GoInstall != "" && goErr == nil:
		steps = []installStep{{env: []string{"CGO_ENABLED=0", "GOBIN=" + filepath.Dir(p.Binary)},
			args: []string{"go", "install", "-trimpath", "-ldflags=-s -w", p.GoInstall}}}
		// Without root, go install into GOPATH/bin works too: PATH finds it.
		userFix = "CGO_ENABLED=0 go install -trimpath " + p.GoInstall + " and put $(go env GOPATH)/bin in PATH"
	default:
		var ways []string
		if p.Package != "" {
			ways = append(ways, "the "+p.Package+" package (Debian: apt-get install "+p.Package+")")
		}
		if p.GoInstall != "" {
			ways = append(ways, "Go, then: CGO_ENABLED=0 GOBIN="+filepath.Dir(p.Binary)+" go install "+p.GoInstall)
		}
		if len(ways) == 0 {
			return installPlan{fix: "put " + filepath.Base(p.Binary) + " in PATH or at " + p.Binary, why: "wsbench knows no package for it"}
		}
		return installPlan{fix: strings.Join(ways, ", or "), why: "no apt-get or go here for wsbench to use"}
	}
	if !in.root {
		return installPlan{fix: userFix, why: "wsbench installs only as root"}
	}
	var cmds []string
	for _, s := range steps {
		cmds = append(cmds, s.String())
	}
	return installPlan{steps: steps, fix: strings.Join(cmds, " && ")}
}

// install runs plan's steps for p, printing each command first, once per
// process and kind, and looks for the binary again.
func (in *installer) install(ctx context.Context, log io.Writer, p Program, plan installPlan) (string, string, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if r, ok := in.done[p.Kind]; ok {
		return r.bin, r.source, r.err
	}
	r := in.runPlan(ctx, log, p, plan)
	if ctx.Err() == nil { // an interrupted installation may be retried
		if in.done == nil {
			in.done = map[string]installResult{}
		}
		in.done[p.Kind] = r
	}
	return r.bin, r.source, r.err
}

func (in *installer) runPlan(ctx context.Context, log io.Writer, p Program, plan installPlan) installResult {
	fmt.Fprintf(log, "stack: %s is not installed; installing it (as root; --install never says the command instead):\n", p.Kind)
	var main installStep
	for _, s := range plan.steps {
		if s.once && in.ran[s.String()] {
			continue
		}
		fmt.Fprintf(log, "stack:   $ %s\n", s)
		out, err := in.run(ctx, s)
		switch {
		case err != nil && s.optional:
			fmt.Fprintf(log, "stack:   (%v: %s; going on)\n", err, tail(out, 1))
		case err != nil:
			return installResult{err: fmt.Errorf("stack: installing %s: %s: %w: %s", p.Kind, s, err, tail(out, 5))}
		case s.once:
			if in.ran == nil {
				in.ran = map[string]bool{}
			}
			in.ran[s.String()] = true
		}
		if !s.optional {
			main = s
		}
	}
	bin, err := p.findHost("")
	if err != nil {
		return installResult{err: fmt.Errorf("stack: %s ran, yet: %w", main, err)}
	}
	source := SourceInstalled + " " + bin + ": " + main.String()
	if _, err := in.lookPath("dpkg-query"); err == nil && p.Package != "" && main.args[0] == "apt-get" {
		if out, err := in.run(ctx, installStep{args: []string{"dpkg-query", "-W", "-f=${Version}", p.Package}}); err == nil {
			source += " (" + p.Package + " " + strings.TrimSpace(string(out)) + ")"
		}
	}
	fmt.Fprintf(log, "stack: %s: %s\n", p.Kind, source)
	return installResult{bin: bin, source: source}
}

// announced holds the sources already printed: a run brings up a stack
// per scenario, and says where each proxy came from once.
var announced sync.Map

func announce(log io.Writer, kind, source, version string) {
	if _, dup := announced.LoadOrStore(kind+"\x00"+source, true); !dup {
		fmt.Fprintf(log, "stack: %s: %s (%s)\n", kind, source, version)
	}
}

// Finding is where a stack would get what one kind needs, looked up
// without pulling, building or installing anything (wsbench doctor).
type Finding struct {
	Kind string
	// Source is where it would come from, "" when nowhere: for a proxy
	// as Image.Source ("image nginx:1.22", "host /usr/sbin/nginx"); for
	// wsbench "module DIR" (built from it) or "binary PATH".
	Source  string
	Version string   // the proxy's, or the go tool's for a module build
	Notes   []string // what else was looked at, e.g. an image not present
	Err     error    // what is missing or unusable
	Fix     string   // with Err: the command, or what to do
	// Installable says Install would fix Err here (root, with apt-get or go).
	Installable bool
}

// Find looks up, for each kind (ImageWsbench or a proxy kind), where a
// stack of spec would get it: in the docker runtime the image named by
// Spec.Images when present locally (a run would also try to pull it),
// else the host's binary, checked to fit in a scratch image; wsbench's
// source tree or executable, checked to run in a container.
func Find(ctx context.Context, spec Spec, kinds ...string) []Finding {
	if err := spec.normalize(); err != nil {
		return []Finding{{Kind: "spec", Err: err}}
	}
	var cli *client.Client
	if spec.Runtime == RuntimeDocker {
		if c, err := dockerClient(ctx); err == nil {
			cli = c
			defer c.Close()
		}
	}
	out := make([]Finding, 0, len(kinds))
	for _, kind := range kinds {
		if p, ok := proxyProgram(kind); ok {
			out = append(out, findProxy(ctx, &spec, p, cli))
		} else {
			out = append(out, findWsbenchFinding(ctx, &spec))
		}
	}
	return out
}

func findProxy(ctx context.Context, spec *Spec, p Program, cli *client.Client) Finding {
	f := Finding{Kind: p.Kind}
	if ref := spec.imageRef(p); ref != "" && spec.Runtime == RuntimeDocker {
		switch ins, err := inspectImage(ctx, cli, ref); {
		case err == nil:
			f.Source = SourceImage + " " + ref
			if ins.Config != nil {
				f.Version = imageVersion(ins.Config.Env, p)
			}
			return f
		case cli == nil:
			f.Notes = append(f.Notes, "image "+ref+" not looked for: docker is not reachable")
		default:
			f.Notes = append(f.Notes, "image "+ref+" not present (a run tries to pull it first)")
		}
	}
	bin, err := p.findHost(spec.givenPath(p))
	if err != nil {
		plan := hostInstaller.plan(p)
		f.Err, f.Fix = err, plan.fix
		if plan.why != "" {
			f.Fix += " (" + plan.why + ")"
		}
		f.Installable = len(plan.steps) > 0 && spec.givenPath(p) == ""
		return f
	}
	f.Source = SourceHost + " " + bin
	if f.Version, err = p.version(ctx, bin); err != nil {
		f.Err, f.Fix = err, "check that "+bin+" runs"
		return f
	}
	if spec.Runtime == RuntimeDocker {
		if _, err := proxyRootfs(ctx, p, bin); err != nil {
			f.Err, f.Fix = fmt.Errorf("stack: %s: its scratch image cannot be made: %w", p.Kind, err), "reinstall "+p.Package
		}
	}
	return f
}

// inspectImage is ImageInspect, or an error without a client.
func inspectImage(ctx context.Context, cli *client.Client, ref string) (client.ImageInspectResult, error) {
	if cli == nil {
		return client.ImageInspectResult{}, ErrNoDocker
	}
	return cli.ImageInspect(ctx, ref)
}

// imageVersion is the version an official image declares in its
// environment (NGINX_VERSION=1.22.1, HAPROXY_VERSION, CADDY_VERSION).
func imageVersion(env []string, p Program) string {
	key := strings.ToUpper(p.Kind) + "_VERSION="
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, key); ok {
			return p.Kind + " " + v
		}
	}
	return ""
}

func findWsbenchFinding(ctx context.Context, spec *Spec) Finding {
	f := Finding{Kind: ImageWsbench}
	wd, err := os.Getwd()
	if err != nil {
		f.Err = err
		return f
	}
	exe, _ := os.Executable()
	src, err := findWsbench(spec, wd, exe)
	if err != nil {
		f.Err, f.Fix = err, buildFix
		return f
	}
	if src.module != "" {
		f.Source = "module " + src.module
		goTool, err := exec.LookPath("go")
		if err != nil {
			f.Err, f.Fix = fmt.Errorf("%w: building from %s needs the go tool: %w", ErrNoWsbench, src.module, err), "install Go (go.dev/dl), or run a wsbench binary outside the tree"
			return f
		}
		if out, err := exec.CommandContext(ctx, goTool, "env", "GOVERSION").Output(); err == nil {
			f.Version = strings.TrimSpace(string(out))
		}
		f.Notes = append(f.Notes, "built with CGO_ENABLED=0 at the first run, then cached")
		return f
	}
	f.Source = "binary " + src.binary
	f.Notes = append(f.Notes, src.how)
	if spec.Runtime == RuntimeDocker {
		fs, _, err := wsbenchImageRootfs(ctx, src.binary)
		if err != nil {
			f.Err, f.Fix = err, buildFix
			return f
		}
		libs := 0
		for p, e := range fs {
			if !e.dir && strings.Contains(filepath.Base(p), ".so") {
				libs++
			}
		}
		if libs > 0 {
			f.Notes = append(f.Notes, fmt.Sprintf("dynamically linked: its image gets the %d libraries ldd lists", libs))
		}
	}
	return f
}

// Install installs proxy kind's host binary as a run would when it is
// missing (Spec.Install is ignored: asking is consent), printing each
// command to spec.Log first, and returns its source.
func Install(ctx context.Context, spec Spec, kind string) (string, error) {
	p, ok := proxyProgram(kind)
	if !ok {
		return "", fmt.Errorf("stack: install %q: want one of %s", kind, strings.Join(ProxyKinds(), ", "))
	}
	if err := spec.normalize(); err != nil {
		return "", err
	}
	spec.Install = InstallAuto
	_, source, err := hostProxy(ctx, &spec, p, hostInstaller)
	return source, err
}
