package compare

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/results"
)

func TestSplitRep(t *testing.T) {
	for _, tc := range []struct {
		rel, key string
		rep      int
	}{
		{".", ".", 0},
		{"rtt", "rtt", 0},
		{"s2/nginx/rtt", "s2/nginx/rtt", 0},
		{"s2/nginx/rtt/rep-3", "s2/nginx/rtt", 3},
		{"rep-12/rtt", "rtt", 12},
		{"rep-1", ".", 1},
		{"rep-0/rtt", "rep-0/rtt", 0},
		{"rep-x/rtt", "rep-x/rtt", 0},
		{"a/reps/b", "a/reps/b", 0},
	} {
		t.Run(tc.rel, func(t *testing.T) {
			if key, rep := splitRep(tc.rel); key != tc.key || rep != tc.rep {
				t.Fatalf("splitRep(%q) = %q, %d; want %q, %d", tc.rel, key, rep, tc.key, tc.rep)
			}
		})
	}
}

func TestLoadRunDirectory(t *testing.T) {
	dir := t.TempDir()
	synth{seed: 1}.write(t, dir, "s2/proxy/rtt")
	synth{seed: 2}.write(t, dir, "s2/proxy/rtt/rep-1")
	synth{seed: 3}.write(t, dir, "s2/proxy/rtt/rep-2")
	synth{seed: 4}.write(t, dir, "s2/direct/rtt")
	writeRunJSON(t, dir, []map[string]any{
		{"target": "proxy", "workload": "rtt", "dir": "s2/proxy/rtt", "usage": usage(50 * time.Millisecond),
			"reps": []any{map[string]any{"dir": "s2/proxy/rtt/rep-1", "usage": usage(20 * time.Millisecond)},
				map[string]any{"dir": "s2/proxy/rtt/rep-2", "usage": usage(30 * time.Millisecond)}}},
		{"target": "direct", "workload": "rtt", "dir": "s2/direct/rtt"},
	})
	set := load(t, dir)
	if got := keyList(set); got != "s2/direct/rtt, s2/proxy/rtt" {
		t.Fatalf("results %s", got)
	}
	p := set.Results["s2/proxy/rtt"]
	if p.Usage == nil || p.Usage.CPU != 50*time.Millisecond || len(p.Reps) != 2 || p.Reps[1].N != 2 ||
		p.Reps[1].Usage == nil || p.Reps[1].Usage.CPU != 30*time.Millisecond || p.Pooled {
		t.Fatalf("proxy result %+v (reps %+v), want usage 50ms and two repetitions with theirs", p, p.Reps)
	}
	if set.Results["s2/direct/rtt"].Usage != nil {
		t.Fatal("a direct target has usage")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	synth{seed: 1}.write(t, dir, "ok")
	mkfile := func(rel, content string) string {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mkfile("badrun/run.json", `{"schema": "wsbench/run/v1", "scenarios": [}`)
	mkfile("oldrun/run.json", `{"schema": "wsbench/run/v0"}`)
	mkfile("badsummary/x/summary.json", `{"schema": "other"}`)
	os.MkdirAll(filepath.Join(dir, "empty/sub"), 0o755)
	for _, tc := range []struct {
		path, err string
	}{
		{"missing", "missing does not exist; want a results directory"},
		{"empty", "no summary.json under"},
		{"badrun", "badrun/run.json: line 1: invalid character"},
		{"oldrun", `run.json: schema "wsbench/run/v0", want "wsbench/run/v2"`},
		{"badsummary", `schema "other", want "wsbench/result/v1"`},
		{"ok/timeseries.csv", "timeseries.csv"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			_, err := Load(filepath.Join(dir, tc.path))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
}

// A truncated interval log is bad input: the comparison fails rather than
// judging without it.
func TestTruncatedIntervalLog(t *testing.T) {
	dir := t.TempDir()
	synth{seed: 1}.write(t, dir, "base")
	synth{seed: 2, median: 600}.write(t, dir, "cur")
	p := filepath.Join(dir, "cur", "rtt.hlog")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Compare(load(t, dir+"/base"), load(t, dir+"/cur"), onlyRules(Rule{"rtt.p50", 0.1}))
	if err == nil || !strings.Contains(err.Error(), "rtt.hlog") {
		t.Fatalf("error %v, want one naming rtt.hlog", err)
	}
}

// run.json gives the usage of rows and repetitions by directory, and a
// warning for each row or scenario that did not run.
func TestRunFileUsage(t *testing.T) {
	dir := t.TempDir()
	doc := `{"schema":"wsbench/run/v1","scenarios":[{"name":"s","rows":[{"target":"t","workload":"rtt","dir":"s/t/rtt","usage":{"CPU":1000,"MemoryGrowth":10},"reps":[{"dir":"s/t/rtt/rep-1","usage":{"CPU":5}}]}]},
		{"name":"b","error":"boom","rows":[{"target":"x","workload":"rtt","error":"x"}]}]}`
	if err := os.WriteFile(filepath.Join(dir, results.RunFile), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := results.ReadRunFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	usage, warnings := runFileUsage(m)
	if len(usage) != 2 || usage["s/t/rtt"].CPU != 1000 || usage["s/t/rtt/rep-1"].CPU != 5 || len(warnings) != 2 {
		t.Fatalf("usage %v, warnings %q", usage, warnings)
	}
}

// Pooling reads the repetitions' files; the per-interval samples use those
// runs rather than reading each directory again.
func TestPoolReadsRepetitionsOnce(t *testing.T) {
	dir := t.TempDir()
	synth{seed: 1}.write(t, dir, "rtt/rep-1")
	synth{seed: 2}.write(t, dir, "rtt/rep-2")
	set := load(t, dir)
	r := set.Results["rtt"]
	if r == nil || !r.Pooled || len(r.Reps) != 2 {
		t.Fatalf("result %+v, want one pooled from two repetitions", r)
	}
	// Gone from disk: only runs already read can be returned.
	if err := os.RemoveAll(filepath.Join(dir, "rtt")); err != nil {
		t.Fatal(err)
	}
	runs, err := r.readRuns()
	if err != nil || len(runs) != 2 {
		t.Fatalf("%d runs, error %v; want the two repetitions pool read", len(runs), err)
	}
}
