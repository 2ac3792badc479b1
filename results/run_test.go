package results

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// sampleSummary is a fixed, fully populated summary (no live host facts,
// so reports of it are reproducible).
func sampleSummary() Summary {
	return Summary{
		Tool:     Tool{Name: "wsbench", Version: "v0.1.0", Commit: "c0ffee1", GoVersion: "go1.26.0"},
		Host:     Host{Hostname: "bench-1", OS: "linux", Arch: "amd64", CPUModel: "AMD EPYC 7B13", Cores: 2, Kernel: "Linux 6.8.0", GoVersion: "go1.26.0"},
		Target:   "ws://127.0.0.1:9000/echo",
		Workload: "rtt",
		Params:   map[string]string{"conns": "50", "rate": "10000", "size": "64", "duration": "10s", "connect_rate": "0", "url": "ws://127.0.0.1:9000/echo"},
		Start:    t0,
		End:      t0.Add(2500 * time.Millisecond),
		Connections: Connections{
			Attempted: 52, Opened: 50, Failed: 2, Dropped: 1, OpenAtEnd: 49, Reconnects: 1,
		},
		Self:     &Self{CPUUserSec: 0.25, CPUSysSec: 0.5, CPUPerMsgUS: 31.2, RSSBytes: 24 << 20, RSSPerConnBytes: 503316},
		Messages: Traffic{Sent: 24_001, Received: 24_001},
		Bytes:    Traffic{Sent: 1_536_064, Received: 1_536_064},
		Rates:    Rates{WindowSec: 2.5, MsgsSentPerSec: 9600.4, MsgsRecvPerSec: 9600.4, BytesSentPerSec: 614425.6, BytesRecvPerSec: 614425.6},
		Failures: map[string]int64{"http_502": 2, "reset": 1},
		Backends: map[string]int64{"echo-a": 26, "echo-b": 24},
		Hellos:   []json.RawMessage{json.RawMessage(`{"id":"echo-a","headers":{"X-Real-Ip":"127.0.0.1"}}`)},
		Notes:    []string{"sample run for tests"},
	}
}

// sampleRun has a metric given as intervals only (rtt), one as a whole-run
// histogram only (connect), one both ways (handshake) and one empty (lag).
func sampleRun(t *testing.T) *Run {
	base := t0.UnixMilli()
	rtt := threeSeconds(t)
	hs := []*hdrhistogram.PackedHistogram{packedOf(t, base, base+1000, 900, 1_100, 40_000)}
	return &Run{
		Summary: sampleSummary(),
		Histograms: map[string]*hdrhistogram.Histogram{
			MetricConnect:   histOf(t, 80, 95, 120),
			MetricHandshake: histOf(t, 900, 1_100, 40_000),
			MetricLag:       NewHistogram(),
		},
		Intervals: map[string][]*hdrhistogram.PackedHistogram{MetricRTT: rtt, MetricHandshake: hs},
		Series:    sampleSeries(),
	}
}

func TestRunRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "r1")
	run := sampleRun(t)
	if err := run.Write(dir); err != nil {
		t.Fatal(err)
	}
	var files []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		files = append(files, e.Name())
	}
	wantFiles := []string{"connect.hgrm", "connect.hlog", "handshake.hgrm", "handshake.hlog", "rtt.hgrm", "rtt.hlog", "summary.json", "timeseries.csv"}
	if !reflect.DeepEqual(files, wantFiles) {
		t.Errorf("files %v, want %v", files, wantFiles)
	}
	if _, ok := run.Histograms[MetricLag]; ok {
		t.Errorf("the empty lag histogram was kept")
	}
	if got := run.Summary.Histograms[MetricRTT]; got.Count != 5 || got.Max != 5_001_215 || got.Min != 7 {
		t.Errorf("rtt stats %+v, want the 5 values 7 µs … 5 s of its intervals", got)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	assertRunsEqual(t, got, run)
}

// assertRunsEqual compares everything a run holds; histograms exactly.
func assertRunsEqual(t *testing.T, got, want *Run) {
	t.Helper()
	gs, _ := json.Marshal(got.Summary)
	ws, _ := json.Marshal(want.Summary)
	if string(gs) != string(ws) {
		t.Errorf("summary read back\n%s\nwant\n%s", gs, ws)
	}
	if !got.Summary.Start.Equal(want.Summary.Start) {
		t.Errorf("start %v, want %v", got.Summary.Start, want.Summary.Start)
	}
	if !reflect.DeepEqual(slices.Sorted(maps.Keys(got.Histograms)), slices.Sorted(maps.Keys(want.Histograms))) {
		t.Fatalf("metrics %v, want %v", slices.Sorted(maps.Keys(got.Histograms)), slices.Sorted(maps.Keys(want.Histograms)))
	}
	for m, w := range want.Histograms {
		if !got.Histograms[m].Equals(w) {
			t.Errorf("%s: whole-run histogram differs: %d values, want %d", m, got.Histograms[m].TotalCount(), w.TotalCount())
		}
		gi, wi := got.Intervals[m], want.Intervals[m]
		if len(gi) != len(wi) {
			t.Errorf("%s: %d intervals, want %d", m, len(gi), len(wi))
			continue
		}
		for i := range wi {
			if !samePacked(t, gi[i], wi[i]) {
				t.Errorf("%s: interval %d differs", m, i)
			}
		}
	}
	if !reflect.DeepEqual(got.Series, want.Series) {
		t.Errorf("series %+v, want %+v", got.Series, want.Series)
	}
}

