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

// haproxy in FROM-scratch containers built from the host's binary, and as
// a local process: WebSocket through mode http, the tunnel timeout, TLS,
// forwarded headers and limit_conn do what the scenario expects; a knob
// haproxy has no equivalent for makes its rows say so; the rendered
// haproxy.cfg is kept and the version that ran recorded.
func TestHaproxyDocker(t *testing.T) {
	needDocker(t)
	testenv.Program(t, "haproxy", "WSBENCH_REQUIRE_HAPROXY")
	spec := stack.Spec{RunID: stack.NewRunID()}
	out := runScenarios(t, context.Background(), spec, "testdata/haproxy.yaml")
	checkHaproxy(t, out)
	if l := leftovers(t, spec.RunID); l != "" {
		t.Fatalf("left behind: %s", l)
	}
}

func TestHaproxyLocal(t *testing.T) {
	testenv.Program(t, "haproxy", "WSBENCH_REQUIRE_HAPROXY")
	out := runScenarios(t, context.Background(), stack.Spec{Runtime: stack.RuntimeLocal}, "testdata/haproxy.yaml")
	checkHaproxy(t, out)
}

func checkHaproxy(t *testing.T, out *Outcome) {
	t.Helper()
	requirePassed(t, out)
	skipped := 0
	for _, r := range out.Scenarios[0].Rows {
		if r.Target == "haproxy-send" {
			skipped++
			if !strings.HasPrefix(r.Skipped, "not supported by haproxy 2.6: send_timeout: ") {
				t.Errorf("haproxy-send/%s: skipped %q, err %q; want not supported by haproxy 2.6", r.Workload, r.Skipped, r.Err)
			}
		}
	}
	if skipped != 1 {
		t.Errorf("%d rows of haproxy-send, want 1", skipped)
	}
	conf, err := os.ReadFile(filepath.Join(out.Dir, "haproxy", "haproxy", "haproxy.cfg"))
	if err != nil || !strings.Contains(string(conf), "timeout tunnel 1s") {
		t.Errorf("saved haproxy.cfg: %v\n%s", err, conf)
	}
	version, source := "", ""
	for _, img := range out.Images {
		if img.Kind == "haproxy" {
			version, source = img.Version, img.Source
		}
	}
	if !strings.HasPrefix(version, "HAProxy version 2.") {
		t.Errorf("run images %+v: want haproxy's version recorded", out.Images)
	}
	// Where it came from: the official image, or the host's binary.
	if !strings.HasPrefix(source, stack.SourceImage+" haproxy:2.6") && !strings.HasPrefix(source, stack.SourceHost+" /") {
		t.Errorf("haproxy source %q: want the image or the host's binary recorded", source)
	}
}
