package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/wsbench/wsbench/internal/testenv"
	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/stack"
)

// doctorLine finds the line of check name in doctor's output.
func doctorLine(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[1] == name {
			return l
		}
	}
	return ""
}

// On this machine everything the proxies scenario needs as local
// processes is there: one ok line per check, each proxy with its version,
// exit 0.
func TestDoctorHere(t *testing.T) {
	testenv.Program(t, "nginx", "WSBENCH_REQUIRE_NGINX")
	testenv.Program(t, "haproxy", "WSBENCH_REQUIRE_HAPROXY")
	testenv.Program(t, "apache2", "WSBENCH_REQUIRE_APACHE")
	testenv.Program(t, "caddy", "WSBENCH_REQUIRE_CADDY")
	code, out, errs := runCLI("doctor", "proxies", "--runtime", "local")
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, errs, out)
	}
	for name, want := range map[string]string{
		"wsbench":    `^ok +wsbench +module /\S+: go1\.`,
		"nginx":      `^ok +nginx +host /\S+/nginx: nginx version: nginx/1\.`,
		"haproxy":    `^ok +haproxy +host /\S+/haproxy: HAProxy version 2\.`,
		"apache":     `^ok +apache +host /\S+/apache2: Server version: Apache/2\.4`,
		"caddy":      `^ok +caddy +host /\S+/caddy: caddy v2\.`,
		"file limit": `^ok +file limit +each process gets 20000 open files`,
	} {
		if line := doctorLine(out, strings.Fields(name)[0]); !regexp.MustCompile(want).MatchString(line) {
			t.Errorf("%s line %q; want /%s/", name, line, want)
		}
	}
	if line := doctorLine(out, "source"); !strings.HasPrefix(line, "ok") || !strings.Contains(line, "127.0.16.1") {
		t.Errorf("source addresses line %q", line)
	}
}

var registerDoctorTest sync.Once