func TestRunWriteWholeOnlyBecomesOneInterval(t *testing.T) {
	run := sampleRun(t)
	if err := run.Write(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	ivs := run.Intervals[MetricConnect]
	if len(ivs) != 1 || ivs[0].TotalCount() != 3 || ivs[0].StartTimeMs() != t0.UnixMilli() ||
		ivs[0].EndTimeMs() != t0.Add(2500*time.Millisecond).UnixMilli() || ivs[0].Tag() != MetricConnect {
		t.Errorf("connect intervals %v, want one spanning the run with its 3 values", ivs)
	}
}

func TestRunWriteErrors(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Run)
		want   string
	}{
		{"wrong schema", func(r *Run) { r.Summary.Schema = "other/v9" }, `results: summary schema "other/v9", want "wsbench/result/v1"`},
		{"no start", func(r *Run) { r.Summary.Start = time.Time{} }, "results: summary has no start time"},
		{"intervals disagree", func(r *Run) { r.Histograms[MetricHandshake].RecordValue(5) }, `results: metric "handshake": its 1 intervals merge to 3 values`},
		{"path in metric name", func(r *Run) { r.Histograms["../evil"] = histOf(t, 1) }, `results: metric "../evil": metric name "../evil": character '.' not allowed`},
		{"interval before start", func(r *Run) { r.Summary.Start = t0.Add(time.Hour) }, ""},
		{"bad hello", func(r *Run) { r.Summary.Hellos = append(r.Summary.Hellos, json.RawMessage("{")) }, "results: hello 2: unexpected end of JSON input"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := sampleRun(t)
			c.change(run)
			err := run.Write(t.TempDir())
			if c.want == "" {
				if err != nil {
					t.Errorf("Write: %v; intervals before the start should move the log's base time instead", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Write error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"missing dir", func(t *testing.T, dir string) { os.RemoveAll(dir) }, "run: no such file or directory"},
		{"wrong schema", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "summary.json"), `"schema": "wsbench/result/v1"`, `"schema": "wsbench/result/v2"`)
		}, `summary.json: schema "wsbench/result/v2", want "wsbench/result/v1"`},
		{"no schema", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "summary.json"), `"schema": "wsbench/result/v1",`, ``)
		}, `summary.json: no "schema" field, want "wsbench/result/v1"`},
		{"truncated summary", func(t *testing.T, dir string) { truncate(t, filepath.Join(dir, "summary.json"), 300) }, "summary.json: line 15: unexpected end of JSON input (truncated?)"},
		{"wrong type", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "summary.json"), `"attempted": 52`, `"attempted": "52"`)
		}, "summary.json: line 32: json: cannot unmarshal string"},
		{"truncated hlog", func(t *testing.T, dir string) { truncate(t, filepath.Join(dir, "rtt.hlog"), 400) }, "rtt.hlog: hlog: line 6: interval histogram:"},
		{"hlog missing an interval", func(t *testing.T, dir string) { dropLastLine(t, filepath.Join(dir, "rtt.hlog")) }, "rtt.hlog: intervals hold 3 values (p99 300 µs), summary.json says 5 (p99 5001215 µs) (truncated?)"},
		{"hlog missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "rtt.hlog")) }, "rtt.hlog: no such file or directory"},
		{"retagged hlog", func(t *testing.T, dir string) { edit(t, filepath.Join(dir, "rtt.hlog"), "Tag=rtt,", "Tag=lag,") }, `rtt.hlog: interval 1 is tagged "lag", want "rtt"`},
		{"truncated csv", func(t *testing.T, dir string) { truncate(t, filepath.Join(dir, "timeseries.csv"), 100) }, "timeseries.csv: timeseries: line 2: wrong number of fields"},
		{"evil metric name", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "summary.json"), `"rtt": {`, `"../../etc/passwd": {`)
		}, `summary.json: histograms: metric name "../../etc/passwd"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if err := sampleRun(t).Write(dir); err != nil {
				t.Fatal(err)
			}
			c.damage(t, dir)
			_, err := Read(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Read error = %v\nwant it to contain %q", err, c.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "results: ") {
				t.Errorf("error %q lacks the results: prefix", err)
			}
		})
	}
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q:\n%s", path, old, b)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string, n int64) {
	t.Helper()
	if err := os.Truncate(path, n); err != nil {
		t.Fatal(err)
	}
}

func dropLastLine(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if err := os.WriteFile(path, []byte(s[:strings.LastIndex(s, "\n")+1]), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadSummaryPathForms(t *testing.T) {
	dir := t.TempDir()
	if err := sampleRun(t).Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, "summary.json")} {
		s, err := ReadSummary(p)
		if err != nil || s.Target != "ws://127.0.0.1:9000/echo" {
			t.Errorf("ReadSummary(%s) = %v, %v", p, s, err)
		}
	}
	if _, err := ReadSummary(filepath.Join(dir, "rtt.hgrm")); err == nil || !strings.Contains(err.Error(), "rtt.hgrm: line 1: invalid character") {
		t.Errorf("ReadSummary of a .hgrm: %v, want a JSON error naming the file and line", err)
	}
}
