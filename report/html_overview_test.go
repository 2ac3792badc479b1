package report

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/results"
)

// shape lists an overview as "scenario/workload/target" lines, with the
// target's result directory, repetitions and state.
func shape(o *results.Overview) []string {
	var out []string
	for _, s := range o.Scenarios {
		if len(s.Workloads) == 0 {
			out = append(out, s.Name+" error="+s.Err)
		}
		for _, w := range s.Workloads {
			for _, t := range w.Targets {
				line := s.Name + "/" + w.Name + "/" + t.Target + " dir=" + t.Dir
				if t.Reps > 0 {
					line += " reps=" + string(rune('0'+t.Reps))
				}
				if t.Run == nil {
					line += " no-run"
				}
				if t.Err != "" {
					line += " error"
				}
				if t.Skipped != "" {
					line += " skipped"
				}
				out = append(out, line)
			}
		}
	}
	return out
}

func TestLoadOverviewRunFile(t *testing.T) {
	root := writeReportFixture(t)
	o, err := results.LoadOverview(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"proxy-cost/rtt/direct dir=proxy-cost/direct/rtt",
		"proxy-cost/rtt/refproxy dir=proxy-cost/refproxy/rtt reps=2",
		"proxy-cost/rtt/nginx-map dir=proxy-cost/nginx-map/rtt",
		"proxy-cost/rtt/haproxy dir= no-run skipped",
		"idle/idle/direct dir=idle/direct/idle",
		"idle/idle/nginx-read-3s dir=idle/nginx-read-3s/idle",
		"idle/idle/nginx-broken dir= no-run error",
		"balance/hold/refproxy-rr dir=balance/refproxy-rr/hold",
		"balance/hold/nginx-ip-hash dir=balance/nginx-ip-hash/hold",
		"capacity/ramp/direct dir=capacity/direct/ramp",
		"capacity/ramp/refproxy dir=capacity/refproxy/ramp",
		"tls error=certificate: no openssl",
	}
	if got := shape(o); !slices.Equal(got, want) {
		t.Errorf("overview:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !o.FromRunFile || o.RunID != "20260301T120000Z" || o.Runtime != "docker" || len(o.Images) != 2 || !o.Start.Equal(reportStart) {
		t.Errorf("run facts: from run file %v, id %q, runtime %q, %d images, start %v", o.FromRunFile, o.RunID, o.Runtime, len(o.Images), o.Start)
	}
	ref := o.Scenarios[0].Workloads[0].Targets[1]
	if ref.Usage == nil || ref.Usage.CPU != 150*time.Millisecond || ref.Usage.MemoryGrowth != 2<<20 {
		t.Errorf("refproxy usage %+v, want 150ms CPU and 2MiB", ref.Usage)
	}
	if len(ref.Verdicts) != 2 || ref.Verdicts[1] != (results.RunVerdict{Expectation: "proxy.cpu_us_per_msg < 10µs", Got: "15µs"}) {
		t.Errorf("refproxy verdicts %+v", ref.Verdicts)
	}
	if ref.Run.Histograms[results.MetricRTT] == nil || len(ref.Run.Series) != 6 {
		t.Errorf("refproxy run read without its histograms or series")
	}
	if p, f, b := o.Tally(); p != 3 || f != 3 || b != 2 {
		t.Errorf("tally %d passed, %d failed, %d broken; want 3, 3, 2", p, f, b)
	}
}

func TestLoadOverviewLayout(t *testing.T) {
	root := writeReportFixture(t)
	os.Remove(filepath.Join(root, results.RunFile))
	o, err := results.LoadOverview(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"balance/hold/nginx-ip-hash dir=balance/nginx-ip-hash/hold",
		"balance/hold/refproxy-rr dir=balance/refproxy-rr/hold",
		"capacity/ramp/direct dir=capacity/direct/ramp",
		"capacity/ramp/refproxy dir=capacity/refproxy/ramp",
		"idle/idle/direct dir=idle/direct/idle",
		"idle/idle/nginx-read-3s dir=idle/nginx-read-3s/idle",
		"proxy-cost/rtt/direct dir=proxy-cost/direct/rtt",
		"proxy-cost/rtt/nginx-map dir=proxy-cost/nginx-map/rtt",
		"proxy-cost/rtt/refproxy dir=proxy-cost/refproxy/rtt reps=2",
	}
	if got := shape(o); !slices.Equal(got, want) {
		t.Errorf("overview:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if o.FromRunFile || o.RunID != "20260301T120000Z" || !o.Start.Equal(reportStart) || !o.End.Equal(reportStart.Add(5*time.Second)) {
		t.Errorf("from run file %v, id %q, span %v – %v; want the directory name and the results' span", o.FromRunFile, o.RunID, o.Start, o.End)
	}
}

func TestLoadOverviewShallowLayouts(t *testing.T) {
	cases := []struct {
		name string
		dirs []string // result directories under the report's directory
		want []string
	}{
		{"the directory is a run", []string{"."}, []string{"/rtt/t-. dir=."}},
		{"one level: targets", []string{"nginx", "direct"}, []string{"/rtt/direct dir=direct", "/rtt/nginx dir=nginx"}},
		{"two levels: target/workload", []string{"direct/fast", "direct/slow"}, []string{"/fast/direct dir=direct/fast", "/slow/direct dir=direct/slow"}},
		{"deeper: scenario path", []string{"a/b/direct/rtt"}, []string{"a/b/rtt/direct dir=a/b/direct/rtt"}},
		{"tree order, not byte order", []string{"s/t-x/w", "s/t/w"}, []string{"s/w/t dir=s/t/w", "s/w/t-x dir=s/t-x/w"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range c.dirs {
				r := reportRun(t, "t-"+d, "rtt", 0, nil)
				if err := r.Write(filepath.Join(root, d)); err != nil {
					t.Fatal(err)
				}
			}
			o, err := results.LoadOverview(root)
			if err != nil {
				t.Fatal(err)
			}
			if got := shape(o); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestLoadOverviewErrors(t *testing.T) {
	cases := []struct {
		name    string
		runJSON string // "" leaves run.json out
		result  bool   // write a good result at good/rtt
		want    string
	}{
		{"empty directory", "", false, "no run.json or summary.json under"},
		{"not json", "{\n  \"schema\": wsbench\n}", true, "run.json: line 2: invalid character"},
		{"no schema", `{"scenarios": []}`, true, `run.json: no "schema" field, want "wsbench/run/v2"`},
		{"wrong schema", `{"schema": "wsbench/run/v0"}`, true, `run.json: schema "wsbench/run/v0", want "wsbench/run/v2"`},
		{"dir outside the run", `{"schema": "wsbench/run/v1", "scenarios": [{"name": "s", "rows": [{"target": "t", "dir": "../elsewhere"}]}]}`, true,
			`scenario 1 row 1: dir "../elsewhere": want a path inside the run directory`},
		{"absolute dir", `{"schema": "wsbench/run/v1", "scenarios": [{"name": "s", "rows": [{"target": "t", "dir": "/etc"}]}]}`, true,
			`dir "/etc": want a path inside the run directory`},
		{"missing result", `{"schema": "wsbench/run/v1", "scenarios": [{"name": "s", "rows": [{"target": "t", "dir": "gone/rtt"}]}]}`, true,
			"gone/rtt: no such file or directory"},
		{"wrong type", `{"schema": "wsbench/run/v1", "scenarios": [{"name": 5}]}`, true, "run.json: line 1: json: cannot unmarshal number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			if c.result {
				if err := reportRun(t, "t", "rtt", 0, nil).Write(filepath.Join(root, "good", "rtt")); err != nil {
					t.Fatal(err)
				}
			}
			if c.runJSON != "" {
				if err := os.WriteFile(filepath.Join(root, results.RunFile), []byte(c.runJSON), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := results.LoadOverview(root)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "results: ") {
				t.Errorf("error %v; want one starting results: and containing %q", err, c.want)
			}
		})
	}
	t.Run("truncated interval log", func(t *testing.T) {
		root := t.TempDir()
		if err := reportRun(t, "t", "rtt", 0, nil).Write(filepath.Join(root, "t", "rtt")); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(root, "t", "rtt", "rtt.hlog"), []byte("#[StartTime: 0]\n"), 0o644)
		if _, err := results.LoadOverview(root); err == nil || !strings.Contains(err.Error(), "rtt.hlog") {
			t.Errorf("error %v; want it to name rtt.hlog", err)
		}
	})
}
