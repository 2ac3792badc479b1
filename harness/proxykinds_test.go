package harness

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/internal/testenv"
	"github.com/wsbench/wsbench/stack"
)

// The proxies run from the host's binaries — in FROM-scratch containers
// and as local processes — each through its testdata/<kind>.yaml:
// WebSocket through the proxy, its idle timeout, TLS, forwarded headers
// and balancing do what the scenario expects; a knob the proxy has no
// equivalent for makes that target's one row say so; the rendered
// configuration is kept and the version that ran, and where it came
// from, recorded.
type proxyKind struct {
	kind, program, require string
	skipped                map[string]string // target → the prefix of its row's Skipped
	conf, confHas          string            // the saved configuration, and a line the scenario's knobs put there
	version                func(string) bool
}

var proxyKinds = []proxyKind{
	{kind: "haproxy", program: "haproxy", require: "WSBENCH_REQUIRE_HAPROXY",
		skipped: map[string]string{"haproxy-send": "not supported by haproxy 2.6: send_timeout: "},
		conf:    "haproxy.cfg", confHas: "timeout tunnel 1s",
		version: func(v string) bool { return strings.HasPrefix(v, "HAProxy version 2.") }},
	{kind: "apache", program: "apache2", require: "WSBENCH_REQUIRE_APACHE",
		skipped: map[string]string{
			"apache-send": "not supported by apache 2.4: send_timeout: ",
			"apache-hash": "not supported by apache 2.4: balance: ip_hash: ",
		},
		conf: "httpd.conf", confHas: "timeout=1 upgrade=websocket",
		version: func(v string) bool { return strings.Contains(v, "Apache/2.4.") }},
	{kind: "caddy", program: "caddy", require: "WSBENCH_REQUIRE_CADDY",
		skipped: map[string]string{"caddy-send": "not supported by caddy v2.11: send_timeout: "},
		conf:    "Caddyfile", confHas: "read_timeout 1s",
		version: func(v string) bool { return strings.HasPrefix(v, "caddy v2.11.9") }},
}

func TestProxyKindsDocker(t *testing.T) {
	needDocker(t)
	for _, pk := range proxyKinds {
		t.Run(pk.kind, func(t *testing.T) {
			testenv.Program(t, pk.program, pk.require)
			spec := stack.Spec{RunID: stack.NewRunID()}
			out := runScenarios(t, context.Background(), spec, "testdata/"+pk.kind+".yaml")
			checkProxyKind(t, out, pk)
			if l := leftovers(t, spec.RunID); l != "" {
				t.Fatalf("left behind: %s", l)
			}
		})
	}
}

func TestProxyKindsLocal(t *testing.T) {
	for _, pk := range proxyKinds {
		t.Run(pk.kind, func(t *testing.T) {
			testenv.Program(t, pk.program, pk.require)
			out := runScenarios(t, context.Background(), stack.Spec{Runtime: stack.RuntimeLocal}, "testdata/"+pk.kind+".yaml")
			checkProxyKind(t, out, pk)
		})
	}
}

func checkProxyKind(t *testing.T, out *Outcome, pk proxyKind) {
	t.Helper()
	kind := pk.kind
	requirePassed(t, out)
	seen := map[string]int{}
	for _, r := range out.Scenarios[0].Rows {
		prefix, ok := pk.skipped[r.Target]
		if !ok {
			continue
		}
		seen[r.Target]++
		if !strings.HasPrefix(r.Skipped, prefix) {
			t.Errorf("%s/%s: skipped %q, err %q; want %q…", r.Target, r.Workload, r.Skipped, r.Err, prefix)
		}
	}
	for target := range pk.skipped {
		if seen[target] != 1 {
			t.Errorf("%d rows of %s, want 1", seen[target], target)
		}
	}
	conf, err := os.ReadFile(filepath.Join(out.Dir, kind, kind, pk.conf))
	if err != nil || !strings.Contains(string(conf), pk.confHas) {
		t.Errorf("saved %s: %v\n%s", pk.conf, err, conf)
	}
	version, source := "", ""
	for _, img := range out.Images {
		if img.Kind == kind {
			version, source = img.Version, img.Source
		}
	}
	if !pk.version(version) {
		t.Errorf("run images %+v: want %s's version recorded", out.Images, kind)
	}
	// Where it came from: a pinned image, or the host's binary.
	if !strings.HasPrefix(source, stack.SourceImage+" ") && !strings.HasPrefix(source, stack.SourceHost+" /") {
		t.Errorf("%s source %q: want the image or the host's binary recorded", kind, source)
	}
}
