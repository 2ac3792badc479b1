package report

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"

	"github.com/wsbench/wsbench/results"
)

// WriteHTML writes report.html: what WriteMarkdown writes, plus inline SVG
// charts for every workload (latency by percentile per metric, throughput
// and p99 over time, hold survival, balance per backend, ramp with its
// SLO). The page is self-contained: no script, and no font, style or
// image from anywhere else, so it opens from disk and prints.
func WriteHTML(w io.Writer, o *results.Overview) error {
	bw := bufio.NewWriter(w)
	title := "wsbench report: " + o.RunID
	fmt.Fprintf(bw, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"+
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"+
		"<meta name=\"generator\" content=\"wsbench report\">\n<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n",
		htmlEsc(title), htmlStyle)
	fmt.Fprintf(bw, "<header>\n<h1>%s</h1>\n", htmlEsc(title))
	htmlTable(bw, factsTable(o), "facts")
	passed, failed, broken := o.Tally()
	tone := repTonePass
	if failed+broken > 0 || o.Interrupted {
		tone = repToneFail
	} else if passed == 0 {
		tone = repToneMuted
	}
	fmt.Fprintf(bw, "<p class=\"verdict %s\">%s</p>\n</header>\n", tone, htmlText(repVerdictLine(o)))
	htmlContents(bw, o)
	if fs := failures(o); len(fs) > 0 {
		fmt.Fprintf(bw, "<section id=\"failures\">\n<h2>Failures</h2>\n<ul class=\"failures\">\n")
		for _, f := range fs {
			fmt.Fprintf(bw, "<li><span class=\"fail\">%s</span> <b>%s</b>: %s</li>\n", htmlMarkFail, htmlEsc(f.where), htmlEsc(f.what))
		}
		fmt.Fprintf(bw, "</ul>\n</section>\n")
	}
	for i, s := range o.Scenarios {
		htmlScenario(bw, s, i)
	}
	fmt.Fprintf(bw, "<footer>Made by <code>wsbench report</code>. Latencies are HdrHistogram values "+
		"(1 µs resolution, 3 significant digits); percentile axes are log scales of 1/(1−p).</footer>\n</body>\n</html>\n")
	return bw.Flush()
}

func htmlEsc(s string) string { return html.EscapeString(s) }

// The page marks verdicts with ✓ and ✗, which every text font has: the
// ✅ and ❌ of report.md need an emoji font, and show as empty boxes
// without one (headless browsers, many printers). Colour comes from the
// cell's class.
const (
	htmlMarkPass = "✓"
	htmlMarkFail = "✗"
)

var htmlMarks = strings.NewReplacer(repMarkPass, htmlMarkPass, repMarkFail, htmlMarkFail)

// htmlText escapes a report's text for the page, with its marks.
func htmlText(s string) string { return htmlMarks.Replace(htmlEsc(s)) }

// anchor is the id of scenario i's workload j (j < 0: the scenario).
func htmlAnchor(i, j int) string {
	if j < 0 {
		return "s" + strconv.Itoa(i+1)
	}
	return "s" + strconv.Itoa(i+1) + "w" + strconv.Itoa(j+1)
}

func htmlContents(w io.Writer, o *results.Overview) {
	if len(o.Scenarios) < 2 && (len(o.Scenarios) == 0 || len(o.Scenarios[0].Workloads) < 2) {
		return
	}
	fmt.Fprintf(w, "<nav>\n<h2>Contents</h2>\n<ol>\n")
	for i, s := range o.Scenarios {
		fmt.Fprintf(w, "<li><a href=\"#%s\">%s</a>", htmlAnchor(i, -1), htmlEsc(repScenarioTitle(s)))
		if len(s.Workloads) > 0 {
			fmt.Fprintf(w, ": ")
			for j, wl := range s.Workloads {
				if j > 0 {
					fmt.Fprintf(w, ", ")
				}
				fmt.Fprintf(w, "<a href=\"#%s\">%s</a>", htmlAnchor(i, j), htmlEsc(wl.Name))
			}
		}
		fmt.Fprintf(w, "</li>\n")
	}
	fmt.Fprintf(w, "</ol>\n</nav>\n")
}

func htmlScenario(w io.Writer, s *results.OverviewScenario, i int) {
	fmt.Fprintf(w, "<section class=\"scenario\" id=\"%s\">\n<h2>%s</h2>\n", htmlAnchor(i, -1), htmlEsc(repScenarioTitle(s)))
	if s.Description != "" {
		fmt.Fprintf(w, "<p class=\"description\">%s</p>\n", htmlEsc(s.Description))
	}
	if s.Err != "" {
		fmt.Fprintf(w, "<p class=\"fail\">%s could not run: %s</p>\n", htmlMarkFail, htmlEsc(s.Err))
	}
	for j, wl := range s.Workloads {
		fmt.Fprintf(w, "<section class=\"workload\" id=\"%s\">\n<div class=\"head\">\n<h3>%s</h3>\n", htmlAnchor(i, j), htmlEsc(wl.Name))
		if p := repWorkloadParams(wl); p != "" {
			fmt.Fprintf(w, "<p class=\"params\">%s</p>\n", htmlEsc(p))
		}
		// The numbers and the first chart (the primary metric by
		// percentile) side by side on a wide screen; the rest below.
		charts := chartsOf(wl)
		fmt.Fprintf(w, "<div class=\"lead\">\n<div class=\"tables\">\n")
		htmlTable(w, repNumbersTable(wl), "numbers")
		if vt := repVerdictsTable(wl); len(vt.rows) > 0 {
			htmlTable(w, vt, "verdicts")
		}
		htmlResources(w, wl)
		fmt.Fprintf(w, "</div>\n")
		if len(charts) > 0 {
			fmt.Fprintf(w, "<figure>%s</figure>\n", charts[0].render())
		}
		fmt.Fprintf(w, "</div>\n</div>\n")
		if len(charts) > 1 {
			fmt.Fprintf(w, "<div class=\"charts\">\n")
			for _, c := range charts[1:] {
				fmt.Fprintf(w, "<figure>%s</figure>\n", c.render())
			}
			fmt.Fprintf(w, "</div>\n")
		}
		fmt.Fprintf(w, "</section>\n")
	}
	fmt.Fprintf(w, "</section>\n")
}

