package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/internal/golden"
	"github.com/wsbench/wsbench/results"
)

// TestWriteMarkdownGolden renders the fixture run (every kind of data,
// verdicts that hold and fail, rows that could not run) and compares it
// with testdata/markdown_report.golden; go test -update rewrites it.
func TestWriteMarkdownGolden(t *testing.T) {
	o, err := results.LoadOverview(writeReportFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, o); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "markdown_report.golden", b.Bytes())
}

func TestWriteMarkdownContent(t *testing.T) {
	o, err := results.LoadOverview(writeReportFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, o); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	cases := []struct{ name, want string }{
		{"overall verdict", "**❌ 3 of 6 expectations failed, 2 could not run; 1 row is loadgen-bound (the load generator fell behind: its limit, not the target's)**"},
		{"loadgen-bound row with its figure", "| loadgen-bound | – | – | busiest loop 96% busy &gt; 90% | – |"},
		{"failures first", "## Failures\n\n- ❌ **proxy-cost / rtt / refproxy**: proxy.cpu\\_us\\_per\\_msg &lt; 10µs: got 15µs\n"},
		{"failed verdict without a value", "- ❌ **balance / hold / nginx-ip-hash**: balance.max\\_mean &lt; 1.5 (one backend got every connection: 3.00)"},
		{"row that could not run", "**idle / idle / nginx-broken**: could not be measured: nginx exited: \\[emerg\\] unknown directive (logs: idle/logs/nginx-broken.log)"},
		{"scenario that could not run", "- ❌ **tls**: could not run: certificate: no openssl"},
		{"targets side by side", "|   | direct | refproxy | nginx-map | haproxy |\n|---|---:|---:|---:|---:|\n"},
		{"skipped row", "| status |   |   |   | skipped: haproxy is not installed |"},
		{"repetitions", "| repetitions |   | 2 (merged) |   |   |"},
		{"proxy cpu per message", "| proxy CPU / msg | – | 15µs | 15µs | – |"},
		{"failures by cause", "| failures | – | – | http\\_502 2 | – |"},
		{"verdicts", "| refproxy | ✅ | rtt.p99 &lt; 5ms | 1.4ms |"},
		{"hold outcomes", "| hold outcomes | open 20 | eof 15, close\\_1006 5 |"},
		{"ramp", "| ramp: highest step within SLO | 4.00k msgs/s (p99 ≤ 2.00ms); stopped: p99 over SLO | 2.00k msgs/s (p99 ≤ 2.00ms); stopped: p99 over SLO |"},
		{"charts named", "Charts in report.html: rtt latency by percentile; connect latency by percentile; handshake latency by percentile; throughput over time; rtt p99 over time."},
		{"balance named", "hold: connections still open; balance: connections per backend."},
		{"parameters shared once", "rtt · conns=20 duration=5s rate=1000\n"},
		{"url differs by target", "| url | ws://direct:80/echo | ws://refproxy:80/echo | ws://nginx-map:80/echo | – |"},
		{"backends reached of those seen", "| backends | 3, max/mean 1.05 | 1 of the 3 seen, max/mean 1.00 |"},
		{"images", "| image nginx | wsbench-nginx:1.22.1 · nginx/1.22.1 · fedcba987654 |"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(md, c.want) {
				t.Errorf("report.md lacks %q:\n%s", c.want, md)
			}
		})
	}
}

// A target or a message with Markdown's markup in it shows as written:
// it cannot open a link, break a table row or start a heading.
func TestWriteMarkdownEscapes(t *testing.T) {
	o := &results.Overview{RunID: "r", Scenarios: []*results.OverviewScenario{{
		Name: "# s", Description: "a <b>bold</b> claim\nsecond line",
		Workloads: []*results.OverviewWorkload{{Name: "w", Targets: []*results.OverviewTarget{
			{Target: "a|b", Err: "[x](http://evil) *y* `z` _w_"},
		}}},
	}}}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, o); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"## \\# s\n",
		"a &lt;b&gt;bold&lt;/b&gt; claim second line",
		"|   | a\\|b |",
		"error: \\[x\\](http://evil) \\*y\\* \\`z\\` \\_w\\_",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "|") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 3 {
			t.Errorf("table row with the wrong number of cells: %q", line)
		}
	}
}
