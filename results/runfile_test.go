package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run.json of schema v1 (usage and verdicts with Go's field names) reads
// as the current form.
func TestReadRunFileV1(t *testing.T) {
	dir := t.TempDir()
	v1 := `{"schema": "wsbench/run/v1", "run_id": "x", "scenarios": [{"name": "s", "rows": [{"target": "t", "workload": "rtt", "dir": "s/t/rtt",
		"usage": {"CPU": 1000, "MemoryGrowth": -5}, "verdicts": [{"Expectation": {"Metric": "rtt.p99", "Text": "rtt.p99 < 1ms"}, "Pass": true, "Got": "1ms"}],
		"reps": [{"dir": "s/t/rtt/rep-1", "usage": {"CPU": 7}}]}]}]}`
	if err := os.WriteFile(filepath.Join(dir, RunFile), []byte(v1), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := ReadRunFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := m.Scenarios[0].Rows[0]
	if m.Schema != RunSchema || *r.Usage != (Usage{CPU: 1000, MemoryGrowth: -5}) || r.Reps[0].Usage.CPU != 7 ||
		len(r.Verdicts) != 1 || r.Verdicts[0] != (RunVerdict{Expectation: "rtt.p99 < 1ms", Pass: true, Got: "1ms"}) {
		t.Fatalf("read %+v, row %+v", m, r)
	}
	// Written back, it is v2: snake_case throughout.
	if err := WriteRunFile(dir, m); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, RunFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"schema": "wsbench/run/v2"`, `"cpu_ns": 1000`, `"memory_growth_bytes": -5`, `"expectation": "rtt.p99 \u003c 1ms"`, `"pass": true`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("run.json lacks %s:\n%s", want, b)
		}
	}
}

// One rule says what a repetition's directory is.
func TestRepetitionDir(t *testing.T) {
	for name, want := range map[string]int{"rep-1": 1, "rep-12": 12, "rep-999999": 999999, "rep-0": 0, "rep-01": 0, "rep-": 0, "rep-1x": 0, "rep-1234567": 0, "x": 0} {
		n, ok := RepetitionDir(name)
		if n != want || ok != (want > 0) {
			t.Errorf("RepetitionDir(%q) = %d, %v; want %d", name, n, ok, want)
		}
	}
	if got := RepetitionDirName(3); got != "rep-3" {
		t.Errorf("RepetitionDirName(3) = %q", got)
	}
}
