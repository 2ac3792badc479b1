package stack

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/internal/testenv"
)

// fakeMachine stands in for the machine an installer works on: the tools
// it has, and what each command does (the install step makes the binary).
type fakeMachine struct {
	tools map[string]bool
	ran   []string
	fail  map[string]error // by first two words of a command
	make  string           // the file "apt-get install" or "go install" creates
}

func (m *fakeMachine) installer(root bool) *installer {
	return &installer{root: root,
		lookPath: func(f string) (string, error) {
			if m.tools[f] {
				return "/usr/bin/" + f, nil
			}
			return "", exec.ErrNotFound
		},
		run: func(_ context.Context, s installStep) ([]byte, error) {
			m.ran = append(m.ran, s.String())
			key := strings.Join(s.args[:2], " ")
			if err := m.fail[key]; err != nil {
				return []byte("E: Unable to locate package\n"), err
			}
			switch key {
			case "apt-get install", "go install":
				return nil, os.WriteFile(m.make, []byte("#!/bin/sh\n"), 0o755)
			case "dpkg-query -W":
				return []byte("1.22.1-9+deb12u1"), nil
			}
			return nil, nil
		}}
}

// fakeProxy is a Program whose binary is nowhere until installed.
func fakeProxy(t *testing.T, kind string) Program {
	return Program{Kind: kind, Binary: filepath.Join(t.TempDir(), "wsbench-fake-"+kind), Package: kind + "-pkg",
		GoInstall: "example.com/" + kind + "@v1.0.0"}
}

