package compare

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/results"
)

// onlyRules is a policy of the given rules at α 0.05.
func onlyRules(rules ...Rule) Policy { return Policy{Alpha: DefaultAlpha, Rules: rules} }

// The gate's verdicts on synthetic runs with known answers: ten seconds of
// 500 latencies each, lognormal within a second, each second's level
// varying too.
func TestVerdictsOnSyntheticRuns(t *testing.T) {
	base := synth{sigma: 0.3, drift: 0.03, seed: 1}
	for _, tc := range []struct {
		name    string
		cur     synth
		rule    Rule
		verdict string
		thrOnly bool
	}{
		{"no difference", synth{sigma: 0.3, drift: 0.03, seed: 2}, Rule{"rtt.p50", 0.10}, Pass, false},
		{"no difference p99", synth{sigma: 0.3, drift: 0.03, seed: 3}, Rule{"rtt.p99", 0.10}, Pass, false},
		{"5% slower under noise", synth{median: 420, sigma: 0.3, drift: 0.03, seed: 4}, Rule{"rtt.p50", 0.10}, Pass, false},
		{"20% slower", synth{median: 480, sigma: 0.3, drift: 0.03, seed: 5}, Rule{"rtt.p50", 0.10}, Regression, false},
		{"20% slower p99", synth{median: 480, sigma: 0.3, drift: 0.03, seed: 6}, Rule{"rtt.p99", 0.10}, Regression, false},
		// 15% slower overall, but seconds swing by ±30%: beyond the limit,
		// not beyond the baseline moved by it, by any margin the samples
		// can vouch for.
		{"15% slower, seconds swing", synth{median: 460, sigma: 0.3, drift: 0.3, seed: 7}, Rule{"rtt.p50", 0.10}, Noise, false},
		{"20% faster", synth{median: 320, sigma: 0.3, drift: 0.03, seed: 8}, Rule{"rtt.p50", 0.10}, Better, false},
		{"20% slower, two seconds", synth{seconds: 2, median: 480, sigma: 0.3, drift: 0.03, seed: 9}, Rule{"rtt.p50", 0.10}, Regression, true},
		{"throughput 20% lower", synth{msgs: 0.8, sigma: 0.3, drift: 0.03, seed: 10}, Rule{"throughput.msgs_per_s", -0.05}, Regression, false},
		{"throughput 2% lower", synth{msgs: 0.98, sigma: 0.3, drift: 0.03, seed: 11}, Rule{"throughput.msgs_per_s", -0.05}, Pass, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			b := base
			if tc.cur.seconds != 0 {
				b.seconds = tc.cur.seconds
			}
			b.write(t, dir, "base")
			tc.cur.write(t, dir, "cur")
			rep := compareDirs(t, dir+"/base", dir+"/cur", onlyRules(tc.rule))
			row := findRow(t, rep, "rtt", tc.rule.Metric)
			t.Logf("change %s, %s, p %s: %s %s", fmtChange(row.Change), fmtSamples(row), fmtP(row.P), row.Verdict, row.Note)
			if row.Verdict != tc.verdict || row.ThresholdOnly != tc.thrOnly {
				t.Fatalf("verdict %s (threshold only %v), want %s (%v); row %+v", row.Verdict, row.ThresholdOnly, tc.verdict, tc.thrOnly, row)
			}
			if row.Samples != FromIntervals {
				t.Errorf("samples %s, want %s", row.Samples, FromIntervals)
			}
			if rep.Passed != (tc.verdict != Regression) {
				t.Errorf("passed %v with a %s", rep.Passed, tc.verdict)
			}
			if (tc.verdict == Regression || tc.verdict == Noise || tc.verdict == Better) && !tc.thrOnly && row.P == nil {
				t.Errorf("no p-value for a tested %s", tc.verdict)
			}
		})
	}
}

