package compare

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/golden"
	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/units"
)

// goldenReport compares two synthetic run directories: a proxy 20 % slower
// and costlier, a direct target unchanged, a host that differs, a result
// on one side only.
func goldenReport(t *testing.T) *Report {
	t.Helper()
	dir := t.TempDir()
	host := results.Host{CPUModel: "Test CPU", Cores: 2, Kernel: "6.1.0", OS: "linux", Arch: "amd64"}
	other := host
	other.Kernel = "6.12.0"
	synth{seed: 1, sigma: 0.3, drift: 0.03, host: host}.write(t, dir+"/base", "s2/proxy/rtt")
	synth{seed: 2, sigma: 0.3, drift: 0.03, host: host}.write(t, dir+"/base", "s2/direct/rtt")
	synth{seed: 3, sigma: 0.3, drift: 0.03, host: host}.write(t, dir+"/base", "s9/direct/rtt")
	synth{seed: 4, sigma: 0.3, drift: 0.03, median: 500, host: other}.write(t, dir+"/cur", "s2/proxy/rtt")
	synth{seed: 5, sigma: 0.3, drift: 0.03, host: other}.write(t, dir+"/cur", "s2/direct/rtt")
	writeRunJSON(t, dir+"/base", []map[string]any{
		{"target": "proxy", "workload": "rtt", "dir": "s2/proxy/rtt", "usage": usage(100 * time.Millisecond)},
	})
	writeRunJSON(t, dir+"/cur", []map[string]any{
		{"target": "proxy", "workload": "rtt", "dir": "s2/proxy/rtt", "usage": usage(125 * time.Millisecond)},
	})
	rep := compareDirs(t, dir+"/base", dir+"/cur", DefaultPolicy())
	rep.Baseline, rep.Current = "runs/base", "runs/head"
	return rep
}

func TestGolden(t *testing.T) {
	rep := goldenReport(t)
	for _, format := range []string{FormatMarkdown, FormatText, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := rep.Write(&buf, format); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "report."+map[string]string{FormatMarkdown: "md", FormatText: "txt", FormatJSON: "json"}[format], buf.Bytes())
		})
	}
}

// What the golden files must show, checked apart from their bytes.
func TestMarkdownShape(t *testing.T) {
	rep := goldenReport(t)
	if rep.Passed || rep.Regressions == 0 {
		t.Fatalf("the golden comparison must hold a regression: %+v", rep.Rows)
	}
	var buf bytes.Buffer
	if err := rep.WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"### ❌ wsbench: ",
		"| ❌ | s2/proxy/rtt | `rtt.p50` |",
		"| ❌ | s2/proxy/rtt | `proxy.cpu_us_per_msg` |",
		"| ✅ | s2/direct/rtt | `rtt.p50` |",
		"> ⚠️ the hosts differ",
		"> ⚠️ only in the baseline: s9/direct/rtt",
		"<details><summary>",
		"</details>",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// The short table lists only judged rows; n/a rows are in the details.
	short, _, _ := strings.Cut(md, "<details>")
	if strings.Contains(short, "handshake.p99") || !strings.Contains(md, "`handshake.p99`") {
		t.Error("handshake.p99 (too few values) must appear only in the details")
	}
}

func TestJSONReadsBack(t *testing.T) {
	rep := goldenReport(t)
	var buf bytes.Buffer
	if err := rep.Write(&buf, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Passed != rep.Passed || back.Regressions != rep.Regressions || len(back.Rows) != len(rep.Rows) {
		t.Fatalf("read back %+v", back)
	}
	if err := rep.Write(&buf, "html"); err == nil || !strings.Contains(err.Error(), `format "html"`) {
		t.Fatalf("unknown format: %v", err)
	}
}

func TestFormatting(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		got, want string
	}{
		{fmtValue(f(370), "µs"), "370µs"},
		{fmtValue(f(45.25), "µs"), "45.2µs"},
		{fmtValue(f(13800), "µs"), "13.8ms"},
		{fmtValue(f(2.5e6), "µs"), "2.50s"},
		{fmtValue(f(46.2), "µs/msg"), "46.2µs/msg"},
		{fmtValue(f(10000), "msgs/s"), "10.0k msgs/s"},
		{fmtValue(f(996.3), "msgs/s"), "996 msgs/s"},
		{fmtValue(f(65536), "bytes/s"), "64.0KiB/s"},
		{fmtValue(f(18227), "bytes/conn"), "17.8KiB/conn"},
		{fmtValue(f(0.995), "ratio"), "0.995"},
		{fmtValue(nil, "µs"), "—"},
		{units.Change(0.1), "+10%"},
		{units.Change(-0.05), "-5%"},
		{units.Change(0.025), "+2.5%"},
		{fmtP(f(0.0004)), "<0.001"},
		{md("a|b"), `a\|b`},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
