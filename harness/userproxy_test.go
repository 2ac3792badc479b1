package harness

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/internal/testenv"
	"github.com/wsbench/wsbench/stack"
)

// needUserProxies needs every proxy that takes a config_file.
func needUserProxies(t *testing.T) {
	t.Helper()
	needNginx(t)
	testenv.Program(t, "haproxy", "WSBENCH_REQUIRE_HAPROXY")
	testenv.Program(t, "apache2", "WSBENCH_REQUIRE_APACHE")
	testenv.Program(t, "caddy", "WSBENCH_REQUIRE_CADDY")
}

// The user's own nginx.conf, haproxy.cfg, httpd.conf and Caddyfile
// (config_file) carry WebSockets to both backends in containers, idle
// tunnels close at the file's own timeout, and the file as run is saved
// with the results.
func TestConfigFileDocker(t *testing.T) {
	needDocker(t)
	needUserProxies(t)
	spec := stack.Spec{RunID: stack.NewRunID()}
	out := runScenarios(t, context.Background(), spec, "testdata/userproxy/config-file.yaml")
	checkConfigFile(t, out, "backend-1:9000")
	if l := leftovers(t, spec.RunID); l != "" {
		t.Fatalf("left behind: %s", l)
	}
}

func TestConfigFileLocal(t *testing.T) {
	needUserProxies(t)
	out := runScenarios(t, context.Background(), stack.Spec{Runtime: stack.RuntimeLocal}, "testdata/userproxy/config-file.yaml")
	checkConfigFile(t, out, ":9000")
}

func checkConfigFile(t *testing.T, out *Outcome, upstream string) {
	t.Helper()
	requirePassed(t, out)
	checked := map[string]int{} // rows that ran and met their expectations
	for _, r := range out.Scenarios[0].Rows {
		if r.Skipped == "" && len(r.Verdicts) > 0 {
			checked[r.Target]++
		}
	}
	for target, saved := range map[string]struct{ file, gone string }{
		"my-nginx":   {"nginx.conf", "app-1.internal"},
		"my-haproxy": {"haproxy.cfg", "app-1.internal"},
		"my-apache":  {"httpd.conf", "app-1.internal"},
		"my-caddy":   {"Caddyfile", "reverse_proxy wsbench_backends"},
	} {
		if checked[target] != 2 {
			t.Errorf("%s: %d rows ran with their expectations, want rtt and silent", target, checked[target])
		}
		file := saved.file
		conf, err := os.ReadFile(filepath.Join(out.Dir, "config-file", target, file))
		if err != nil || !strings.Contains(string(conf), upstream) || strings.Contains(string(conf), saved.gone) {
			t.Errorf("saved %s of %s: %v; want its servers pointed at %s:\n%s", file, target, err, upstream, conf)
		}
	}
}

// A typo in the user's file stops the run before any load, with the
// proxy's own message naming the user's file and line.
func TestConfigFileTypoLocal(t *testing.T) { configTypo(t, stack.RuntimeLocal) }

func TestConfigFileTypoDocker(t *testing.T) {
	needDocker(t)
	configTypo(t, stack.RuntimeDocker)
}

func configTypo(t *testing.T, rt string) {
	needUserProxies(t)
	{
		for _, tc := range []struct{ kind, file, want string }{
			{"nginx", "typo-nginx.conf", `unknown directive "proxy_pas" in %s:33`},
			{"haproxy", "typo-haproxy.cfg", "parsing [%s:23] : 'timeout' supports"},             // line 24 as run: 3 servers for 2
			{"apache", "typo-httpd.conf", "Syntax error on %s:30:\nInvalid command 'ProxyPas'"}, // line 32 as run: 3 members for 2
			{"caddy", "typo.Caddyfile", "unrecognized subdirective lb_polcy, at %s:10"},         // line 15 as run: the global options added
		} {
			t.Run(tc.kind, func(t *testing.T) {
				file, _ := filepath.Abs(filepath.Join("testdata/userproxy", tc.file))
				sc := writeScenario(t, `name: typo
backends: {count: 3}
targets:
  - {name: mine, kind: `+tc.kind+`, config_file: `+file+`}
workloads:
  - {name: rtt, load: {workload: rtt, conns: 1, rate: 10, duration: 1s}}
`)
				dir := t.TempDir()
				_, err := Run(context.Background(), Options{Scenarios: load(t, sc), Dir: dir, Spec: stack.Spec{Runtime: rt}, Log: testLog{t}})
				ce, ok := err.(*ConfigError)
				if !ok {
					t.Fatalf("got %v, want a *ConfigError", err)
				}
				if want := strings.Replace(tc.want, "%s", file, 1); !strings.Contains(ce.Output, want) {
					t.Errorf("output %q, want it to hold %q", ce.Output, want)
				}
				if _, err := os.Stat(filepath.Join(dir, "typo", "mine", "rtt")); err == nil {
					t.Error("a workload ran after the check failed")
				}
			})
		}
	}
}

