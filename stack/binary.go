package stack

import (
	"bufio"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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

// buildBinary compiles a static wsbench (CGO_ENABLED=0, linux, -trimpath)
// from the module at moduleDir into out. The go build cache keeps a second
// build of unchanged source to a link step.
func buildBinary(ctx context.Context, moduleDir, out string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("stack: building wsbench needs the go tool (not in PATH: %w), or give a prebuilt static binary", err)
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

// wsbenchBinary returns the binary to run: spec.Binary, or one built from
// the module into dir.
func wsbenchBinary(ctx context.Context, spec *Spec, dir string) (string, error) {
	if spec.Binary != "" {
		if _, err := os.Stat(spec.Binary); err != nil {
			return "", fmt.Errorf("stack: wsbench binary: %w", err)
		}
		return spec.Binary, nil
	}
	mod := spec.ModuleDir
	if mod == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("stack: module root: %w", err)
		}
		if mod, err = findModuleRoot(wd); err != nil {
			// Outside the source tree: an installed static wsbench can
			// deploy itself.
			if exe, xerr := os.Executable(); xerr == nil && isStaticELF(exe) && filepath.Base(exe) == "wsbench" {
				fmt.Fprintf(spec.Log, "stack: no wsbench source here; using the running binary %s\n", exe)
				return exe, nil
			}
			return "", err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("stack: binary dir: %w", err)
	}
	out := filepath.Join(dir, "wsbench")
	fmt.Fprintf(spec.Log, "stack: building wsbench from %s\n", mod)
	if err := buildBinary(ctx, mod, out); err != nil {
		return "", err
	}
	return out, nil
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

// nginxBinary finds the host's nginx: the given path, PATH, /usr/sbin/nginx.
func nginxBinary(given string) (string, error) {
	if given != "" {
		if _, err := os.Stat(given); err != nil {
			return "", fmt.Errorf("stack: nginx: %w", err)
		}
		return given, nil
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx", nil
	}
	return "", errors.New("stack: nginx not found in PATH nor at /usr/sbin/nginx; install it (apt-get install nginx) or give an nginx image")
}

// nginxVersion runs `nginx -v` (which prints to stderr).
func nginxVersion(ctx context.Context, bin string) (string, error) {
	b, err := exec.CommandContext(ctx, bin, "-v").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("stack: %s -v: %w: %s", bin, err, tail(b, 2))
	}
	return strings.TrimSpace(string(b)), nil
}

// isStaticELF reports whether p is an ELF executable with no program
// interpreter, i.e. one that runs in a scratch image.
func isStaticELF(p string) bool {
	f, err := elf.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}