// With three or more repetitions a side, their values are the samples; a
// tree of rep-<i>/<workload> directories without merged summaries is
// merged here.
func TestRepetitions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		layout  func(rep int) string // where repetition rep goes
		merged  bool                 // also write a merged summary
		slower  float64
		verdict string
	}{
		{"rtt/rep-i with merged summary, 30% slower", func(i int) string { return "rtt/rep-" + itoa(i) }, true, 1.3, Regression},
		{"rep-i/rtt pooled here, 30% slower", func(i int) string { return "rep-" + itoa(i) + "/rtt" }, false, 1.3, Regression},
		{"rep-i/rtt pooled here, same", func(i int) string { return "rep-" + itoa(i) + "/rtt" }, false, 1, Pass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for i := 1; i <= 3; i++ {
				synth{sigma: 0.2, seed: uint64(i)}.write(t, dir+"/base", tc.layout(i))
				synth{median: 400 * tc.slower, sigma: 0.2, seed: uint64(10 + i)}.write(t, dir+"/cur", tc.layout(i))
			}
			if tc.merged {
				synth{sigma: 0.2, seconds: 30, seed: 7}.write(t, dir+"/base", "rtt")
				synth{median: 400 * tc.slower, sigma: 0.2, seconds: 30, seed: 8}.write(t, dir+"/cur", "rtt")
			}
			base := load(t, dir+"/base")
			r := base.Results["rtt"]
			if r == nil || len(r.Reps) != 3 || r.Pooled == tc.merged {
				t.Fatalf("results %v; rtt %+v, want 3 repetitions, pooled %v", keyList(base), r, !tc.merged)
			}
			var recv int64
			for _, rp := range r.Reps {
				recv += rp.Summary.Messages.Received
			}
			if !tc.merged && (r.Summary.Messages.Received != recv || r.Summary.Rates.WindowSec != 30 ||
				r.Summary.Histograms[results.MetricRTT].Count != 15000) {
				t.Fatalf("pooled summary: %d messages received over %v s, %d rtt values; want the repetitions' %d over 30 s, 15000",
					r.Summary.Messages.Received, r.Summary.Rates.WindowSec, r.Summary.Histograms[results.MetricRTT].Count, recv)
			}
			rep, err := Compare(base, load(t, dir+"/cur"), onlyRules(Rule{"rtt.p50", 0.10}))
			if err != nil {
				t.Fatal(err)
			}
			row := findRow(t, rep, "rtt", "rtt.p50")
			if row.Samples != FromRepetitions || row.NBaseline != 3 || row.NCurrent != 3 || row.Verdict != tc.verdict {
				t.Fatalf("row %+v, want %s over 3 vs 3 repetitions", row, tc.verdict)
			}
		})
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

// The proxy's CPU per message comes from run.json; it has per-repetition
// samples only, so a single run is judged on the threshold alone.
func TestProxyCPUFromRunJSON(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reps    int
		cpuCur  time.Duration
		verdict string
		thrOnly bool
	}{
		{"single run, 30% more CPU", 0, 130 * time.Millisecond, Regression, true},
		{"single run, same CPU", 0, 100 * time.Millisecond, Pass, false},
		{"3 repetitions, 30% more CPU", 3, 130 * time.Millisecond, Regression, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for side, cpu := range map[string]time.Duration{"base": 100 * time.Millisecond, "cur": tc.cpuCur} {
				root := dir + "/" + side
				synth{seed: 1}.write(t, root, "s/proxy/rtt")
				row := map[string]any{"target": "proxy", "kind": "wsbench", "workload": "rtt", "dir": "s/proxy/rtt", "usage": usage(cpu)}
				var reps []any
				for i := 1; i <= tc.reps; i++ {
					rel := "s/proxy/rtt/rep-" + itoa(i)
					synth{seed: uint64(i)}.write(t, root, rel)
					// Each repetition's CPU varies a little around its side's.
					reps = append(reps, map[string]any{"dir": rel, "usage": usage(cpu + time.Duration(i)*time.Millisecond)})
				}
				row["reps"] = reps
				writeRunJSON(t, root, []map[string]any{row})
			}
			rep := compareDirs(t, dir+"/base", dir+"/cur", onlyRules(Rule{"proxy.cpu_us_per_msg", 0.10}))
			row := findRow(t, rep, "s/proxy/rtt", "proxy.cpu_us_per_msg")
			if row.Verdict != tc.verdict || row.ThresholdOnly != tc.thrOnly {
				t.Fatalf("row %+v, want %s (threshold only %v)", row, tc.verdict, tc.thrOnly)
			}
			// 100 ms over the messages sent and received.
			b := load(t, dir+"/base").Results["s/proxy/rtt"].Summary
			if want := 100e3 / float64(b.Messages.Sent+b.Messages.Received); *row.Baseline != want {
				t.Fatalf("baseline %v µs/msg, want %v", *row.Baseline, want)
			}
		})
	}
}

