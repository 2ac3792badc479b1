package harness

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/stack"
)

// The built-in seed scenarios against real nginx and the reference proxy in
// containers, with the outcomes a user relies on asserted here as well as
// by the scenarios' own expectations: S1 is refused with nginx's status and
// S2/S3 carry the WebSocket; ip_hash puts one /24 on one backend; a killed
// backend's connections count as dropped; the read timeout drops a silent
// connection when configured; nothing of the run is left behind.
func TestSeedScenariosDocker(t *testing.T) {
	needDocker(t)
	spec := stack.Spec{RunID: stack.NewRunID()}
	out := runScenarios(t, context.Background(), spec,
		"seed-configs", "balance", "backend-failure", "testdata/timeouts.yaml")
	requirePassed(t, out)

	s1 := summaryOf(t, out, "seed-configs", "s1-plain", "upgrade")
	if s1.Connections.Opened != 0 || httpFailures(s1) != s1.Connections.Attempted {
		t.Errorf("S1: %d opened, failures %v; want every handshake refused with an HTTP status", s1.Connections.Opened, s1.Failures)
	}
	for _, target := range []string{"s2-upgrade", "s3-map"} {
		s := summaryOf(t, out, "seed-configs", target, "upgrade")
		if c := s.Connections; c.Attempted == 0 || c.Opened != c.Attempted {
			t.Errorf("%s: %d of %d handshakes succeeded, want all", target, c.Opened, c.Attempted)
		}
	}

	for _, target := range []string{"nginx-ip-hash", "refproxy-ip-hash"} {
		if b := summaryOf(t, out, "balance", target, "one-address").Backends; len(b) != 1 {
			t.Errorf("%s from one address: backends %v, want all on one", target, b)
		}
	}
	if b := summaryOf(t, out, "balance", "nginx-round-robin", "one-address").Backends; len(b) != 4 {
		t.Errorf("nginx round robin: backends %v, want all four", b)
	}

	for _, target := range []string{"nginx", "refproxy"} {
		c := summaryOf(t, out, "backend-failure", target, "kill").Connections
		if c.Dropped == 0 || c.Dropped >= c.Opened {
			t.Errorf("%s with a backend killed: %+v; want the killed backend's share dropped", target, c)
		}
		drop := summaryOf(t, out, "timeouts", target, "silent").Histograms[results.MetricDrop]
		if p50 := time.Duration(drop.P50) * time.Microsecond; drop.Count != 20 || p50 < 700*time.Millisecond || p50 > 1500*time.Millisecond {
			t.Errorf("%s with a 1 s read timeout: %d drops, median %v; want 20 near 1 s", target, drop.Count, p50)
		}
	}

	if l := leftovers(t, spec.RunID); l != "" {
		t.Fatalf("left behind: %s", l)
	}
}

func summaryOf(t *testing.T, out *Outcome, scenario, target, workload string) *results.Summary {
	t.Helper()
	for _, s := range out.Scenarios {
		for _, r := range s.Rows {
			if s.Name == scenario && r.Target == target && r.Workload == workload && r.Summary != nil {
				return r.Summary
			}
		}
	}
	t.Fatalf("no result for %s/%s/%s", scenario, target, workload)
	return nil
}

func httpFailures(s *results.Summary) (n int64) {
	for cause, count := range s.Failures {
		if strings.HasPrefix(cause, "http_") {
			n += count
		}
	}
	return n
}