// The install decision: as root with apt-get, a missing proxy is
// installed with its package, each command printed before it runs, the
// distribution's service stopped, the package version recorded; as
// another user, or with --install never, nothing runs and the error says
// the command.
func TestInstallDecision(t *testing.T) {
	apt := map[string]bool{"apt-get": true, "service": true, "dpkg-query": true}
	tests := []struct {
		name    string
		tools   map[string]bool
		root    bool
		install string
		wantRan []string
		wantErr []string // substrings; nil = success
		wantSrc string   // after the path
	}{
		{name: "root with apt-get", tools: apt, root: true,
			wantRan: []string{
				"DEBIAN_FRONTEND=noninteractive apt-get update -qq",
				"DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends KIND-pkg",
				"service KIND-pkg stop",
				"dpkg-query -W '-f=${Version}' KIND-pkg"},
			wantSrc: ": DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends KIND-pkg (KIND-pkg 1.22.1-9+deb12u1)"},
		{name: "not root", tools: apt, root: false,
			wantErr: []string{"not found in PATH nor at", "sudo apt-get install -y --no-install-recommends KIND-pkg", "wsbench installs only as root"}},
		{name: "install never", tools: apt, root: true, install: InstallNever,
			wantErr: []string{"apt-get install -y --no-install-recommends KIND-pkg", "--install never"}},
		{name: "root with go only", tools: map[string]bool{"go": true}, root: true,
			wantRan: []string{"CGO_ENABLED=0 GOBIN=DIR go install -trimpath '-ldflags=-s -w' example.com/KIND@v1.0.0"},
			wantSrc: ": CGO_ENABLED=0 GOBIN=DIR go install -trimpath '-ldflags=-s -w' example.com/KIND@v1.0.0"},
		{name: "user with go", tools: map[string]bool{"go": true}, root: false,
			wantErr: []string{"CGO_ENABLED=0 go install -trimpath example.com/KIND@v1.0.0 and put $(go env GOPATH)/bin in PATH"}},
		{name: "no tools", tools: nil, root: true,
			wantErr: []string{"the KIND-pkg package (Debian: apt-get install KIND-pkg)", "no apt-get or go here"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind := "fake-" + strings.ReplaceAll(tt.name, " ", "-")
			p := fakeProxy(t, kind)
			m := &fakeMachine{tools: tt.tools, make: p.Binary}
			var log bytes.Buffer
			spec := &Spec{Install: tt.install, Log: &log}
			bin, source, err := hostProxy(context.Background(), spec, p, m.installer(tt.root))
			expand := func(s string) string {
				return strings.NewReplacer("KIND", kind, "DIR", filepath.Dir(p.Binary)).Replace(s)
			}
			var want []string
			for _, w := range tt.wantRan {
				want = append(want, expand(w))
			}
			if strings.Join(m.ran, "\n") != strings.Join(want, "\n") {
				t.Errorf("ran:\n%s\nwant:\n%s", strings.Join(m.ran, "\n"), strings.Join(want, "\n"))
			}
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error; want one saying %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), expand(w)) {
						t.Errorf("error %q lacks %q", err, expand(w))
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if bin != p.Binary || source != SourceInstalled+" "+p.Binary+expand(tt.wantSrc) {
				t.Errorf("got %s from %q; want %s from %q", bin, source, p.Binary, SourceInstalled+" "+p.Binary+expand(tt.wantSrc))
			}
			// Every command is printed before it runs.
			for _, cmd := range m.ran[:len(m.ran)-btoi(tt.tools["dpkg-query"])] {
				if !strings.Contains(log.String(), "$ "+cmd+"\n") {
					t.Errorf("log does not show %q:\n%s", cmd, log.String())
				}
			}
			// Found now: a second stack uses the host's binary.
			if _, source, err := hostProxy(context.Background(), spec, p, m.installer(tt.root)); err != nil || source != SourceHost+" "+p.Binary {
				t.Errorf("after the install: %q, %v; want the host's binary", source, err)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A failed install says what failed with its output and is not tried
// again by the next stack; a failing apt-get update does not stop it, and
// runs once per process.
func TestInstallFailures(t *testing.T) {
	ctx := context.Background()
	m := &fakeMachine{tools: map[string]bool{"apt-get": true},
		fail: map[string]error{"apt-get install": errors.New("exit status 100"), "apt-get update": errors.New("exit status 1")}}
	in := m.installer(true)
	var log bytes.Buffer
	spec := &Spec{Log: &log}
	p := fakeProxy(t, "fake-failing")
	m.make = p.Binary
	_, _, err := hostProxy(ctx, spec, p, in)
	if err == nil || !strings.Contains(err.Error(), "exit status 100") || !strings.Contains(err.Error(), "Unable to locate package") {
		t.Fatalf("failed install: %v; want the exit status and apt-get's output", err)
	}
	if !strings.Contains(log.String(), "going on") {
		t.Errorf("a failed apt-get update stopped the install:\n%s", log.String())
	}
	n := len(m.ran)
	if _, _, err2 := hostProxy(ctx, spec, p, in); err2 == nil || err2.Error() != err.Error() || len(m.ran) != n {
		t.Errorf("second attempt: %v, ran %d more; want the same error, nothing run", err2, len(m.ran)-n)
	}
	// Another proxy: apt-get update failed, so it is tried again; once
	// it succeeded it is not.
	delete(m.fail, "apt-get update")
	delete(m.fail, "apt-get install")
	for _, kind := range []string{"fake-second", "fake-third"} {
		q := fakeProxy(t, kind)
		m.make = q.Binary
		if _, _, err := hostProxy(ctx, spec, q, in); err != nil {
			t.Fatal(err)
		}
	}
	updates := strings.Count(strings.Join(m.ran, "\n"), "apt-get update")
	if updates != 2 {
		t.Errorf("apt-get update ran %d times (failed once, then once more): %q", updates, m.ran)
	}
}

// The real lookup: a binary in PATH is found there (before Binary),
// and its version read; a PATH without it and no Binary is an error naming
// both.
func TestFindHostReal(t *testing.T) {
	nginx := testenv.Program(t, "nginx", "WSBENCH_REQUIRE_NGINX")
	dir := t.TempDir()
	link := filepath.Join(dir, "wsbench-lookup-nginx")
	if err := os.Symlink(nginx, link); err != nil {
		t.Fatal(err)
	}
	p := Program{Kind: "lookup", Binary: "/nonexistent/wsbench-lookup-nginx", Version: []string{"-v"}}
	t.Setenv("PATH", dir)
	bin, err := p.findHost("")
	if err != nil || bin != link {
		t.Fatalf("findHost = %q, %v; want %s from PATH", bin, err, link)
	}
	if v, err := p.version(context.Background(), bin); err != nil || !strings.HasPrefix(v, "nginx version: nginx/") {
		t.Errorf("version = %q, %v", v, err)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := p.findHost(""); err == nil || !strings.Contains(err.Error(), "lookup not found in PATH nor at /nonexistent/wsbench-lookup-nginx") {
		t.Errorf("without it: %v", err)
	}
}

// Where the wsbench binary comes from: the one given; the source tree
// that holds the working directory; outside any, this executable only
// when it is wsbench. Neither a test binary nor another program is: that
// is ErrNoWsbench, with how to build one. (A real wsbench outside the
// tree: cmd/wsbench's TestDynamicBinaryOutsideTree.)
func TestFindWsbench(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := findModuleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	fake := fakeBinary(t)
	self, _ := os.Executable()
	if src, err := findWsbench(&Spec{Binary: fake}, t.TempDir(), self); err != nil || src.binary != fake {
		t.Errorf("given binary: %+v, %v", src, err)
	}
	if src, err := findWsbench(&Spec{}, wd, self); err != nil || src.module != root {
		t.Errorf("in the tree: %+v, %v; want module %s", src, err, root)
	}
	outside := t.TempDir()
	for _, exe := range []string{self, fake} {
		_, err := findWsbench(&Spec{}, outside, exe)
		if !errors.Is(err, ErrNoWsbench) || !strings.Contains(err.Error(), outside+" is not in a wsbench source tree") ||
			!strings.Contains(err.Error(), "("+exe+") is not wsbench") || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
			t.Errorf("outside the tree with %s: %v; want ErrNoWsbench naming both and the build command", exe, err)
		}
	}
}
