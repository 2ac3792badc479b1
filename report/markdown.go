package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/wsbench/wsbench/results"
)

// WriteMarkdown writes report.md: the run's facts, an overall verdict, the
// failures first, then per scenario and workload the targets' numbers side
// by side and every expectation with ✅ or ❌ (GitHub-flavoured Markdown).
// Charts are only named: they are in report.html.
func WriteMarkdown(w io.Writer, o *results.Overview) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# wsbench report: %s\n\n", mdEscape(o.RunID))
	mdTable(bw, factsTable(o), false)
	fmt.Fprintf(bw, "\n**%s**\n", repVerdictLine(o))
	if fs := failures(o); len(fs) > 0 {
		fmt.Fprintf(bw, "\n## Failures\n\n")
		for _, f := range fs {
			fmt.Fprintf(bw, "- %s **%s**: %s\n", repMarkFail, mdEscape(f.where), mdEscape(f.what))
		}
	}
	for _, s := range o.Scenarios {
		fmt.Fprintf(bw, "\n## %s\n", mdEscape(repScenarioTitle(s)))
		if s.Description != "" {
			fmt.Fprintf(bw, "\n%s\n", mdEscape(s.Description))
		}
		if s.Err != "" {
			fmt.Fprintf(bw, "\n%s could not run: %s\n", repMarkFail, mdEscape(s.Err))
		}
		for _, wl := range s.Workloads {
			mdWorkload(bw, wl)
		}
	}
	return bw.Flush()
}

func mdWorkload(w io.Writer, wl *results.OverviewWorkload) {
	fmt.Fprintf(w, "\n### %s\n\n", mdEscape(wl.Name))
	if p := repWorkloadParams(wl); p != "" {
		fmt.Fprintf(w, "%s\n\n", mdEscape(p))
	}
	mdTable(w, repNumbersTable(wl), true)
	if vt := repVerdictsTable(wl); len(vt.rows) > 0 {
		fmt.Fprintln(w)
		mdTable(w, vt, false)
	}
	mdResources(w, wl)
	if charts := chartsOf(wl); len(charts) > 0 {
		fmt.Fprintf(w, "\nCharts in report.html: %s.\n", mdEscape(chartTitles(charts)))
	}
}

// repVerdictLine sums the run up in one sentence.
func repVerdictLine(o *results.Overview) string {
	passed, failed, broken := o.Tally()
	var parts []string
	if failed > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d expectations failed", failed, passed+failed))
	}
	if broken > 0 {
		parts = append(parts, fmt.Sprintf("%d could not run", broken))
	}
	if o.Interrupted {
		parts = append(parts, "interrupted")
	}
	var line string
	switch {
	case len(parts) > 0:
		line = repMarkFail + " " + strings.Join(parts, ", ")
	case passed > 0:
		line = fmt.Sprintf("%s all %d expectations held", repMarkPass, passed)
	default:
		line = "No expectations were checked."
	}
	switch n := loadgenBound(o); {
	case n == 1:
		line += "; 1 row is loadgen-bound (the load generator fell behind: its limit, not the target's)"
	case n > 1:
		line += fmt.Sprintf("; %d rows are loadgen-bound (the load generator fell behind: its limit, not the target's)", n)
	}
	return line
}

// loadgenBound counts the rows whose load generator set the pace.
func loadgenBound(o *results.Overview) int {
	n := 0
	for _, t := range o.Targets() {
		if t.Run != nil {
			if bound, _ := t.Run.Summary.LoadgenBound(); bound {
				n++
			}
		}
	}
	return n
}

// mdTable writes t; numeric columns (all but the first) are right-aligned
// when alignRight is set. A table without a head row gets an empty one,
// since GitHub's tables need one.
func mdTable(w io.Writer, t reportTable, alignRight bool) {
	head := make([]string, len(t.head))
	sep := make([]string, len(t.head))
	for i, h := range t.head {
		head[i] = mdCell(h)
		sep[i] = "---"
		if alignRight && i > 0 {
			sep[i] = "---:"
		}
	}
	fmt.Fprintf(w, "| %s |\n|%s|\n", strings.Join(head, " | "), strings.Join(sep, "|"))
	for _, row := range t.rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = mdCell(c.text)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}

func mdCell(s string) string {
	if s == "" {
		return " "
	}
	return mdEscape(s)
}

// mdReplacer escapes what Markdown would read as markup, so a target or
// an error message shows as written.
var mdReplacer = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", "&lt;", ">", "&gt;", "|", `\|`, "#", `\#`, "\r\n", " ", "\n", " ", "\r", " ",
)

func mdEscape(s string) string { return mdReplacer.Replace(s) }
