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

// Apache httpd in FROM-scratch containers built from the host's binary and
// modules, and as a local process: WebSocket through mod_proxy_http,
// forwarded headers, the balancer's spread, TLS and the idle timeout do
// what the scenario expects; knobs httpd has no equivalent for make their
// rows say so; the rendered httpd.conf is kept and the version recorded.
func TestApacheDocker(t *testing.T) {
	needDocker(t)
	testenv.Program(t, "apache2", "WSBENCH_REQUIRE_APACHE")
	spec := stack.Spec{RunID: stack.NewRunID()}
	out := runScenarios(t, context.Background(), spec, "testdata/apache.yaml")
	checkApache(t, out)
	if l := leftovers(t, spec.RunID); l != "" {
		t.Fatalf("left behind: %s", l)
	}
}

func TestApacheLocal(t *testing.T) {
	testenv.Program(t, "apache2", "WSBENCH_REQUIRE_APACHE")
	out := runScenarios(t, context.Background(), stack.Spec{Runtime: stack.RuntimeLocal}, "testdata/apache.yaml")
	checkApache(t, out)
}

func checkApache(t *testing.T, out *Outcome) {
	t.Helper()
	requirePassed(t, out)
	want := map[string]string{
		"apache-send": "not supported by apache 2.4: send_timeout: ",
		"apache-hash": "not supported by apache 2.4: balance: ip_hash: ",
	}
	seen := map[string]int{}
	for _, r := range out.Scenarios[0].Rows {
		prefix, ok := want[r.Target]
		if !ok {
			continue
		}
		seen[r.Target]++
		if !strings.HasPrefix(r.Skipped, prefix) {
			t.Errorf("%s/%s: skipped %q, err %q; want %q…", r.Target, r.Workload, r.Skipped, r.Err, prefix)
		}
	}
	for target := range want {
		if seen[target] != 1 {
			t.Errorf("%d rows of %s, want 1", seen[target], target)
		}
	}
	conf, err := os.ReadFile(filepath.Join(out.Dir, "apache", "apache", "httpd.conf"))
	if err != nil || !strings.Contains(string(conf), "timeout=1 upgrade=websocket") {
		t.Errorf("saved httpd.conf: %v\n%s", err, conf)
	}
	version := ""
	for _, img := range out.Images {
		if img.Kind == "apache" {
			version = img.Version
		}
	}
	if !strings.Contains(version, "Apache/2.4.") {
		t.Errorf("run images %+v: want apache's version recorded", out.Images)
	}
}