// htmlTable writes t; a head row whose cells are all empty is left out.
func htmlTable(w io.Writer, t reportTable, class string) {
	fmt.Fprintf(w, "<table class=\"%s\">\n", class)
	if strings.Join(t.head, "") != "" {
		fmt.Fprintf(w, "<thead><tr>")
		for _, h := range t.head {
			fmt.Fprintf(w, "<th scope=\"col\">%s</th>", htmlEsc(h))
		}
		fmt.Fprintf(w, "</tr></thead>\n")
	}
	fmt.Fprintf(w, "<tbody>\n")
	for _, row := range t.rows {
		fmt.Fprintf(w, "<tr>")
		for i, c := range row {
			tag := "td"
			if i == 0 {
				tag = "th scope=\"row\""
			}
			cls := ""
			if c.tone != "" {
				cls = " class=\"" + c.tone + "\""
			}
			fmt.Fprintf(w, "<%s%s>%s</%s>", tag, cls, htmlBreakable(c.text), strings.Fields(tag)[0])
		}
		fmt.Fprintf(w, "</tr>\n")
	}
	fmt.Fprintf(w, "</tbody>\n</table>\n")
}

// htmlBreakable escapes s and lets a long URL or path wrap after its
// slashes, so a narrow column stays readable.
func htmlBreakable(s string) string {
	return strings.ReplaceAll(htmlText(s), "/", "/<wbr>")
}

// htmlStyle is the page's only style sheet. It uses the reader's system
// fonts (nothing to download), keeps numbers in tabular figures, and
// prints charts whole, in colour.
const htmlStyle = `
:root { --fg: #1b1b1b; --muted: #666; --line: #d9d9d9; --pass: #1a7f37; --fail: #b42318; --bg-alt: #f6f7f9; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", "Liberation Sans", sans-serif;
  color: var(--fg); background: #fff; margin: 0 auto; padding: 24px 32px 48px; max-width: 1400px; line-height: 1.4; font-size: 15px; }
h1 { font-size: 26px; margin: 0 0 12px; }
h2 { font-size: 21px; margin: 36px 0 8px; padding-top: 8px; border-top: 2px solid var(--line); }
h3 { font-size: 17px; margin: 24px 0 6px; }
a { color: #0b5cad; }
code { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 0.92em; }
.description, .params, footer { color: var(--muted); }
.params { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; margin: 0 0 8px; overflow-wrap: anywhere; }
.verdict { font-size: 18px; font-weight: 600; margin: 12px 0; }
table { border-collapse: collapse; margin: 8px 0 14px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 12px 4px 8px; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #999; white-space: nowrap; }
tbody th { font-weight: 500; white-space: nowrap; }
table.numbers td { text-align: right; }
table.numbers tbody tr:nth-child(even), table.verdicts tbody tr:nth-child(even) { background: var(--bg-alt); }
table.facts th { color: var(--muted); font-weight: normal; }
td.pass, .verdict.pass { color: var(--pass); }
td.fail, .verdict.fail, p.fail { color: var(--fail); }
td.muted, .verdict.muted { color: var(--muted); }
nav ol { margin: 4px 0; padding-left: 22px; }
ul.failures li { margin: 3px 0; }
.lead { display: flex; flex-wrap: wrap; gap: 18px 32px; align-items: flex-start; }
.lead .tables { flex: 0 1 auto; max-width: 100%; overflow-x: auto; }
.lead figure { flex: 1 1 440px; max-width: 760px; }
table.numbers { font-size: 13.5px; }
table.numbers th, table.numbers td { padding: 3px 10px 3px 6px; }
table.numbers td { max-width: 14em; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 18px 24px; margin: 10px 0 8px; }
figure { margin: 0; break-inside: avoid; page-break-inside: avoid; }
svg.chart { width: 100%; height: auto; display: block; overflow: visible; }
svg.chart text { font-family: inherit; font-size: 12px; fill: #222; }
svg.chart .title { font-size: 14px; font-weight: 600; }
svg.chart .note { font-size: 11px; fill: var(--muted); }
svg.chart .tick { font-size: 11px; fill: #444; }
svg.chart .bar-label { font-size: 10px; fill: #333; }
svg.chart .rule-label { font-size: 11px; font-weight: 600; }
svg.chart .gridline { stroke: #e6e6e6; stroke-width: 1; }
svg.chart .frame { stroke: #9a9a9a; stroke-width: 1; }
footer { margin-top: 40px; font-size: 13px; }
@media print {
  body { padding: 0; max-width: none; font-size: 11pt; }
  nav { display: none; }
  h2 { break-before: auto; break-after: avoid; }
  h3 { break-after: avoid; }
  table, figure, .head { break-inside: avoid; }
  .charts { grid-template-columns: 1fr 1fr; }
  .lead figure { max-width: 50%; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`
