package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/wsbench/wsbench/results"
)

// writeGateRun writes an rtt run of six one-second intervals of 200
// latencies each, spread evenly ±20 % around median µs, at the given rate
// parameter.
func writeGateRun(t *testing.T, dir string, median float64, rate string) {
	writeGateRunBusy(t, dir, median, rate, 0)
}

// writeGateRunBusy is writeGateRun with the load generator's busiest loop
// working that share of the load phase (above 0.9: loadgen-bound).
func writeGateRunBusy(t *testing.T, dir string, median float64, rate string, loopBusy float64) {
	t.Helper()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var ivs []*hdrhistogram.PackedHistogram
	var series []results.Interval
	for s := 0; s < 6; s++ {
		h := hdrhistogram.NewPacked(results.LowestUS, results.HighestUS, results.SigFigs)
		level := median * (1 + 0.02*float64(s%3-1))
		for i := 0; i < 200; i++ {
			h.RecordValue(int64(level * (0.8 + 0.4*float64(i)/199)))
		}
		h.SetStartTimeMs(start.UnixMilli() + int64(s)*1000)
		h.SetEndTimeMs(start.UnixMilli() + int64(s+1)*1000)
		ivs = append(ivs, h)
		series = append(series, results.Interval{T: float64(s + 1), Open: 2, MsgsSent: 200, MsgsRecv: 200})
	}
	run := &results.Run{
		Summary: results.Summary{
			Workload: "rtt", Target: "ws://127.0.0.1:9000/echo",
			Params: map[string]string{"url": "ws://127.0.0.1:9000/echo", "workload": "rtt", "rate": rate, "conns": "2"},
			Start:  start, End: start.Add(6 * time.Second),
			Connections: results.Connections{Attempted: 2, Opened: 2, OpenAtEnd: 2},
			Messages:    results.Traffic{Sent: 1200, Received: 1200},
			Rates:       results.Rates{WindowSec: 6, MsgsSentPerSec: 200, MsgsRecvPerSec: 200},
		},
		Intervals: map[string][]*hdrhistogram.PackedHistogram{results.MetricRTT: ivs},
		Series:    series,
	}
	if loopBusy > 0 {
		run.Summary.Self = &results.Self{LoopBusy: loopBusy}
	}
	if err := run.Write(dir); err != nil {
		t.Fatal(err)
	}
}

func compareCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"compare"}, args...), &env{stdout: &out, stderr: &errb})
	return code, out.String(), errb.String()
}

func TestCompareCommand(t *testing.T) {
	root := t.TempDir()
	base, same, slow, other := filepath.Join(root, "base"), filepath.Join(root, "same"), filepath.Join(root, "slow"), filepath.Join(root, "other")
	writeGateRun(t, base, 400, "200")
	writeGateRun(t, same, 404, "200")
	writeGateRun(t, slow, 600, "200")
	writeGateRun(t, other, 400, "500")
	busy, busySlow := filepath.Join(root, "busy"), filepath.Join(root, "busy-slow")
	writeGateRunBusy(t, busy, 404, "200", 0.97)
	writeGateRunBusy(t, busySlow, 600, "200", 0.97)
	// Two results a side: a slows down, b's current is loadgen-bound.
	treeBase, treeMixed := filepath.Join(root, "tree-base"), filepath.Join(root, "tree-mixed")
	writeGateRun(t, filepath.Join(treeBase, "a"), 400, "200")
	writeGateRun(t, filepath.Join(treeBase, "b"), 400, "200")
	writeGateRun(t, filepath.Join(treeMixed, "a"), 600, "200")
	writeGateRunBusy(t, filepath.Join(treeMixed, "b"), 404, "200", 0.97)
	policy := filepath.Join(root, "gate.yaml")
	os.WriteFile(policy, []byte("max:\n  rtt.p50: +60%\n"), 0o644)
	badPolicy := filepath.Join(root, "bad.yaml")
	os.WriteFile(badPolicy, []byte("max:\n  rtt.p5: +10%\n"), 0o644)

	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stdout   string // a substring of stdout
		stderr   string // a substring of stderr
		noStdout bool
	}{
		{"pass", []string{base, same}, exitOK, "PASS: no regression in 4 gated metrics", "", false},
		{"regression", []string{base, slow}, exitFailure, "FAIL: 2 regressions", "2 of 4 gated metrics regressed", false},
		{"summary files", []string{base + "/summary.json", slow + "/summary.json"}, exitFailure, "REGRESSION", "", false},
		{"markdown", []string{"--format", "markdown", base, slow}, exitFailure, "### ❌ wsbench: 2 regressions", "", false},
		{"limits off", []string{"--max", "rtt.p50=off", "--max", "rtt.p99=off", base, slow}, exitOK, "PASS", "", false},
		{"looser limit", []string{"--max", "rtt.p50=+60%", "--max", "rtt.p99=+60%", base, slow}, exitOK, "PASS", "", false},
		{"policy file", []string{"--policy", policy, base, slow}, exitOK, "PASS: no regression in 1 gated metric", "", false},
		{"policy file and flag", []string{"--policy", policy, "--max", "rtt.p99=+10%", base, slow}, exitFailure, "FAIL: 1 regression", "", false},
		{"loadgen-bound, nothing else", []string{base, busy}, exitUsage, "LOADGEN-BOUND: no regression in 4 gated metrics over 1 result; 3 not judged",
			"3 of 4 gated metrics not judged: loadgen-bound", false},
		{"loadgen-bound hides a slowdown", []string{base, busySlow}, exitUsage, "not judged (the figures alone say regression)", "not judged: loadgen-bound", false},
		{"regression elsewhere wins", []string{treeBase, treeMixed}, exitFailure,
			"FAIL: 2 regressions in 8 gated metrics over 2 results; 3 not judged", "2 of 8 gated metrics regressed", false},
		{"loadgen-bound markdown", []string{"--format", "markdown", base, busy}, exitUsage, "### ⚠️ wsbench: no regression", "", false},
		{"different load", []string{base, other}, exitUsage, "", `load parameter "rate" differs: baseline "200", current "500"`, true},
		{"missing baseline", []string{filepath.Join(root, "nope"), slow}, exitUsage, "", "baseline: compare: " + filepath.Join(root, "nope") + " does not exist", true},
		{"missing current", []string{base, filepath.Join(root, "nope")}, exitUsage, "", "current: compare:", true},
		{"one argument", []string{base}, exitUsage, "", "want two arguments, BASELINE and CURRENT", true},
		{"bad format", []string{"--format", "html", base, slow}, exitUsage, "", `--format "html"`, true},
		{"max without value", []string{"--max", "rtt.p99", base, slow}, exitUsage, "", `--max "rtt.p99": want METRIC=LIMIT`, true},
		{"max on a throughput", []string{"--max", "throughput.msgs_per_s=+5%", base, slow}, exitUsage, "", "--max throughput.msgs_per_s=+5%: higher is better", true},
		{"min with a plus", []string{"--min", "throughput.msgs_per_s=+5%", base, slow}, exitUsage, "", "want -N%", true},
		{"unknown metric", []string{"--max", "latency=+5%", base, slow}, exitUsage, "", `unknown metric "latency"`, true},
		{"missing policy", []string{"--policy", filepath.Join(root, "none.yaml"), base, slow}, exitUsage, "", "none.yaml", true},
		{"bad policy", []string{"--policy", badPolicy, base, slow}, exitUsage, "", "bad.yaml:2: max: unknown metric", true},
		{"unknown flag", []string{"--bogus", base, slow}, exitUsage, "", "--bogus", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := compareCLI(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errs, tc.stderr) || (tc.noStdout && out != "") {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errs)
			}
		})
	}
}

