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

// caddy in FROM-scratch containers built from the static binary, and as a
// local process: WebSocket through reverse_proxy, the backend read timeout
// and stream_timeout close silent tunnels, TLS, forwarded headers and round
// robin do what the scenario expects; a knob caddy has no equivalent for
// makes its rows say so; the rendered Caddyfile is kept and the version
// that ran recorded.
func TestCaddyDocker(t *testing.T) {
	needDocker(t)
	testenv.Program(t, "caddy", "WSBENCH_REQUIRE_CADDY")
	spec := stack.Spec{RunID: stack.NewRunID()}
	out := runScenarios(t, context.Background(), spec, "testdata/caddy.yaml")
	checkCaddy(t, out)
	if l := leftovers(t, spec.RunID); l != "" {
		t.Fatalf("left behind: %s", l)
	}
}

func TestCaddyLocal(t *testing.T) {
	testenv.Program(t, "caddy", "WSBENCH_REQUIRE_CADDY")
	out := runScenarios(t, context.Background(), stack.Spec{Runtime: stack.RuntimeLocal}, "testdata/caddy.yaml")
	checkCaddy(t, out)
}

func checkCaddy(t *testing.T, out *Outcome) {
	t.Helper()
	requirePassed(t, out)
	skipped := 0
	for _, r := range out.Scenarios[0].Rows {
		if r.Target == "caddy-send" {
			skipped++
			if !strings.HasPrefix(r.Skipped, "not supported by caddy v2.11: send_timeout: ") {
				t.Errorf("caddy-send/%s: skipped %q, err %q; want not supported by caddy v2.11", r.Workload, r.Skipped, r.Err)
			}
		}
	}
	if skipped != 1 {
		t.Errorf("%d rows of caddy-send, want 1", skipped)
	}
	conf, err := os.ReadFile(filepath.Join(out.Dir, "caddy", "caddy", "Caddyfile"))
	if err != nil || !strings.Contains(string(conf), "read_timeout 1s") {
		t.Errorf("saved Caddyfile: %v\n%s", err, conf)
	}
	version := ""
	for _, img := range out.Images {
		if img.Kind == "caddy" {
			version = img.Version
		}
	}
	if !strings.HasPrefix(version, "caddy v2.11.9") {
		t.Errorf("run images %+v: want caddy's version recorded", out.Images)
	}
}
