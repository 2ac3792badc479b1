package stack

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Program is a proxy the stack runs from the host's binary, as it runs
// nginx: in the docker runtime an image built FROM scratch from the binary,
// the libraries ldd lists and Files; in the local runtime the binary
// itself. A driver describes its proxy with one and registers it once
// (RegisterProgram); a Service then names it by Image.
type Program struct {
	Kind    string   // image kind, Service.Image: "haproxy"
	Binary  string   // looked up in PATH, then as this path: "/usr/sbin/haproxy"
	Version []string // flags that make it print its version, e.g. ["-v"]
	// VersionOf picks the version from that output; nil = its first line.
	VersionOf func(out string) string
	// Image is the official image the docker runtime tries first, present
	// or pulled ("haproxy:2.6"): its binary, base(Binary), in its PATH
	// runs the same Args. "" = none fits what the driver renders.
	Image string
	// Package is the Debian package that installs Binary ("haproxy");
	// GoInstall, the module@version `go install` builds it from instead.
	// They are how a missing binary is installed (see Spec.Install) or
	// how the error says to install it.
	Package, GoInstall string
	// Conf is where Service.Files must hold the configuration, as the
	// service sees it in a container.
	Conf string
	// Files are host files the image needs, copied to the same path;
	// Dirs are writable directories made in it.
	Files, Dirs []string
	// Modules are shared objects the binary loads at run time (apache's
	// modules), copied to the same path with the libraries ldd lists for
	// them, as for the binary.
	Modules []string
	// Args is the command line after the binary; conf is the
	// configuration's path as the process sees it.
	Args func(conf string) []string
	// Check is the command line of the proxy's own configuration check
	// (haproxy -c -f conf), run by Stack.Check; nil = none.
	Check func(conf string) []string
}

var (
	programsMu sync.Mutex
	programs   = map[string]Program{}
)

// RegisterProgram makes p's Kind a Service.Image. It panics on a kind
// registered twice or taken by a built-in image: registration happens once,
// at init.
func RegisterProgram(p Program) {
	programsMu.Lock()
	defer programsMu.Unlock()
	if _, ok := programs[p.Kind]; ok || p.Kind == ImageWsbench || p.Kind == ImageNginx || p.Kind == "" {
		panic(fmt.Sprintf("stack: program kind %q registered twice", p.Kind))
	}
	programs[p.Kind] = p
}

func program(kind string) (Program, bool) {
	programsMu.Lock()
	defer programsMu.Unlock()
	p, ok := programs[kind]
	return p, ok
}

// imageKinds lists what Service.Image may be.
func imageKinds() string {
	programsMu.Lock()
	defer programsMu.Unlock()
	kinds := []string{ImageWsbench, ImageNginx}
	for _, k := range slices.Sorted(maps.Keys(programs)) {
		kinds = append(kinds, k)
	}
	return strings.Join(kinds, ", ")
}

// findHost finds p's binary on the host: given (a path) when set, else
// in PATH, then at p.Binary.
func (p Program) findHost(given string) (string, error) {
	if given != "" {
		if _, err := os.Stat(given); err != nil {
			return "", fmt.Errorf("stack: %s: %w", p.Kind, err)
		}
		return given, nil
	}
	if path, err := exec.LookPath(filepath.Base(p.Binary)); err == nil {
		return path, nil
	}
	if _, err := os.Stat(p.Binary); err == nil {
		return p.Binary, nil
	}
	return "", fmt.Errorf("stack: %s not found in PATH nor at %s", p.Kind, p.Binary)
}

// version runs the binary with p.Version and returns what versionIn
// picks from its output.
func (p Program) version(ctx context.Context, bin string) (string, error) {
	b, err := exec.CommandContext(ctx, bin, p.Version...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("stack: %s %s: %w: %s", bin, strings.Join(p.Version, " "), err, tail(b, 2))
	}
	return p.versionIn(string(b)), nil
}

// versionIn picks the version from the output of p.Version: VersionOf's
// choice, else the first line.
func (p Program) versionIn(out string) string {
	if p.VersionOf != nil {
		return p.VersionOf(out)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	return line
}

// rootfs is p's scratch image: the binary at p.Binary, its libraries, its
// files and directories.
func (p Program) rootfs(ctx context.Context, bin string) (rootfs, error) {
	r, err := binaryRootfs(ctx, bin, p.Binary)
	if err != nil {
		return nil, err
	}
	for _, f := range p.Files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("stack: %s: %w", p.Kind, err)
		}
		r.file(f, 0o644, data)
	}
	for _, m := range p.Modules {
		mr, err := binaryRootfs(ctx, m, m)
		if err != nil {
			return nil, fmt.Errorf("stack: %s module: %w", p.Kind, err)
		}
		maps.Copy(r, mr)
	}
	for _, d := range append([]string{"/tmp"}, p.Dirs...) {
		r.dir(d, 0o1777)
	}
	return r, nil
}