func TestCompareCommandJSON(t *testing.T) {
	root := t.TempDir()
	writeGateRun(t, root+"/a", 400, "200")
	writeGateRun(t, root+"/b", 600, "200")
	code, out, _ := compareCLI("--format", "json", root+"/a", root+"/b")
	var rep struct {
		Passed      bool `json:"passed"`
		Regressions int  `json:"regressions"`
		Rows        []struct {
			Metric  string   `json:"metric"`
			Verdict string   `json:"verdict"`
			P       *float64 `json:"p"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if code != exitFailure || rep.Passed || rep.Regressions != 2 || rep.Rows[0].Metric != "rtt.p50" || rep.Rows[0].P == nil {
		t.Fatalf("exit %d, report %+v", code, rep)
	}
}

// The workflow must be valid GitHub Actions YAML that benchmarks both sides
// and gates on a compare command line this binary accepts.
func TestWorkflow(t *testing.T) {
	data, err := os.ReadFile("../../.github/workflows/wsbench.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Name string         `yaml:"name"`
		On   map[string]any `yaml:"on"`
		Jobs map[string]struct {
			RunsOn string `yaml:"runs-on"`
			Steps  []struct {
				Name string            `yaml:"name"`
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				With map[string]string `yaml:"with"`
				If   string            `yaml:"if"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(false)
	if err := dec.Decode(&wf); err != nil {
		t.Fatal(err)
	}
	if _, ok := wf.On["pull_request"]; !ok || len(wf.Jobs) == 0 {
		t.Fatalf("workflow: on %v, %d jobs; want a pull_request trigger and a job", wf.On, len(wf.Jobs))
	}
	var script strings.Builder
	refs := map[string]bool{}
	for name, job := range wf.Jobs {
		if job.RunsOn == "" || len(job.Steps) == 0 {
			t.Fatalf("job %s: runs-on %q, %d steps", name, job.RunsOn, len(job.Steps))
		}
		for i, st := range job.Steps {
			if (st.Uses == "") == (st.Run == "") {
				t.Fatalf("job %s step %d (%s): want exactly one of uses and run", name, i+1, st.Name)
			}
			script.WriteString(st.Run + "\n")
			if r := st.With["ref"]; r != "" {
				refs[r] = true
			}
		}
	}
	if !refs["${{ github.event.pull_request.base.sha }}"] || !refs["${{ github.event.pull_request.head.sha }}"] {
		t.Fatalf("checkouts of %v; want the base and the head of the pull request", refs)
	}
	s := script.String()
	for _, want := range []string{"make -C base bench", "make -C head bench", "$GITHUB_STEP_SUMMARY", "exit 1"} {
		if !strings.Contains(s, want) {
			t.Errorf("workflow scripts lack %q", want)
		}
	}
	// The compare line must parse with this binary's flags.
	_, line, ok := strings.Cut(s, "wsbench compare ")
	if !ok {
		t.Fatal("no 'wsbench compare' in the workflow")
	}
	line, _, _ = strings.Cut(line, ">")
	fs := pflag.NewFlagSet("compare", pflag.ContinueOnError)
	compareFlags(fs)
	if err := fs.Parse(strings.Fields(line)); err != nil || fs.NArg() != 2 || fs.Lookup("format").Value.String() != "markdown" {
		t.Fatalf("compare line %q: %v, %d args; want --format markdown BASE HEAD", line, err, fs.NArg())
	}
}
