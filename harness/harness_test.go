package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/testenv"
	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/scenarios"
	"github.com/wsbench/wsbench/stack"
)

// needDocker skips without Docker, but fails when CI requires it.
func needDocker(t *testing.T) {
	t.Helper()
	testenv.Need(t, stack.DockerAvailable(context.Background()), "WSBENCH_REQUIRE_DOCKER")
}

// needNginx skips without nginx, but fails when CI requires the real stack.
func needNginx(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("nginx"); err == nil {
		return
	}
	_, err := os.Stat("/usr/sbin/nginx")
	if err != nil {
		err = fmt.Errorf("no nginx on this machine (apt-get install nginx): %w", err)
	}
	testenv.Need(t, err, "WSBENCH_REQUIRE_NGINX", "WSBENCH_REQUIRE_DOCKER")
}

func load(t *testing.T, names ...string) []*scenarios.Scenario {
	t.Helper()
	var out []*scenarios.Scenario
	for _, n := range names {
		sc, err := scenarios.Resolve(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sc)
	}
	return out
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func runScenarios(t *testing.T, ctx context.Context, spec stack.Spec, names ...string) *Outcome {
	t.Helper()
	dir := t.TempDir()
	out, err := Run(ctx, Options{Scenarios: load(t, names...), Dir: dir, Spec: spec, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// requirePassed fails with every broken expectation and error.
func requirePassed(t *testing.T, out *Outcome) {
	t.Helper()
	for _, s := range out.Scenarios {
		if s.Err != "" {
			t.Errorf("%s: %s", s.Name, s.Err)
		}
		for _, r := range s.Rows {
			if r.Err != "" {
				t.Errorf("%s/%s/%s: %s", s.Name, r.Target, r.Workload, r.Err)
			}
			for _, v := range r.Verdicts {
				if !v.Pass {
					t.Errorf("%s/%s/%s: %s — got %s %s", s.Name, r.Target, r.Workload, v.Expectation.Text, v.Got, v.Reason)
				}
			}
		}
	}
}

// leftovers lists containers and networks labelled by a run.
func leftovers(t *testing.T, runID string) string {
	t.Helper()
	var all []string
	for _, args := range [][]string{
		{"ps", "-a", "--filter", "label=" + stack.LabelRun, "--format", "{{.Names}} {{.Label \"" + stack.LabelRun + "\"}}"},
		{"network", "ls", "--filter", "label=" + stack.LabelRun, "--format", "{{.Name}} {{.Label \"" + stack.LabelRun + "\"}}"},
	} {
		b, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %v: %v %s", args, err, b)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if strings.Contains(line, runID) {
				all = append(all, line)
			}
		}
	}
	return strings.Join(all, "; ")
}

// The small scenario end to end in containers: every target measured,
// workers merged, expectations met, files laid out, nothing left behind.
func TestSmallScenarioDocker(t *testing.T) {
	needDocker(t)
	spec := stack.Spec{RunID: stack.NewRunID()}
	out := runScenarios(t, context.Background(), spec, "testdata/small.yaml")
	requirePassed(t, out)
	if n := len(out.Scenarios[0].Rows); n != 5 {
		t.Fatalf("%d rows, want 5 (3 targets × rtt, 2 × closed)", n)
	}
	rtt := out.Scenarios[0].Rows[0]
	if rtt.Summary.Connections.Opened != 8 || !strings.Contains(strings.Join(rtt.Summary.Notes, ";"), "merged from 2") {
		t.Fatalf("rtt on direct: %+v, notes %v: want 8 connections from 2 merged workers", rtt.Summary.Connections, rtt.Summary.Notes)
	}
	for _, r := range out.Scenarios[0].Rows[1:] {
		if r.Kind != "direct" && (r.Usage == nil || r.Usage.CPU <= 0) {
			t.Errorf("%s/%s: no proxy CPU measured: %+v", r.Target, r.Workload, r.Usage)
		}
	}
	for _, f := range []string{"run.json", "report.html", "report.md", "small/nginx/nginx.conf", "small/nginx/rtt/summary.json", "small/nginx/rtt/rtt.hlog", "small/refproxy/closed/verdicts.json"} {
		if _, err := os.Stat(filepath.Join(out.Dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	back, err := ReadOutcome(out.Dir)
	if err != nil || len(back.Scenarios[0].Rows) != 5 || back.Scenarios[0].Rows[2].Summary == nil {
		t.Fatalf("run.json round trip: %v", err)
	}
	if l := leftovers(t, spec.RunID); l != "" {
		t.Fatalf("left behind: %s", l)
	}
}

// The same topology as local processes, and --count: repetitions kept and
// combined.
func TestSmallScenarioLocalWithRepetitions(t *testing.T) {
	needNginx(t)
	dir := t.TempDir()
	out, err := Run(context.Background(), Options{
		Scenarios: load(t, "testdata/small.yaml"), Dir: dir, Count: 2, Log: testLog{t},
		Spec: stack.Spec{Runtime: stack.RuntimeLocal},
	})
	if err != nil {
		t.Fatal(err)
	}
	requirePassed(t, out)
	row := out.Scenarios[0].Rows[1] // rtt on refproxy
	if len(row.Reps) != 2 || row.Summary.Connections.Attempted != 16 {
		t.Fatalf("refproxy rtt: %d reps, %d attempts; want 2 reps combined (16)", len(row.Reps), row.Summary.Connections.Attempted)
	}
	// The warm-up reached the load generators, and the proxy's usage was
	// read over the measurement that followed it.
	if row.Summary.Params["warmup"] != "300ms" || row.Usage == nil || row.Usage.CPU <= 0 {
		t.Fatalf("refproxy rtt: params %v, usage %+v; want warmup=300ms and proxy CPU measured", row.Summary.Params, row.Usage)
	}
	for _, r := range row.Reps {
		s, err := results.ReadSummary(filepath.Join(dir, r.Dir))
		if err != nil || s.Connections.Attempted != 8 {
			t.Fatalf("repetition %s: %v %+v", r.Dir, err, s)
		}
	}
}

// Ctrl-C in the middle of a run: partial results are kept, marked, and no
// container or network of the run is left.
func TestInterruptedRunLeavesNothing(t *testing.T) {
	needDocker(t)
	spec := stack.Spec{RunID: stack.NewRunID()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *Outcome, 1)
	dir := t.TempDir()
	go func() {
		out, err := Run(ctx, Options{Scenarios: load(t, "testdata/small.yaml"), Dir: dir, Spec: spec, Log: testLog{t}})
		if err != nil {
			t.Error(err)
		}
		done <- out
	}()
	// Cancel once the first workload is running.
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if l := leftovers(t, spec.RunID); strings.Contains(l, "lg-") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	var out *Outcome
	select {
	case out = <-done:
	case <-time.After(time.Minute):
		t.Fatal("run did not return within a minute of Ctrl-C")
	}
	if out == nil || !out.Interrupted {
		t.Fatalf("outcome %+v: want interrupted", out)
	}
	m, err := results.ReadRunFile(dir)
	if err != nil || !m.Interrupted {
		t.Fatalf("run.json after Ctrl-C: %v %+v", err, m)
	}
	if l := leftovers(t, spec.RunID); l != "" {
		t.Fatalf("left behind after Ctrl-C: %s", l)
	}
}

// A wsbench binary containers cannot run (here a shell script) stops the
// whole run with stack.ErrNoWsbench, as no Docker does: `wsbench run`
// exits 2 on it instead of failing every scenario.
func TestRunUnusableBinary(t *testing.T) {
	needDocker(t)
	script := filepath.Join(t.TempDir(), "wsbench")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Options{Scenarios: load(t, "testdata/small.yaml"), Dir: t.TempDir(),
		Spec: stack.Spec{Binary: script}, Log: testLog{t}})
	if !errors.Is(err, stack.ErrNoWsbench) || !strings.Contains(err.Error(), "is not a Linux executable") {
		t.Fatalf("Run with a shell script as wsbench = %v; want stack.ErrNoWsbench saying why", err)
	}
}
