package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/wsbench/wsbench/results"
)

// writeRun writes a small real run under dir.
func writeRun(t *testing.T, dir, target string) {
	t.Helper()
	h := results.NewHistogram()
	for _, us := range []int64{120, 250, 900} {
		if err := h.RecordValue(us); err != nil {
			t.Fatal(err)
		}
	}
	run := &results.Run{
		Summary: results.Summary{
			Target: target, Workload: "rtt", Params: map[string]string{"conns": "2"},
			Start: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC),
			Connections: results.Connections{Attempted: 2, Opened: 2, OpenAtEnd: 2},
		},
		Histograms: map[string]*hdrhistogram.Histogram{results.MetricRTT: h},
	}
	if err := run.Write(dir); err != nil {
		t.Fatal(err)
	}
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &env{stdout: &out, stderr: &errb})
	return code, out.String(), errb.String()
}

func TestReportCommand(t *testing.T) {
	root := t.TempDir()
	writeRun(t, filepath.Join(root, "b", "nginx"), "ws://nginx:80/echo")
	writeRun(t, filepath.Join(root, "a"), "ws://127.0.0.1:9000/echo")
	os.WriteFile(filepath.Join(root, "b", "notes.txt"), []byte("not a result"), 0o644)

	t.Run("one run", func(t *testing.T) {
		code, out, errs := runCLI("report", "--no-files", filepath.Join(root, "a"))
		if code != 0 || !strings.Contains(out, "wsbench rtt → ws://127.0.0.1:9000/echo") || !strings.Contains(out, "rtt") || errs != "" {
			t.Errorf("exit %d, stdout:\n%s\nstderr: %s", code, out, errs)
		}
	})
	t.Run("tree, sorted", func(t *testing.T) {
		code, out, _ := runCLI("report", root)
		a, b := strings.Index(out, "# "+filepath.Join(root, "a")), strings.Index(out, "# "+filepath.Join(root, "b", "nginx"))
		if code != 0 || a < 0 || b < a {
			t.Errorf("exit %d; want both runs, a before b/nginx:\n%s", code, out)
		}
	})
	t.Run("summary file", func(t *testing.T) {
		code, out, _ := runCLI("report", filepath.Join(root, "a", "summary.json"))
		if code != 0 || !strings.Contains(out, "127.0.0.1:9000") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
	t.Run("json", func(t *testing.T) {
		code, out, _ := runCLI("report", "--format", "json", root)
		var sums []results.Summary
		if err := json.Unmarshal([]byte(out), &sums); err != nil || code != 0 {
			t.Fatalf("exit %d, %v:\n%s", code, err, out)
		}
		if len(sums) != 2 || sums[0].Target != "ws://127.0.0.1:9000/echo" || sums[1].Histograms["rtt"].Count != 3 {
			t.Errorf("json summaries %+v", sums)
		}
	})
}

// report writes report.md and report.html into each DIR unless told not
// to, and says so on stderr (stdout stays the table, or pure JSON).
func TestReportCommandFiles(t *testing.T) {
	cases := []struct {
		name     string
		flags    []string
		md, html bool
	}{
		{"both by default", nil, true, true},
		{"no files", []string{"--no-files"}, false, false},
		{"markdown only", []string{"--html=false"}, true, false},
		{"html only", []string{"--md=false"}, false, true},
		{"neither", []string{"--html=false", "--md=false"}, false, false},
		{"json keeps stdout clean", []string{"--format", "json"}, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			writeRun(t, filepath.Join(root, "s", "direct", "rtt"), "ws://direct/echo")
			writeRun(t, filepath.Join(root, "s", "nginx", "rtt"), "ws://nginx/echo")
			code, out, errs := runCLI(append(append([]string{"report"}, c.flags...), root)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, errs)
			}
			md, mdErr := os.ReadFile(filepath.Join(root, "report.md"))
			page, htmlErr := os.ReadFile(filepath.Join(root, "report.html"))
			if (mdErr == nil) != c.md || (htmlErr == nil) != c.html {
				t.Fatalf("report.md written %v, report.html written %v; want %v, %v", mdErr == nil, htmlErr == nil, c.md, c.html)
			}
			if c.md && !strings.Contains(string(md), "|   | direct | nginx |") {
				t.Errorf("report.md does not put the targets side by side:\n%s", md)
			}
			if c.html && (!strings.Contains(string(page), `data-chart="latency"`) || !strings.Contains(string(page), "<th scope=\"col\">nginx</th>")) {
				t.Errorf("report.html lacks the latency chart or the nginx column")
			}
			wrote := strings.Contains(errs, "report: wrote "+filepath.Join(root, "report"))
			if wrote != (c.md || c.html) {
				t.Errorf("stderr %q; want a 'report: wrote' line: %v", errs, c.md || c.html)
			}
			if strings.Contains(out, "report: wrote") {
				t.Errorf("the note went to stdout:\n%s", out)
			}
			if slices.Contains(c.flags, "json") {
				var sums []results.Summary
				if err := json.Unmarshal([]byte(out), &sums); err != nil || len(sums) != 2 {
					t.Errorf("stdout is not the JSON array of 2 summaries: %v\n%s", err, out)
				}
			}
		})
	}
	t.Run("summary file writes into its directory", func(t *testing.T) {
		root := t.TempDir()
		writeRun(t, root, "ws://x/")
		if code, _, errs := runCLI("report", filepath.Join(root, "summary.json")); code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if _, err := os.Stat(filepath.Join(root, "report.html")); err != nil {
			t.Error(err)
		}
	})
	t.Run("run.json with verdicts", func(t *testing.T) {
		root := t.TempDir()
		writeRun(t, filepath.Join(root, "s", "refproxy", "rtt"), "ws://refproxy/echo")
		runJSON := `{"schema": "wsbench/run/v1", "run_id": "r1", "scenarios": [{"name": "s", "rows": [
			{"target": "refproxy", "kind": "refproxy", "workload": "rtt", "dir": "s/refproxy/rtt",
			 "verdicts": [{"Expectation": {"Text": "rtt.p99 < 1ms"}, "Pass": true, "Got": "900µs"}]},
			{"target": "nginx", "kind": "nginx", "workload": "rtt", "error": "nginx did not start"}]}]}`
		os.WriteFile(filepath.Join(root, "run.json"), []byte(runJSON), 0o644)
		if code, _, errs := runCLI("report", root); code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		md, _ := os.ReadFile(filepath.Join(root, "report.md"))
		for _, want := range []string{"# wsbench report: r1", "| refproxy | ✅ | rtt.p99 &lt; 1ms | 900µs |", "**❌ 1 could not run**", "nginx did not start"} {
			if !strings.Contains(string(md), want) {
				t.Errorf("report.md lacks %q:\n%s", want, md)
			}
		}
	})
}