// A proxy that is in no PATH directory nor at its path is missing, and its
// line ends with the command that installs it; once a PATH directory
// holds it, it is found there with its version.
func TestDoctorMissingProxy(t *testing.T) {
	nginx := testenv.Program(t, "nginx", "WSBENCH_REQUIRE_NGINX")
	const kind = "wsbench-doctortest"
	registerDoctorTest.Do(func() {
		stack.RegisterProgram(stack.Program{Kind: kind, Binary: "/nonexistent/" + kind, Version: []string{"-v"},
			Package: kind + "-pkg", Conf: "/etc/x.conf", Args: func(string) []string { return nil }})
	})
	spec := stack.Spec{Runtime: stack.RuntimeLocal, Install: stack.InstallNever}
	line := func() (string, check) {
		for _, c := range doctor(context.Background(), spec, []string{kind}, false) {
			if c.name == kind {
				var b strings.Builder
				c.write(&b)
				return b.String(), c
			}
		}
		t.Fatalf("no %s check", kind)
		return "", check{}
	}
	got, c := line()
	if !c.missing() || !strings.HasPrefix(got, "missing  "+kind) ||
		!strings.Contains(got, kind+" not found in PATH nor at /nonexistent/"+kind) ||
		!strings.Contains(got, "; fix: ") || !strings.Contains(got, "apt-get install -y --no-install-recommends "+kind+"-pkg") {
		t.Errorf("missing proxy line:\n%s", got)
	}
	dir := t.TempDir()
	if err := os.Symlink(nginx, filepath.Join(dir, kind)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	got, c = line()
	if c.missing() || !strings.HasPrefix(got, "ok       "+kind+" host "+filepath.Join(dir, kind)+": nginx version:") {
		t.Errorf("proxy in PATH:\n%s", got)
	}
}

// Without Docker the docker line says so with the fix, and doctor exits 1.
func TestDoctorNoDocker(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no.sock"))
	code, out, _ := runCLI("doctor")
	line := doctorLine(out, "docker")
	if code != exitFailure || !strings.HasPrefix(line, "missing") || !strings.Contains(line, "fix: start Docker") {
		t.Errorf("exit %d, docker line %q; want exit 1 and the fix:\n%s", code, line, out)
	}
}

// Outside any source tree, a program that is not wsbench (this test
// binary) has nothing to deploy: exit 2 with how to get a binary.
func TestRunOutsideTreeNotWsbench(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, errs := runCLI("run", "--runtime", "local", "--out", "run", "throughput")
	if code != exitUsage || !strings.Contains(errs, "is not in a wsbench source tree") || !strings.Contains(errs, "CGO_ENABLED=0 GOOS=linux go build -o wsbench ./cmd/wsbench") {
		t.Errorf("exit %d, stderr %q; want exit 2 with the build command; stdout:\n%s", code, errs, out)
	}
}

const outsideScenario = `name: outside
description: a wsbench binary run outside the source tree
backends: {count: 1}
targets:
  - {name: direct, kind: direct}
workloads:
  - name: rtt
    load: {workload: rtt, path: /echo, conns: 2, rate: 50, duration: 1s}
    expect:
      "*": ["handshake.success_ratio == 1"]
`

// A dynamically linked wsbench (a plain go build with cgo) run outside the
// source tree deploys itself: as a local process, and in containers in an
// image with the libraries ldd lists. doctor says so.
func TestDynamicBinaryOutsideTree(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "wsbench")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		testenv.Need(t, err, "a cgo build (it needs a C compiler): "+string(out))
	}
	if out, _ := exec.Command("ldd", bin).CombinedOutput(); !strings.Contains(string(out), "libc.so") {
		t.Fatalf("the cgo build is not dynamic: ldd says %s", out)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "outside.yaml"), []byte(outsideScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	runIn := func(args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	for _, runtime := range []string{stack.RuntimeLocal, stack.RuntimeDocker} {
		t.Run(runtime, func(t *testing.T) {
			if runtime == stack.RuntimeDocker {
				testenv.Need(t, stack.DockerAvailable(context.Background()), "WSBENCH_REQUIRE_DOCKER")
			}
			_, out := runIn("doctor", "outside.yaml", "--runtime", runtime)
			line := doctorLine(out, "wsbench")
			if !strings.HasPrefix(line, "ok       wsbench       binary "+bin+"; this executable (no wsbench source in ") {
				t.Errorf("doctor's wsbench line %q:\n%s", line, out)
			}
			if runtime == stack.RuntimeDocker && !strings.Contains(line, "dynamically linked: its image gets the ") {
				t.Errorf("doctor's wsbench line %q does not name the libraries", line)
			}
			code, out := runIn("run", "outside.yaml", "--runtime", runtime, "--out", runtime, "--quiet")
			if code != exitOK {
				t.Fatalf("run exit %d:\n%s", code, out)
			}
			var rf struct{ Images []results.RunImage }
			b, err := os.ReadFile(filepath.Join(dir, runtime, "run.json"))
			if err == nil {
				err = json.Unmarshal(b, &rf)
			}
			if err != nil || len(rf.Images) == 0 || rf.Images[0].Kind != stack.ImageWsbench {
				t.Fatalf("run.json images %+v, %v", rf.Images, err)
			}
			if runtime == stack.RuntimeLocal && rf.Images[0].Ref != bin {
				t.Errorf("local wsbench = %q; want this executable %s", rf.Images[0].Ref, bin)
			}
		})
	}
}

// --image KIND=IMAGE names a proxy's first image; KIND= and none mean
// the host's binary; --nginx-image is --image nginx=.
func TestParseImages(t *testing.T) {
	got, err := parseImages([]string{"none", "haproxy=haproxy:3.0"}, "nginx:stable")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range stack.ProxyKinds() {
		want := ""
		switch kind {
		case "haproxy":
			want = "haproxy:3.0"
		case stack.ImageNginx:
			want = "nginx:stable"
		}
		if v, ok := got[kind]; !ok || v != want {
			t.Errorf("%s = %q (set %v); want %q", kind, v, ok, want)
		}
	}
	if got, err := parseImages([]string{"caddy="}, ""); err != nil || len(got) != 1 || got["caddy"] != "" {
		t.Errorf("caddy= → %v, %v; want caddy mapped to no image", got, err)
	}
}
