package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/internal/chart/charttest"
	"github.com/wsbench/wsbench/results"
)

func fixtureHTML(t *testing.T) string {
	t.Helper()
	o, err := results.LoadOverview(writeReportFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var svgElement = regexp.MustCompile(`(?s)<svg .*?</svg>`)
var dataChart = regexp.MustCompile(`data-chart="([a-z0-9]+)"`)

// chartKinds lists the data-chart of every <svg> in page, in order.
func chartKinds(page string) []string {
	var kinds []string
	for _, m := range dataChart.FindAllStringSubmatch(page, -1) {
		kinds = append(kinds, m[1])
	}
	return kinds
}

func TestWriteHTMLCharts(t *testing.T) {
	page := fixtureHTML(t)
	sections := strings.Split(page, `<section class="workload"`)[1:]
	want := [][]string{
		// proxy-cost: three metrics, throughput and p99 over time
		{ChartLatency, ChartLatency, ChartLatency, ChartThroughput, ChartP99},
		// idle: drop, connect, handshake; survival
		{ChartLatency, ChartLatency, ChartLatency, ChartSurvival},
		// balance: connect, handshake; survival, balance
		{ChartLatency, ChartLatency, ChartSurvival, ChartBalance},
		// capacity: rtt, connect, handshake; throughput, p99, ramp
		{ChartLatency, ChartLatency, ChartLatency, ChartThroughput, ChartP99, ChartRamp},
	}
	if len(sections) != len(want) {
		t.Fatalf("%d workload sections, want %d", len(sections), len(want))
	}
	for i, sec := range sections {
		if got := chartKinds(sec); !slices.Equal(got, want[i]) {
			t.Errorf("workload %d charts %q, want %q", i+1, got, want[i])
		}
	}
	for _, kind := range []string{ChartLatency, ChartThroughput, ChartP99, ChartSurvival, ChartBalance, ChartRamp} {
		if !slices.Contains(chartKinds(page), kind) {
			t.Errorf("no %s chart in the page", kind)
		}
	}
}

// Every chart is well-formed XML with drawn data, a title and a legend
// naming each target.
func TestWriteHTMLChartsAreValidSVG(t *testing.T) {
	page := fixtureHTML(t)
	svgs := svgElement.FindAllString(page, -1)
	if len(svgs) != len(chartKinds(page)) || len(svgs) == 0 {
		t.Fatalf("%d svg elements, %d data-chart attributes", len(svgs), len(chartKinds(page)))
	}
	for i, s := range svgs {
		kind := dataChart.FindStringSubmatch(s)[1]
		t.Run(kind+"_"+strconv.Itoa(i), func(t *testing.T) {
			st := charttest.Parse(t, s)
			if st.Data == 0 {
				t.Errorf("no data element (class data) drawn:\n%s", s)
			}
			if st.Title == "" || len(st.Legend) == 0 {
				t.Errorf("title %q, legend %q; want both", st.Title, st.Legend)
			}
		})
	}
}

// The page stands alone: nothing it shows comes from elsewhere, and there
// is no script at all.
func TestWriteHTMLSelfContained(t *testing.T) {
	page := fixtureHTML(t)
	for _, banned := range []string{"http://", "https://", "//cdn", "<script", "<link", "<img", "<iframe", " src=", "@import", "url(", "@font-face"} {
		if strings.Contains(strings.ToLower(page), banned) {
			i := strings.Index(strings.ToLower(page), banned)
			t.Errorf("page contains %q: …%s…", banned, page[max(i-60, 0):min(i+60, len(page))])
		}
	}
	if !strings.HasPrefix(page, "<!DOCTYPE html>\n") || !strings.Contains(page, `<meta charset="utf-8">`) || !strings.Contains(page, "<style>") {
		t.Errorf("page lacks the doctype, charset or inline style")
	}
	if err := htmlNesting(page); err != nil {
		t.Error(err)
	}
}

// htmlNesting checks that every element the page opens is closed in
// order (HTML's void elements aside).
func htmlNesting(page string) error {
	void := []string{"meta", "wbr", "br", "hr", "img", "input", "link"}
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict, d.Entity = false, xml.HTMLEntity
	var stack []string
	for {
		tok, err := d.RawToken() // Token would mend a mismatched end tag
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("page does not parse: %w", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if !slices.Contains(void, tok.Name.Local) {
				stack = append(stack, tok.Name.Local)
			}
		case xml.EndElement:
			if slices.Contains(void, tok.Name.Local) {
				continue
			}
			line, _ := d.InputPos()
			if len(stack) == 0 || stack[len(stack)-1] != tok.Name.Local {
				return fmt.Errorf("line %d: </%s> closes %v", line, tok.Name.Local, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 {
		return fmt.Errorf("elements left open: %v", stack)
	}
	return nil
}

func TestWriteHTMLContent(t *testing.T) {
	page := fixtureHTML(t)
	if strings.ContainsAny(page, repMarkPass+repMarkFail) {
		t.Errorf("page uses emoji marks, which need an emoji font")
	}
	for _, want := range []string{
		"<title>wsbench report: 20260301T120000Z</title>",
		`<p class="verdict fail">✗ 3 of 6 expectations failed, 2 could not run; 1 row is loadgen-bound (the load generator fell behind: its limit, not the target&#39;s)</p>`,
		`<th scope="row">loadgen-bound</th>`,
		`<h2>Failures</h2>`,
		`<li><span class="fail">✗</span> <b>proxy-cost / rtt / refproxy</b>: proxy.cpu_us_per_msg &lt; 10µs: got 15µs</li>`,
		`<th scope="col">nginx-map</th>`,
		`<td class="fail">✗ 1 of 2 failed</td>`,
		`<td class="pass">✓</td>`,
		`<td class="muted">skipped: haproxy is not installed</td>`,
		`<a href="#s1w1">rtt</a>`,
		`SLO: p99 ≤ 2.00ms`,
		`refproxy: 2k msgs/s`,
		`rtt latency by percentile`,
		`99.999%`,
		"@media print",
		"max/mean over the backends each target reached (1.00 is even):",
		"refproxy-rr 1.05, nginx-ip-hash", // the note wraps here
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// A hostile name or message is shown, never run: in text, attributes and
// inside the SVG charts.
func TestWriteHTMLEscapes(t *testing.T) {
	evil := `<script>alert("x")</script>&amp;'`
	r := reportRun(t, evil, "rtt", 0, withBackends(map[string]int64{evil: 3, "b": 1}))
	r.Summary.Params["url"] = evil
	if err := r.Write(t.TempDir()); err != nil { // normalizes: stats from the histograms
		t.Fatal(err)
	}
	o := &results.Overview{RunID: evil, Scenarios: []*results.OverviewScenario{{
		Name: evil, Description: evil, Err: evil,
		Workloads: []*results.OverviewWorkload{{Name: evil, Targets: []*results.OverviewTarget{
			{Target: evil, Run: r, Verdicts: []results.RunVerdict{{Expectation: evil, Got: evil}}},
			{Target: "other", Err: evil},
		}}},
	}}}
	var b bytes.Buffer
	if err := WriteHTML(&b, o); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script") || strings.Contains(page, `alert("x")`) {
		i := strings.Index(page, "<script")
		t.Fatalf("unescaped markup in the page: …%s…", page[max(i-80, 0):min(i+80, len(page))])
	}
	if !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;amp;&#39;") {
		t.Errorf("escaped name missing from the page")
	}
	for _, s := range svgElement.FindAllString(page, -1) {
		st := charttest.Parse(t, s)
		if !slices.Contains(st.Legend, evil) && !slices.Contains(st.Texts, evil) {
			t.Errorf("chart does not show the name as text: %q", st.Legend)
		}
	}
}