func TestReportCommandFileErrors(t *testing.T) {
	t.Run("unwritable report", func(t *testing.T) {
		root := t.TempDir()
		writeRun(t, root, "ws://x/")
		// A non-empty directory where report.html goes: the rename fails,
		// even for root.
		os.MkdirAll(filepath.Join(root, "report.html", "x"), 0o755)
		code, _, errs := runCLI("report", root)
		if code != 1 || !strings.Contains(errs, "report: results: rename") || !strings.Contains(errs, "report.html") {
			t.Errorf("exit %d, stderr %q; want exit 1 naming report.html", code, errs)
		}
		if tmp, _ := filepath.Glob(filepath.Join(root, ".report.html.*")); len(tmp) > 0 {
			t.Errorf("left %v behind", tmp)
		}
	})
	t.Run("bad run.json", func(t *testing.T) {
		root := t.TempDir()
		writeRun(t, filepath.Join(root, "a"), "ws://x/")
		os.WriteFile(filepath.Join(root, "run.json"), []byte(`{"schema": "wsbench/run/v9"}`), 0o644)
		code, _, errs := runCLI("report", root)
		if code != exitUsage || !strings.Contains(errs, `run.json: schema "wsbench/run/v9", want "wsbench/run/v2"`) {
			t.Errorf("exit %d, stderr %q; want exit 2 naming run.json and the schemas", code, errs)
		}
	})
}

func TestReportCommandErrors(t *testing.T) {
	root := t.TempDir()
	writeRun(t, filepath.Join(root, "good"), "ws://x/")
	writeRun(t, filepath.Join(root, "bad"), "ws://y/")
	bad := filepath.Join(root, "bad", "summary.json")
	b, _ := os.ReadFile(bad)
	os.WriteFile(bad, bytes.Replace(b, []byte("wsbench/result/v1"), []byte("wsbench/result/v0"), 1), 0o644)
	empty := filepath.Join(root, "empty")
	os.Mkdir(empty, 0o755)
	file := filepath.Join(root, "good", "rtt.hgrm")

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no args", nil, "no results directory given"},
		{"missing", []string{filepath.Join(root, "nope")}, filepath.Join(root, "nope") + " does not exist"},
		{"empty dir", []string{empty}, "no summary.json under " + empty},
		{"a file", []string{file}, file + " is a file; want a results directory"},
		{"wrong schema", []string{filepath.Join(root, "bad")}, bad + `: schema "wsbench/result/v0", want "wsbench/result/v1"`},
		{"bad format", []string{"--format", "xml", root}, `--format "xml": want text or json`},
		{"unknown flag", []string{"--colour", root}, "unknown flag: --colour"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(append([]string{"report"}, c.args...)...)
			if code != exitUsage || !strings.Contains(errs, c.want) || out != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit 2 and %q", code, errs, out, c.want)
			}
		})
	}
}

func TestReportHelp(t *testing.T) {
	code, out, _ := runCLI("report", "--help")
	for _, want := range []string{"Usage:\n  wsbench report [--format text|json] [--html=false] [--md=false] [--no-files] DIR…",
		"--format", "--no-files", "--html", "--md", "Examples:", "wsbench report runs/", "report.html"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("help lacks %q (exit %d):\n%s", want, code, out)
		}
	}
}
