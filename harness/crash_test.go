package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wsbench/wsbench/report"
	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/scenarios"
	"github.com/wsbench/wsbench/stack"
)

// crashChildEnv, when set, makes this test binary the crash test's child:
// it writes results into the directory it names until it is killed.
const crashChildEnv = "WSBENCH_CRASH_CHILD_DIR"

// killedRunEnv, when set to <run id>:<dir>, makes this test binary a
// `wsbench run` of testdata/small.yaml in containers, to be killed.
const killedRunEnv = "WSBENCH_KILLED_RUN"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		if err := writeResultsForever(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if v := os.Getenv(killedRunEnv); v != "" {
		id, dir, _ := strings.Cut(v, ":")
		sc, err := scenarios.Resolve("testdata/small.yaml")
		if err == nil {
			_, err = Run(context.Background(), Options{Scenarios: []*scenarios.Scenario{sc}, Dir: dir,
				Spec: stack.Spec{RunID: id}, Log: os.Stderr})
		}
		fmt.Fprintln(os.Stderr, "run ended before it was killed:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// `wsbench cleanup --run RUN_ID` after a run killed with SIGKILL (no Down,
// no run.json naming its stacks) removes every container and network the
// run left: each carries the plain run id.
func TestKilledRunCleanup(t *testing.T) {
	needDocker(t)
	id := stack.NewRunID()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killedRunEnv+"="+id+":"+t.TempDir())
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { stack.Cleanup(context.Background(), id) })
	// Kill once the load generators run: backends and proxies are up.
	for deadline := time.Now().Add(3 * time.Minute); !strings.Contains(leftovers(t, id), "lg-"); time.Sleep(200 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("the run ended before it was killed: %v\n%s", err, &log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no load generator of run %s started within 3 minutes\n%s", id, &log)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	left := leftovers(t, id)
	if left == "" {
		t.Fatal("the killed run left nothing: the test proves nothing")
	}
	t.Logf("the killed run left: %s", left)
	containers, networks, err := stack.Cleanup(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cleanup removed %d containers and %d networks", containers, networks)
	if l := leftovers(t, id); l != "" {
		t.Fatalf("after cleanup --run %s: %s", id, l)
	}
}

// crashRun is the result every row of the crash test holds, the same
// bytes each time, so a file under a final name can be checked against a
// reference copy.
func crashRun() *results.Run {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	hist := func(base int64) *hdrhistogram.Histogram {
		h := results.NewHistogram()
		for i := int64(0); i < 5000; i++ {
			h.RecordValue(base + (i*7919)%1000)
		}
		return h
	}
	r := &results.Run{
		Summary: results.Summary{
			Target: "ws://127.0.0.1:9/echo", Workload: "rtt", Start: start, End: start.Add(5 * time.Second),
			Params:      map[string]string{"conns": "20", "rate": "1000", "duration": "5s"},
			Connections: results.Connections{Attempted: 20, Opened: 20, OpenAtEnd: 20},
			Messages:    results.Traffic{Sent: 5000, Received: 5000},
		},
		Histograms: map[string]*hdrhistogram.Histogram{
			results.MetricRTT: hist(200), results.MetricHandshake: hist(300),
		},
	}
	for i := range 5 {
		r.Series = append(r.Series, results.Interval{T: float64(i + 1), Open: 20, MsgsSent: 1000, MsgsRecv: 1000, P50: 300, P99: 900})
	}
	return r
}

// writeResultsForever is the child: it adds one row after another to a
// run directory as `wsbench run` does — the row's files, its verdicts,
// run.json, report.md and report.html — until it is killed.
func writeResultsForever(dir string) error {
	o := &Outcome{RunID: "crash", Dir: dir, Start: time.Now(), Scenarios: []*ScenarioOutcome{{Name: "crash"}}}
	run := crashRun()
	for i := 0; ; i++ {
		row := &Row{Target: fmt.Sprintf("t%03d", i), Kind: "direct", Workload: "rtt", Dir: filepath.Join("crash", fmt.Sprintf("t%03d", i), "rtt")}
		if err := run.Write(filepath.Join(dir, row.Dir)); err != nil {
			return err
		}
		if err := writeVerdicts(filepath.Join(dir, row.Dir), row); err != nil {
			return err
		}
		o.Scenarios[0].Rows = append(o.Scenarios[0].Rows, row)
		if err := o.write(); err != nil {
			return err
		}
		if err := o.writeReports(); err != nil {
			return err
		}
	}
}

// A run killed with SIGKILL while it writes results leaves every file it
// finished readable and no file half-written under its final name, and
// the directory still makes a report. Each round kills the writer at a
// random moment after its third row; the reports take about a third of a
// row's time, so with the reports written in place (as they once were)
// some of the 16 rounds find one cut short.
func TestKilledWriterLeavesReadableResults(t *testing.T) {
	ref := t.TempDir()
	if err := crashRun().Write(ref); err != nil {
		t.Fatal(err)
	}
	if err := writeVerdicts(ref, &Row{}); err != nil {
		t.Fatal(err)
	}
	for round := range 16 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			// Kill within the next few rows, wherever that falls: the
			// row's files, run.json or the reports.
			first := waitForRows(t, dir, 1, exited, &stderr)
			perRow := waitForRows(t, dir, 3, exited, &stderr).Sub(first) / 2
			delay := rand.N(3*perRow + time.Millisecond)
			time.Sleep(delay)
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-exited
			t.Logf("killed %v after the third row (a row takes about %v)", delay, perRow)
			checkKilledRun(t, dir, ref)
		})
	}
}

// waitForRows polls until run.json lists n rows, and says when it saw them.
func waitForRows(t *testing.T, dir string, n int, exited <-chan error, stderr *bytes.Buffer) time.Time {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("the writer exited before it was killed: %v: %s", err, stderr)
		default:
		}
		if o, err := ReadOutcome(dir); err == nil && len(o.Scenarios[0].Rows) >= n {
			return time.Now()
		}
	}
	t.Fatalf("run.json never listed %d rows", n)
	return time.Time{}
}

