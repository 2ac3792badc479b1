package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wsbench/wsbench/driver"
	"github.com/wsbench/wsbench/scenarios"
	"github.com/wsbench/wsbench/stack"
)

// topology is one stack's services for a scenario: echo backends,
// blackholes and the targets' proxies.
type topology struct {
	h        *harness
	st       *stack.Stack
	sc       *scenarios.Scenario
	dir      string            // the scenario's results directory
	tlsFiles map[string][]byte // the run's certificate, when anything serves TLS
	saved    map[string]bool   // services whose logs are saved
	admin    map[string]bool   // targets whose proxy serves wsbench's admin endpoint
}

// echoUpstreams counts the echo backends target tg balances over (its
// blackholes accept nothing, so they never count).
func (t *topology) echoUpstreams(tg scenarios.Target) int {
	if !tg.Proxies() {
		return 1
	}
	n := 0
	for _, name := range t.sc.Upstreams(tg) {
		if strings.HasPrefix(name, scenarios.BackendPrefix) {
			n++
		}
	}
	return n
}

// upstreams are the addresses target tg proxies to, as proxies dial them.
func (t *topology) upstreams(tg scenarios.Target) []string {
	var out []string
	for _, name := range t.sc.Upstreams(tg) {
		out = append(out, t.st.Addr(name, backendPort))
	}
	return out
}

// usesTLS reports whether anything in the scenario serves wss://.
func (t *topology) usesTLS() bool {
	if t.sc.Backends.TLS {
		return true
	}
	for _, tg := range t.sc.Targets {
		if tg.TLS() {
			return true
		}
	}
	return false
}

func (t *topology) certFiles() (map[string][]byte, error) {
	if t.tlsFiles != nil || !t.usesTLS() {
		return t.tlsFiles, nil
	}
	hosts := t.sc.BackendNames()
	for _, tg := range t.sc.Targets {
		hosts = append(hosts, tg.Name)
	}
	cert, key, err := selfSigned(hosts)
	if err != nil {
		return nil, err
	}
	t.tlsFiles = map[string][]byte{certPath: cert, keyPath: key}
	return t.tlsFiles, nil
}

// startBackends starts the echo backends, then the blackholes: proxies
// resolve upstream names when they start, so these come first.
func (t *topology) startBackends(ctx context.Context) error {
	files, err := t.certFiles()
	if err != nil {
		return err
	}
	for _, name := range t.sc.BackendNames() {
		args := []string{"echo", "--listen", t.st.Bind(name, backendPort), "--id", name}
		var svcFiles map[string][]byte
		if t.sc.Backends.TLS {
			args = append(args, "--tls-cert", t.st.Path(name, certPath), "--tls-key", t.st.Path(name, keyPath))
			svcFiles = files
		}
		args = append(args, t.sc.Backends.Args...)
		if err := t.start(ctx, stack.Service{Name: name, Role: "echo", Port: backendPort, Args: args, Files: svcFiles,
			WaitLog: "wsbench echo: listening on"}); err != nil {
			return err
		}
	}
	for _, name := range t.sc.BlackholeNames() {
		args := []string{"echo", "--listen", t.st.Bind(name, backendPort), "--blackhole"}
		if err := t.start(ctx, stack.Service{Name: name, Role: "echo", Port: backendPort, Args: args,
			WaitLog: "wsbench echo: listening on"}); err != nil {
			return err
		}
	}
	return nil
}

func (t *topology) start(ctx context.Context, svc stack.Service) error {
	t.h.live.printf("   starting %s\n", svc.Name)
	if _, err := t.st.Start(ctx, svc); err != nil {
		t.saveLogs(ctx, svc.Name)
		return fmt.Errorf("harness: %s: starting %s: %w", t.sc.Name, svc.Name, err)
	}
	return nil
}

// startTarget starts a target's proxy through its driver, and saves the
// configuration it rendered with the results.
func (t *topology) startTarget(ctx context.Context, tg scenarios.Target) error {
	d, ok := driver.Lookup(tg.Kind)
	if !ok {
		return fmt.Errorf("harness: %s: %s: no driver for kind %q", t.sc.Name, tg.Name, tg.Kind)
	}
	port := driver.ListenPort(tg.Driver())
	env := driver.Env{
		Runtime:   t.st.Spec().Runtime,
		Listen:    t.st.Bind(tg.Name, port),
		Upstreams: t.upstreams(tg),
		TempDir:   t.st.Path(tg.Name, "/tmp"),
		Admin:     t.st.Bind(tg.Name, adminPort),
		Path:      func(p string) string { return t.st.Path(tg.Name, p) },
	}
	if tg.TLS() {
		tf, err := t.certFiles()
		if err != nil {
			return err
		}
		env.Files, env.CertPEM, env.KeyPEM = tf, tf[certPath], tf[keyPath]
		env.TLSCert, env.TLSKey = t.st.Path(tg.Name, certPath), t.st.Path(tg.Name, keyPath)
	}
	svc, ok, err := d.Service(tg.Driver(), env)
	if _, unsupported := errors.AsType[*driver.UnsupportedError](err); unsupported {
		return err // the row says so, as is
	}
	if err != nil {
		return fmt.Errorf("harness: %s: %s: %w", t.sc.Name, tg.Name, err)
	}
	if !ok {
		return nil
	}
	if svc.Config != nil {
		dir := filepath.Join(t.dir, tg.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("harness: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, svc.ConfigName), svc.Config, 0o644); err != nil {
			return fmt.Errorf("harness: %w", err)
		}
	}
	if svc.Admin {
		if t.admin == nil {
			t.admin = map[string]bool{}
		}
		t.admin[tg.Name] = true
	}
	svc.Name, svc.Port = tg.Name, port
	if err := t.start(ctx, svc.Service); err != nil {
		return err
	}
	t.noteOwnImage(tg.Name)
	return nil
}

// noteOwnImage records the image (or binary) of a user's own proxy (kind
// image or command), which no driver names in advance.
func (t *topology) noteOwnImage(name string) {
	h, ok := t.st.Handle(name)
	if !ok || (h.Image.Kind != stack.KindOwnImage && h.Image.Kind != stack.KindOwnBinary) {
		return
	}
	info := ImageInfo{Kind: h.Image.Kind, Ref: h.Image.Ref, ID: h.Image.ID, Version: h.Image.Version, Source: h.Image.Source}
	if !slices.Contains(t.h.out.Images, info) {
		t.h.out.Images = append(t.h.out.Images, info)
	}
}

// saveFailedLogs keeps the output of every service that died on its own.
func (t *topology) saveFailedLogs(ctx context.Context) []string {
	names, err := t.st.Failed(context.WithoutCancel(ctx))
	if err != nil {
		return nil
	}
	var paths []string
	for _, n := range names {
		if p := t.saveLogs(ctx, n); p != "" {
			paths = append(paths, p)
		}
	}
	return paths
}

func (t *topology) saveLogs(ctx context.Context, name string) string {
	if t.saved == nil {
		t.saved = map[string]bool{}
	}
	dir := filepath.Join(t.dir, "logs")
	p, err := t.st.SaveLogs(context.WithoutCancel(ctx), name, dir)
	if err != nil {
		return ""
	}
	if !t.saved[name] {
		t.h.live.printf("   %s failed; its output is in %s\n", name, p)
	}
	t.saved[name] = true
	rel, _ := filepath.Rel(t.h.o.Dir, p)
	return rel
}
