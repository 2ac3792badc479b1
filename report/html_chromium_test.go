package report

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/wsbench/wsbench/internal/wrap"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/testenv"
)

// chromiumProbe is added to a copy of report.html (the report itself has
// no script): after layout, it measures every chart as the browser drew
// it and leaves the figures as JSON in <pre id="wsbench-probe">, which
// --dump-dom prints.
const chromiumProbe = `<script>
(function () {
  var out = [];
  document.querySelectorAll("svg[data-chart]").forEach(function (svg) {
    var box = svg.getBoundingClientRect(), drawn = 0, texts = 0;
    svg.querySelectorAll(".data").forEach(function (el) {
      var b = el.getBBox();
      // A line may be flat (zero height) or vertical; a bar or marker has area.
      if (el.tagName === "path" ? (b.width > 0 || b.height > 0) : (b.width > 0 && b.height > 0)) drawn++;
    });
    svg.querySelectorAll("text").forEach(function (el) { if (el.getComputedTextLength() > 0) texts++; });
    out.push({chart: svg.getAttribute("data-chart"), title: svg.getAttribute("aria-label"),
      width: box.width, height: box.height, drawn: drawn, texts: texts});
  });
  var pre = document.createElement("pre");
  pre.id = "wsbench-probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>`

// chromiumChart is what the probe reports for one chart.
type chromiumChart struct {
	Chart, Title  string
	Width, Height float64
	Drawn, Texts  int
}

// chromium finds a Chromium binary (WSBENCH_CHROMIUM names one). Without
// it the test skips, unless WSBENCH_REQUIRE_CHROMIUM=1 (CI), where it
// fails: a check CI was meant to run must not pass by not running.
func chromium(t *testing.T) string {
	t.Helper()
	names := []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"}
	if env := os.Getenv("WSBENCH_CHROMIUM"); env != "" {
		names = []string{env}
	}
	for _, n := range names {
		if path, err := exec.LookPath(n); err == nil {
			return path
		}
	}
	testenv.Need(t, errors.New("no Chromium found (tried "+strings.Join(names, ", ")+"); install Debian's chromium package (apt-get install -y chromium)"), "WSBENCH_REQUIRE_CHROMIUM")
	return ""
}

// dumpDOM loads page in headless Chromium and returns the DOM after the
// page's load event.
func dumpDOM(t *testing.T, bin, page string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--user-data-dir="+t.TempDir(), "--no-first-run", "--disable-extensions",
		"--window-size=1400,1000", "--dump-dom", "file://"+page)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s --dump-dom: %v\n%s", bin, err, stderr.String())
	}
	return string(out)
}

var probeResult = regexp.MustCompile(`(?s)<pre id="wsbench-probe">(.*?)</pre>`)

// probe renders the report in Chromium and returns its charts as drawn.
func probe(t *testing.T, bin, report string) []chromiumChart {
	t.Helper()
	page := strings.Replace(report, "</body>", chromiumProbe+"\n</body>", 1)
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := dumpDOM(t, bin, path)
	m := probeResult.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe left no result; the DOM was:\n%s", wrap.Clip(dom, 2000))
	}
	var charts []chromiumChart
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &charts); err != nil {
		t.Fatalf("probe result: %v: %s", err, m[1])
	}
	return charts
}

// TestReportInChromium renders report.html of a run with every kind of
// data in headless Chromium and checks that each chart is there, laid out
// with a size, and has drawn shapes and text.
func TestReportInChromium(t *testing.T) {
	bin := chromium(t)
	report := fixtureHTML(t)
	// A chart with nothing drawn, to prove the check can fail.
	report = strings.Replace(report, "</footer>", `</footer><svg data-chart="empty" viewBox="0 0 10 10" width="100" height="100"></svg>`, 1)
	charts := probe(t, bin, report)

	want := chartKinds(report)
	var got []string
	for _, c := range charts {
		got = append(got, c.Chart)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Chromium found charts %q, the page has %q", got, want)
	}
	for _, kind := range []string{ChartLatency, ChartThroughput, ChartP99, ChartSurvival, ChartBalance, ChartRamp} {
		if !slices.Contains(got, kind) {
			t.Errorf("no %s chart", kind)
		}
	}
	for _, c := range charts {
		if c.Chart == "empty" {
			if c.Drawn != 0 {
				t.Errorf("the empty chart counts %d drawn shapes; the probe is broken", c.Drawn)
			}
			continue
		}
		t.Run(c.Chart+" "+c.Title, func(t *testing.T) {
			if c.Width < 300 || c.Height < 200 {
				t.Errorf("laid out at %.0f×%.0f px, want at least 300×200", c.Width, c.Height)
			}
			if c.Drawn == 0 {
				t.Errorf("no data shape with a non-zero size")
			}
			if c.Texts < 8 {
				t.Errorf("%d texts rendered with a width (title, ticks, labels, legend), want at least 8", c.Texts)
			}
		})
	}
}