func checkKilledRun(t *testing.T, dir, ref string) {
	t.Helper()
	o, err := ReadOutcome(dir)
	if err != nil {
		t.Fatalf("run.json after the kill: %v", err)
	}
	// What `wsbench report DIR` does: every summary.json decodes, and
	// the overview loads and renders.
	ov, err := results.LoadOverview(dir)
	if err != nil {
		t.Fatalf("report after the kill: %v", err)
	}
	var md, html bytes.Buffer
	if err := report.WriteMarkdown(&md, ov); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteHTML(&html, ov); err != nil {
		t.Fatal(err)
	}
	mdLast := lastLine(md.String())
	summaries := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err // hidden: a temporary file the kill left
		}
		got, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch name := d.Name(); {
		case name == results.RunFile:
		case name == "report.html":
			if !bytes.HasSuffix(got, []byte("</html>\n")) {
				t.Errorf("%s is cut short (%d bytes, ends %q)", rel, len(got), tail(got))
			}
		case name == "report.md":
			if lastLine(string(got)) != mdLast {
				t.Errorf("%s is cut short (%d bytes, ends %q); want its last line %q", rel, len(got), tail(got), mdLast)
			}
		default:
			want, err := os.ReadFile(filepath.Join(ref, name))
			if err != nil {
				t.Errorf("unexpected file %s: %v", rel, err)
				return nil
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: %d bytes, want the %d written whole (ends %q)", rel, len(got), len(want), tail(got))
			}
			if name == results.SummaryFile {
				summaries++
				if _, err := results.Read(filepath.Dir(path)); err != nil {
					t.Errorf("%s: %v", rel, err)
				}
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if rows := len(o.Scenarios[0].Rows); summaries < rows {
		t.Errorf("%d summaries for the %d rows run.json lists", summaries, rows)
	}
	t.Logf("%d rows in run.json, %d summaries", len(o.Scenarios[0].Rows), summaries)
}

func lastLine(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func tail(b []byte) string {
	return string(b[max(0, len(b)-40):])
}