func TestRefusesDifferentLoads(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(p map[string]string)
		refuse string // "" to accept
	}{
		{"same", func(map[string]string) {}, ""},
		{"rate", func(p map[string]string) { p["rate"] = "1000" }, `load parameter "rate" differs: baseline "500", current "1000"`},
		{"url host only", func(p map[string]string) { p["url"] = "ws://10.0.0.7:8080/echo" }, ""},
		{"url path", func(p map[string]string) { p["url"] = "ws://127.0.0.1:9000/push" }, `"url" differs`},
		{"url query", func(p map[string]string) { p["url"] = "ws://127.0.0.1:9000/echo?delay=2ms" }, `"url" differs`},
		{"only on one side", func(p map[string]string) { p["ping_interval"] = "1s" }, `"ping_interval" differs: baseline (not set), current "1s"`},
		{"worker count", func(p map[string]string) { p["workers"] = "4" }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			synth{seed: 1}.write(t, dir, "base")
			p := defaultParams()
			tc.change(p)
			synth{seed: 2, params: p}.write(t, dir, "cur")
			_, err := Compare(load(t, dir+"/base"), load(t, dir+"/cur"), DefaultPolicy())
			switch {
			case tc.refuse == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.refuse != "" && (!errors.Is(err, ErrIncomparable) || !strings.Contains(err.Error(), tc.refuse)):
				t.Fatalf("error %v, want ErrIncomparable saying %s", err, tc.refuse)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	dir := t.TempDir()
	hostA := results.Host{CPUModel: "Xeon A", Cores: 2, Kernel: "6.1.0", OS: "linux", Arch: "amd64"}
	hostB := hostA
	hostB.Cores = 4
	synth{seed: 1, host: hostA}.write(t, dir+"/base", "s/t/rtt")
	synth{seed: 1, host: hostA}.write(t, dir+"/base", "s/gone/rtt")
	synth{seed: 2, host: hostB}.write(t, dir+"/cur", "s/t/rtt")
	synth{seed: 2, host: hostB}.write(t, dir+"/cur", "s/new/rtt")
	writeRunJSON(t, dir+"/cur", []map[string]any{
		{"target": "t", "workload": "rtt", "dir": "s/t/rtt"},
		{"target": "broken", "workload": "rtt", "error": "nginx exited: bad config"},
	})
	rep := compareDirs(t, dir+"/base", dir+"/cur", DefaultPolicy())
	all := strings.Join(rep.Warnings, "\n")
	for _, want := range []string{
		"hosts differ (baseline Xeon A, 2 cores",
		"current Xeon A, 4 cores",
		"only in the baseline: s/gone/rtt",
		"only in the current: s/new/rtt",
		"current: s/broken/rtt was not measured: nginx exited: bad config",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
	if rep.Results != 1 || !rep.Passed {
		t.Fatalf("compared %d results, passed %v; want 1, a pass (warnings do not fail)", rep.Results, rep.Passed)
	}
}

func TestNothingInCommon(t *testing.T) {
	dir := t.TempDir()
	synth{seed: 1}.write(t, dir+"/base", "a/rtt")
	synth{seed: 1}.write(t, dir+"/base", "b/rtt")
	synth{seed: 2}.write(t, dir+"/cur", "c/rtt")
	synth{seed: 2}.write(t, dir+"/cur", "d/rtt")
	_, err := Compare(load(t, dir+"/base"), load(t, dir+"/cur"), DefaultPolicy())
	if !errors.Is(err, ErrIncomparable) || !strings.Contains(err.Error(), "a/rtt, b/rtt") {
		t.Fatalf("error %v, want ErrIncomparable listing both sides", err)
	}
}

// Percentiles of too few values are not judged; metrics a workload lacks
// are left out.
func TestNotApplicable(t *testing.T) {
	dir := t.TempDir()
	synth{seed: 1}.write(t, dir, "base")
	synth{seed: 2}.write(t, dir, "cur")
	rep := compareDirs(t, dir+"/base", dir+"/cur", onlyRules(Rule{"handshake.p99", 0.1}, Rule{"oneway.p50", 0.1}, Rule{"proxy.cpu_us_per_msg", 0.1}))
	if len(rep.Rows) != 1 {
		t.Fatalf("rows %+v, want only handshake.p99 (no oneway histogram, no proxy)", rep.Rows)
	}
	row := rep.Rows[0]
	if row.Verdict != NA || !strings.Contains(row.Note, "5 handshake values; p99 needs at least 1000") || rep.Gated() != 0 {
		t.Fatalf("row %+v, want n/a for too few values", row)
	}
}

func TestSummaryFiles(t *testing.T) {
	dir := t.TempDir()
	synth{seed: 1}.write(t, dir, "a")
	synth{seed: 2, median: 600}.write(t, dir, "b")
	rep := compareDirs(t, dir+"/a/summary.json", dir+"/b/summary.json", onlyRules(Rule{"rtt.p50", 0.1}))
	row := findRow(t, rep, "rtt", "rtt.p50")
	// The files sit with their interval logs, so the seconds are samples.
	if row.Verdict != Regression || row.Samples != FromIntervals {
		t.Fatalf("row %+v, want a tested regression", row)
	}
}

// A metric the baseline has and the current lost is a warning (the row
// cannot be judged).
func TestVanishedMetricWarns(t *testing.T) {
	dir := t.TempDir()
	synth{seed: 1}.write(t, dir, "base")
	run := synth{seed: 2}.run()
	delete(run.Intervals, results.MetricRTT)
	if err := run.Write(dir + "/cur"); err != nil {
		t.Fatal(err)
	}
	rep := compareDirs(t, dir+"/base", dir+"/cur", onlyRules(Rule{"rtt.p50", 0.1}))
	row := findRow(t, rep, "rtt", "rtt.p50")
	if row.Verdict != NA || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "rtt: rtt.p50 is in the baseline but not in the current (no rtt samples)") {
		t.Fatalf("row %+v, warnings %q", row, rep.Warnings)
	}
}

// One result a side is compared whatever its path, with a warning when the
// paths differ (e.g. nginx against the reference proxy).
func TestSingleResultsMatch(t *testing.T) {
	dir := t.TempDir()
	synth{seed: 1}.write(t, dir, "base/s2/nginx/rtt")
	synth{seed: 2}.write(t, dir, "cur/s2/proxy/rtt")
	rep := compareDirs(t, dir+"/base", dir+"/cur", onlyRules(Rule{"rtt.p50", 0.1}))
	if rep.Results != 1 || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "comparing s2/nginx/rtt (baseline) with s2/proxy/rtt (current)") {
		t.Fatalf("results %d, warnings %q", rep.Results, rep.Warnings)
	}
}