// writeScenario writes a scenario file into a temporary directory.
func writeScenario(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "scenario.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ownProxy is a scenario running the user's own proxy — here `wsbench
// proxy` itself — given by target (kind command or image): rtt for CPU
// per message, hold for CPU per handshake and memory per connection.
func ownProxy(target string) string {
	return `name: own
backends: {count: 2}
targets:
  - ` + target + `
workloads:
  - name: rtt
    load: {workload: rtt, path: "/echo", conns: 4, rate: 200, duration: 1s}
    expect:
      mine: [handshake.success_ratio == 1, balance.backends == 2, proxy.cpu_us_per_msg > 0]
  - name: hold
    load: {workload: hold, path: /echo, conns: 200, duration: 1s}
    expect:
      mine: [handshake.success_ratio == 1, proxy.cpu_us_per_handshake > 0]
`
}

func checkOwnUsage(t *testing.T, out *Outcome) {
	t.Helper()
	requirePassed(t, out)
	for _, r := range out.Scenarios[0].Rows {
		if r.Usage == nil || r.Usage.CPU <= 0 {
			t.Errorf("%s/%s: usage %+v, want the proxy's CPU measured", r.Target, r.Workload, r.Usage)
		}
	}
}

// kind: command runs the built wsbench binary as the user's proxy, its
// listener and upstreams filled into its args, and measures its usage
// like any proxy's.
func TestCommandTarget(t *testing.T) {
	ctx := context.Background()
	bin, err := stack.Binary(ctx, stack.Spec{}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sc := writeScenario(t, ownProxy(`{name: mine, kind: command, command: `+bin+`, port: 9999, args: [proxy, --listen, "{{listen}}", "--upstream={{upstream}}"]}`))
	out, err := Run(ctx, Options{Scenarios: load(t, sc), Dir: t.TempDir(), Spec: stack.Spec{Runtime: stack.RuntimeLocal, Binary: bin}, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	checkOwnUsage(t, out)
}

// kind: image runs an image present locally — the wsbench image the stack
// builds, running `wsbench proxy` — with its usage read from its cgroup;
// an image that is not there says how to get it.
func TestImageTarget(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	spec := stack.Spec{RunID: stack.NewRunID()}
	st, err := stack.Up(ctx, spec)
	if err != nil {
		st.Down(ctx)
		t.Fatal(err)
	}
	img, err := st.Image(ctx, stack.ImageWsbench)
	st.Down(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sc := writeScenario(t, ownProxy(`{name: mine, kind: image, image: `+img.Ref+`, port: 9999, args: [proxy, --listen, "{{listen}}", "--upstream={{upstream}}"]}
  - {name: missing, kind: image, image: wsbench-local/no-such-image:1}`))
	out, err := Run(ctx, Options{Scenarios: load(t, sc), Dir: t.TempDir(), Spec: spec, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	var mine, missing []*Row
	for _, r := range out.Scenarios[0].Rows {
		if r.Target == "missing" {
			missing = append(missing, r)
		} else {
			mine = append(mine, r)
		}
	}
	out.Scenarios[0].Rows = mine
	checkOwnUsage(t, out)
	for _, r := range missing {
		if !strings.Contains(r.Err, "image wsbench-local/no-such-image:1 is not present locally (wsbench does not pull): build it") {
			t.Errorf("missing/%s: err %q, want how to get the image", r.Workload, r.Err)
		}
	}
	if !slices.ContainsFunc(out.Images, func(i ImageInfo) bool { return i.Kind == stack.KindOwnImage && i.Ref == img.Ref && i.ID == img.ID }) {
		t.Errorf("run images %+v: want the user's image %s recorded", out.Images, img.Ref)
	}
	if len(missing) != 2 {
		t.Errorf("%d rows of the missing image, want 2", len(missing))
	}
	if l := leftovers(t, spec.RunID); l != "" {
		t.Fatalf("left behind: %s", l)
	}
}
