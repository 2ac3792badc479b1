package stack

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// rootfs is the content of a FROM-scratch image, by absolute path.
type rootfs map[string]rootfsEntry

type rootfsEntry struct {
	dir  bool
	mode int64
	data []byte
}

func (r rootfs) file(p string, mode int64, data []byte) { r[p] = rootfsEntry{mode: mode, data: data} }
func (r rootfs) dir(p string, mode int64)               { r[p] = rootfsEntry{dir: true, mode: mode} }

// buildContext returns a docker build context: a Dockerfile that copies
// rootfs/ into a scratch image, plus the tree. The archive is deterministic
// (sorted, fixed times), so its hash names the image's content.
func (r rootfs) buildContext(dockerfileTail string) ([]byte, string, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	df := "FROM scratch\nCOPY rootfs/ /\n" + dockerfileTail
	add := func(h *tar.Header, data []byte) error {
		h.ModTime, h.Format = epoch, tar.FormatPAX
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(df)), Typeflag: tar.TypeReg}, []byte(df)); err != nil {
		return nil, "", err
	}
	// Every parent directory gets an entry so the tree is complete.
	for p := range r {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if _, ok := r[d]; !ok {
				r.dir(d, 0o755)
			}
		}
	}
	paths := make([]string, 0, len(r))
	for p := range r {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		e := r[p]
		name := "rootfs" + p
		var err error
		if e.dir {
			err = add(&tar.Header{Name: name + "/", Mode: e.mode, Typeflag: tar.TypeDir}, nil)
		} else {
			err = add(&tar.Header{Name: name, Mode: e.mode, Size: int64(len(e.data)), Typeflag: tar.TypeReg}, e.data)
		}
		if err != nil {
			return nil, "", fmt.Errorf("stack: build context %s: %w", p, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, "", fmt.Errorf("stack: build context: %w", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return buf.Bytes(), hex.EncodeToString(sum[:]), nil
}

// wsbenchRootfs is the wsbench image: the static binary and the writable
// directories a loadgen and proxies use.
func wsbenchRootfs(bin []byte) rootfs {
	r := rootfs{}
	r.file("/wsbench", 0o755, bin)
	r.dir("/tmp", 0o1777)
	r.dir(containerOut, 0o777)
	return r
}

// nginxUsers are the accounts nginx may switch its workers to: Debian's
// www-data, other distributions' nginx, and the compiled-in nobody.
var nginxUsers = []string{"www-data", "nginx", "nobody"}

// hostNginxRootfs collects the host's nginx and everything it needs to run
// in a scratch image: the shared libraries ldd lists (the loader
// included), mime.types, passwd/group entries and writable directories.
func hostNginxRootfs(ctx context.Context, bin string) (rootfs, error) {
	r, err := binaryRootfs(ctx, bin, "/usr/sbin/nginx")
	if err != nil {
		return nil, err
	}
	if data, err := os.ReadFile("/etc/nginx/mime.types"); err == nil {
		r.file("/etc/nginx/mime.types", 0o644, data)
	} else {
		return nil, fmt.Errorf("stack: host nginx: %w", err)
	}
	passwd, group := accounts(readOr("/etc/passwd"), readOr("/etc/group"))
	r.file("/etc/passwd", 0o644, passwd)
	r.file("/etc/group", 0o644, group)
	r.file("/etc/nsswitch.conf", 0o644, []byte("passwd: files\ngroup: files\nhosts: files dns\n"))
	for _, d := range []string{"/tmp", "/var/lib/nginx", "/var/log/nginx", "/run"} {
		r.dir(d, 0o1777)
	}
	return r, nil
}

// binaryRootfs is a host binary at dst and every shared library ldd lists
// for it (the loader included), under the paths the loader looks for.
func binaryRootfs(ctx context.Context, bin, dst string) (rootfs, error) {
	out, err := exec.CommandContext(ctx, "ldd", bin).CombinedOutput()
	// ldd exits 1 on a static binary (a Go proxy such as caddy): no
	// libraries to copy.
	if err != nil && !strings.Contains(string(out), "not a dynamic executable") {
		return nil, fmt.Errorf("stack: ldd %s: %w: %s", bin, err, tail(out, 3))
	}
	libs, err := parseLdd(string(out))
	if err != nil {
		return nil, fmt.Errorf("stack: ldd %s: %w", bin, err)
	}
	r := rootfs{}
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("stack: host binary: %w", err)
	}
	r.file(dst, 0o755, data)
	for _, lib := range libs {
		// Copy what the (possibly symlinked) path resolves to, under the
		// path the loader looks for.
		data, err := os.ReadFile(lib)
		if err != nil {
			return nil, fmt.Errorf("stack: host library: %w", err)
		}
		r.file(lib, 0o755, data)
	}
	return r, nil
}

func readOr(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// accounts picks root and the nginx users from the host's passwd and group
// files, adding Debian's defaults for those missing.
func accounts(passwd, group string) ([]byte, []byte) {
	pick := func(file string, names []string, defaults map[string]string) []byte {
		have := map[string]string{}
		for _, line := range strings.Split(file, "\n") {
			if name, _, ok := strings.Cut(line, ":"); ok {
				have[name] = line
			}
		}
		var b bytes.Buffer
		for _, n := range names {
			line, ok := have[n]
			if !ok {
				line, ok = defaults[n]
			}
			if ok {
				b.WriteString(line + "\n")
			}
		}
		return b.Bytes()
	}
	users := append([]string{"root"}, nginxUsers...)
	p := pick(passwd, users, map[string]string{
		"root":     "root:x:0:0:root:/root:/sbin/nologin",
		"www-data": "www-data:x:33:33:www-data:/var/www:/sbin/nologin",
		"nobody":   "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin",
	})
	g := pick(group, []string{"root", "www-data", "nginx", "nogroup", "nobody"}, map[string]string{
		"root":     "root:x:0:",
		"www-data": "www-data:x:33:",
		"nogroup":  "nogroup:x:65534:",
	})
	return p, g
}

// parseLdd extracts the absolute library paths from ldd's output; the
// vDSO has no file and is skipped. A "not found" library is an error.
func parseLdd(out string) ([]string, error) {
	var libs []string
	seen := map[string]bool{}
	static := false
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "linux-vdso") || strings.HasPrefix(line, "linux-gate") {
			continue
		}
		if strings.Contains(line, "not a dynamic executable") || strings.Contains(line, "statically linked") {
			static = true
			continue
		}
		p := line
		if name, target, ok := strings.Cut(line, "=>"); ok {
			target = strings.TrimSpace(target)
			if strings.HasPrefix(target, "not found") {
				return nil, fmt.Errorf("library %s not found", strings.TrimSpace(name))
			}
			p = target
		}
		if i := strings.Index(p, " ("); i >= 0 {
			p = p[:i]
		}
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !filepath.IsAbs(p) || filepath.Clean(p) != p {
			return nil, fmt.Errorf("unexpected line %q: want \"name => /path (0x…)\" or \"/path (0x…)\"", line)
		}
		if !seen[p] {
			seen[p] = true
			libs = append(libs, p)
		}
	}
	if len(libs) == 0 && !static {
		return nil, fmt.Errorf("no libraries in %q: want a dynamic executable's ldd output", tail([]byte(out), 2))
	}
	return libs, nil
}
