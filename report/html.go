package report

import (
	"bufio"
	"html/template"
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
//
// The page is an html/template, which escapes every value for where it
// stands; the only markup passed in whole is the charts' SVG, which
// chart.Chart.SVG escapes itself.
func WriteHTML(w io.Writer, o *results.Overview) error {
	bw := bufio.NewWriter(w)
	if err := htmlPageTemplate.Execute(bw, htmlPageOf(o)); err != nil {
		return err
	}
	return bw.Flush()
}

// The page marks verdicts with ✓ and ✗, which every text font has: the
// ✅ and ❌ of report.md need an emoji font, and show as empty boxes
// without one (headless browsers, many printers). Colour comes from the
// cell's class.
const (
	htmlMarkPass = "✓"
	htmlMarkFail = "✗"
)

var htmlMarks = strings.NewReplacer(repMarkPass, htmlMarkPass, repMarkFail, htmlMarkFail)

// anchor is the id of scenario i's workload j (j < 0: the scenario).
func htmlAnchor(i, j int) string {
	if j < 0 {
		return "s" + strconv.Itoa(i+1)
	}
	return "s" + strconv.Itoa(i+1) + "w" + strconv.Itoa(j+1)
}

// htmlPage is what the page template shows, everything as text.
type htmlPage struct {
	Title     string
	Style     template.CSS
	Facts     htmlTable
	Tone      string
	Verdict   string
	Contents  []htmlLink // nil: too little to need a table of contents
	Failures  []htmlFailure
	Scenarios []htmlScenario
}

type htmlLink struct {
	Anchor, Title string
	Workloads     []htmlLink
}

type htmlFailure struct{ Where, What string }

type htmlScenario struct {
	Anchor, Title, Description, Err string
	Workloads                       []htmlWorkload
}

type htmlWorkload struct {
	Anchor, Title, Params string
	Tables                []htmlTable
	Note                  string // under the tables: what the resources table means
	Lead                  template.HTML
	Charts                []template.HTML
}

// htmlTable is a reportTable for the page; Head is nil when every head
// cell is empty.
type htmlTable struct {
	Class string
	Head  []string
	Rows  [][]htmlCell
}

// htmlCell is a table cell's text in pieces split at its slashes, so a long
// URL or path can wrap after each one (<wbr>) in a narrow column.
type htmlCell struct {
	Parts []string
	Tone  string
}

func htmlPageOf(o *results.Overview) htmlPage {
	title := "wsbench report: " + o.RunID
	p := htmlPage{Title: title, Style: template.CSS(htmlStyle), Facts: htmlTableOf(factsTable(o), "facts"), Verdict: repVerdictLine(o)}
	passed, failed, broken := o.Tally()
	p.Tone = repTonePass
	if failed+broken > 0 || o.Interrupted {
		p.Tone = repToneFail
	} else if passed == 0 {
		p.Tone = repToneMuted
	}
	if len(o.Scenarios) >= 2 || len(o.Scenarios) == 1 && len(o.Scenarios[0].Workloads) >= 2 {
		for i, s := range o.Scenarios {
			l := htmlLink{Anchor: htmlAnchor(i, -1), Title: repScenarioTitle(s)}
			for j, wl := range s.Workloads {
				l.Workloads = append(l.Workloads, htmlLink{Anchor: htmlAnchor(i, j), Title: wl.Name})
			}
			p.Contents = append(p.Contents, l)
		}
	}
	for _, f := range failures(o) {
		p.Failures = append(p.Failures, htmlFailure{Where: f.where, What: f.what})
	}
	for i, s := range o.Scenarios {
		p.Scenarios = append(p.Scenarios, htmlScenarioOf(s, i))
	}
	return p
}

func htmlScenarioOf(s *results.OverviewScenario, i int) htmlScenario {
	hs := htmlScenario{Anchor: htmlAnchor(i, -1), Title: repScenarioTitle(s), Description: s.Description, Err: s.Err}
	for j, wl := range s.Workloads {
		hw := htmlWorkload{Anchor: htmlAnchor(i, j), Title: wl.Name, Params: repWorkloadParams(wl)}
		hw.Tables = append(hw.Tables, htmlTableOf(repNumbersTable(wl), "numbers"))
		if vt := repVerdictsTable(wl); len(vt.rows) > 0 {
			hw.Tables = append(hw.Tables, htmlTableOf(vt, "verdicts"))
		}
		if rt := repResourcesTable(wl); len(rt.rows) > 0 {
			hw.Tables = append(hw.Tables, htmlTableOf(rt, "resources"))
			hw.Note = resourceNote
		}
		// The numbers and the first chart (the primary metric by
		// percentile) side by side on a wide screen; the rest below.
		for k, c := range chartsOf(wl) {
			svg := template.HTML(c.SVG()) // escaped by SVG
			if k == 0 {
				hw.Lead = svg
			} else {
				hw.Charts = append(hw.Charts, svg)
			}
		}
		hs.Workloads = append(hs.Workloads, hw)
	}
	return hs
}

func htmlTableOf(t reportTable, class string) htmlTable {
	ht := htmlTable{Class: class}
	if strings.Join(t.head, "") != "" {
		ht.Head = t.head
	}
	for _, row := range t.rows {
		var cells []htmlCell
		for _, c := range row {
			cells = append(cells, htmlCell{Parts: strings.Split(htmlMarks.Replace(c.text), "/"), Tone: c.tone})
		}
		ht.Rows = append(ht.Rows, cells)
	}
	return ht
}

// htmlPageTemplate lays the page out; its line breaks are the page's.
var htmlPageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"marks": htmlMarks.Replace,
	"fail":  func() string { return htmlMarkFail },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="wsbench report">
<title>{{.Title}}</title>
<style>{{.Style}}</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
{{template "table" .Facts}}<p class="verdict {{.Tone}}">{{marks .Verdict}}</p>
</header>
{{with .Contents}}<nav>
<h2>Contents</h2>
<ol>
{{range .}}<li><a href="#{{.Anchor}}">{{.Title}}</a>{{with .Workloads}}: {{range $j, $w := .}}{{if $j}}, {{end}}<a href="#{{$w.Anchor}}">{{$w.Title}}</a>{{end}}{{end}}</li>
{{end}}</ol>
</nav>
{{end}}{{with .Failures}}<section id="failures">
<h2>Failures</h2>
<ul class="failures">
{{range .}}<li><span class="fail">{{fail}}</span> <b>{{.Where}}</b>: {{.What}}</li>
{{end}}</ul>
</section>
{{end}}{{range .Scenarios}}<section class="scenario" id="{{.Anchor}}">
<h2>{{.Title}}</h2>
{{with .Description}}<p class="description">{{.}}</p>
{{end}}{{with .Err}}<p class="fail">{{fail}} could not run: {{.}}</p>
{{end}}{{range .Workloads}}<section class="workload" id="{{.Anchor}}">
<div class="head">
<h3>{{.Title}}</h3>
{{with .Params}}<p class="params">{{.}}</p>
{{end}}<div class="lead">
<div class="tables">
{{range .Tables}}{{template "table" .}}{{end}}{{with .Note}}<p class="params">{{.}}</p>
{{end}}</div>
{{with .Lead}}<figure>{{.}}</figure>
{{end}}</div>
</div>
{{with .Charts}}<div class="charts">
{{range .}}<figure>{{.}}</figure>
{{end}}</div>
{{end}}</section>
{{end}}</section>
{{end}}<footer>Made by <code>wsbench report</code>. Latencies are HdrHistogram values (1 µs resolution, 3 significant digits); percentile axes are log scales of 1/(1−p).</footer>
</body>
</html>
{{define "table"}}<table class="{{.Class}}">
{{with .Head}}<thead><tr>{{range .}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
{{end}}<tbody>
{{range .Rows}}<tr>{{range $i, $c := .}}{{if eq $i 0}}<th scope="row"{{with $c.Tone}} class="{{.}}"{{end}}>{{template "cell" $c}}</th>{{else}}<td{{with $c.Tone}} class="{{.}}"{{end}}>{{template "cell" $c}}</td>{{end}}{{end}}</tr>
{{end}}</tbody>
</table>
{{end}}{{define "cell"}}{{range $i, $p := .Parts}}{{if $i}}/<wbr>{{end}}{{$p}}{{end}}{{end}}`))

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
