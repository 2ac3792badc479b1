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
		code, out, errs := runCLI("report", filepath.Join(root, "a"))
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
	for _, want := range []string{"Usage:\n  wsbench report [--format text|json] DIR…", "--format", "Examples:", "wsbench report runs/"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("help lacks %q (exit %d):\n%s", want, code, out)
		}
	}
}
