package stack

import (
	"bufio"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// modulePath is the module whose ./cmd/wsbench the stack builds.
const modulePath = "github.com/wsbench/wsbench"

// findModuleRoot walks up from dir to the directory whose go.mod declares
// the wsbench module.
func findModuleRoot(dir string) (string, error) {
	start := dir
	for {
		if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
			mod := moduleLine(f)
			f.Close()
			if mod == modulePath {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("stack: no go.mod of module %s in %s or above; set the module directory or a prebuilt binary", modulePath, start)
		}
		dir = parent
	}
}

// moduleLine returns the module path a go.mod declares.
func moduleLine(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module"); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// ErrNoWsbench is returned (wrapped) when the stack has no wsbench binary
// it can run: no source tree to build one from and this program is not
// wsbench, or a binary containers cannot run. `wsbench run` exits 2 on it.
var ErrNoWsbench = errors.New("stack: no wsbench binary to run")

// buildFix is how to make a binary every runtime can run.
const buildFix = "in a wsbench checkout: CGO_ENABLED=0 GOOS=linux go build -o wsbench ./cmd/wsbench"

// buildBinary compiles a static wsbench (CGO_ENABLED=0, linux, -trimpath)
// from the module at moduleDir into out. The go build cache keeps a second
// build of unchanged source to a link step.
func buildBinary(ctx context.Context, moduleDir, out string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("%w: building wsbench from %s needs the go tool (not in PATH: %v); install Go, or run a wsbench binary", ErrNoWsbench, moduleDir, err)
	}
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./cmd/wsbench")
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("stack: go build ./cmd/wsbench in %s: %w: %s", moduleDir, err, tail(b, 5))
	}
	return nil
}

// Binary builds (or finds) the wsbench binary spec would run, into dir,
// so a caller that brings up several stacks builds it once: set
// Spec.Binary to the result for each of them.
func Binary(ctx context.Context, spec Spec, dir string) (string, error) {
	if spec.Log == nil {
		spec.Log = io.Discard
	}
	return wsbenchBinary(ctx, &spec, dir)
}

// wsbenchSource is where the binary a stack runs comes from: a module to
// build, or a binary to run as it is.
type wsbenchSource struct {
	module string // build ./cmd/wsbench here, or
	binary string // run this
	how    string // why this one, for the log and wsbench doctor
}

// findWsbench decides where the wsbench binary comes from, building
// nothing: spec.Binary; spec.ModuleDir; the module containing wd; else
// exe, the running program, when it is wsbench (a release outside any
// source tree deploys itself).
func findWsbench(spec *Spec, wd, exe string) (wsbenchSource, error) {
	if spec.Binary != "" {
		if _, err := os.Stat(spec.Binary); err != nil {
			return wsbenchSource{}, fmt.Errorf("%w: %w", ErrNoWsbench, err)
		}
		return wsbenchSource{binary: spec.Binary, how: "the binary given"}, nil
	}
	if spec.ModuleDir != "" {
		return wsbenchSource{module: spec.ModuleDir, how: "the module given"}, nil
	}
	own := exe != "" && isWsbench(exe)
	mod, err := findModuleRoot(wd)
	if err == nil {
		if _, gerr := exec.LookPath("go"); gerr != nil && own {
			return wsbenchSource{binary: exe, how: "this executable (no go tool to build the source at " + mod + ")"}, nil
		}
		return wsbenchSource{module: mod, how: "the source tree"}, nil
	}
	if own {
		return wsbenchSource{binary: exe, how: "this executable (no wsbench source in " + wd + " or above)"}, nil
	}
	return wsbenchSource{}, fmt.Errorf("%w: %s is not in a wsbench source tree (no go.mod of module %s there or above), and this program (%s) is not wsbench; run wsbench from a checkout (it builds ./cmd/wsbench), or a wsbench binary anywhere (%s)",
		ErrNoWsbench, wd, modulePath, exe, buildFix)
}

// isWsbench reports whether the Go binary at p is a build of ./cmd/wsbench,
// whatever its file name, and not its test binary: that one has the same
// build information, and go test names it wsbench.test.
func isWsbench(p string) bool {
	info, err := buildinfo.ReadFile(p)
	return err == nil && info.Path == modulePath+"/cmd/wsbench" && !strings.HasSuffix(p, ".test")
}

// wsbenchBinary returns the binary to run: spec.Binary, one built from
// the module into dir, or this executable.
func wsbenchBinary(ctx context.Context, spec *Spec, dir string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("stack: module root: %w", err)
	}
	exe, _ := os.Executable()
	src, err := findWsbench(spec, wd, exe)
	if err != nil {
		return "", err
	}
	if src.binary != "" {
		if src.binary != spec.Binary {
			fmt.Fprintf(spec.Log, "stack: wsbench: %s, %s\n", src.binary, src.how)
		}
		return src.binary, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("stack: binary dir: %w", err)
	}
	out := filepath.Join(dir, "wsbench")
	fmt.Fprintf(spec.Log, "stack: building wsbench from %s\n", src.module)
	if err := buildBinary(ctx, src.module, out); err != nil {
		return "", err
	}
	return out, nil
}

// wsbenchImageRootfs is the content of the wsbench image for bin, and the
// Dockerfile lines it needs: a static binary alone; a dynamic Linux one
// with the libraries ldd lists and the loader's files. Anything else
// cannot run in a container: ErrNoWsbench with how to build one.
func wsbenchImageRootfs(ctx context.Context, bin string) (rootfs, string, error) {
	static, err := linuxELF(bin)
	if err != nil {
		return nil, "", fmt.Errorf("%w: containers run it: %v; run from a checkout (it builds one), use --runtime local, or build one (%s)", ErrNoWsbench, err, buildFix)
	}
	if static {
		data, err := os.ReadFile(bin)
		if err != nil {
			return nil, "", fmt.Errorf("stack: wsbench binary: %w", err)
		}
		return wsbenchRootfs(data), "", nil
	}
	r, err := binaryRootfs(ctx, bin, "/wsbench")
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s is dynamically linked and its libraries cannot be copied: %v; build a static one (%s)", ErrNoWsbench, bin, err, buildFix)
	}
	r.dir("/tmp", 0o1777)
	r.dir(containerOut, 0o777)
	// A cgo resolver reads it; Go's own does too.
	r.file("/etc/nsswitch.conf", 0o644, []byte("hosts: files dns\n"))
	return r, libraryPathEnv(r), nil
}

// fileSHA256 returns the hex sha256 of a file.
func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// elfMachines are the ELF machines of the architectures Go builds for
// Linux, by GOARCH.
var elfMachines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386, "arm": elf.EM_ARM,
	"riscv64": elf.EM_RISCV, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390, "loong64": elf.EM_LOONGARCH,
}

// linuxELF reports whether p is a static executable (no program
// interpreter, so it runs alone in a scratch image), or an error when it
// is no Linux executable of this machine's architecture.
func linuxELF(p string) (static bool, err error) {
	f, err := elf.Open(p)
	if err != nil {
		return false, fmt.Errorf("%s is not a Linux executable: %w", p, err)
	}
	defer f.Close()
	if want, ok := elfMachines[runtime.GOARCH]; ok && f.Machine != want {
		return false, fmt.Errorf("%s is a %v executable, this machine is %s", p, f.Machine, runtime.GOARCH)
	}
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return false, fmt.Errorf("%s is an %v executable, not a Linux one", p, f.OSABI)
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return false, nil
		}
	}
	return true, nil
}
