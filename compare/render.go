package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/wsbench/wsbench/units"
)

// Formats Write accepts.
const (
	FormatText     = "text"
	FormatMarkdown = "markdown"
	FormatJSON     = "json"
)

// Write renders the report: FormatText (a terminal table),
// FormatMarkdown (a pull-request comment) or FormatJSON.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case FormatText:
		return r.WriteText(w)
	case FormatMarkdown:
		return r.WriteMarkdown(w)
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return fmt.Errorf("compare: format %q, want text, markdown or json", format)
}

// headline is the one-line outcome.
func (r *Report) headline() string {
	results := plural(r.Results, "result")
	var line string
	if r.Regressions == 0 {
		line = fmt.Sprintf("no regression in %s over %s", plural(r.Gated(), "gated metric"), results)
	} else {
		line = fmt.Sprintf("%s in %s over %s", plural(r.Regressions, "regression"), plural(r.Gated(), "gated metric"), results)
	}
	if r.LoadgenBound > 0 {
		line += fmt.Sprintf("; %d not judged: loadgen-bound (the load generator, not the target, set the pace)", r.LoadgenBound)
	}
	return line
}

// outcome is the verdict word: PASS, FAIL (a regression), or
// LOADGEN-BOUND (nothing regressed, but not everything could be judged).
func (r *Report) outcome() string {
	switch {
	case r.Regressions > 0:
		return "FAIL"
	case r.LoadgenBound > 0:
		return "LOADGEN-BOUND"
	}
	return "PASS"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// WriteText writes a terminal table, warnings first, outcome last.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "wsbench compare: baseline %s, current %s (α %.3g)\n", r.Baseline, r.Current, r.Policy.Alpha)
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tMETRIC\tBASELINE\tCURRENT\tCHANGE\tLIMIT\tSAMPLES\tP\tVERDICT\tNOTE")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", row.Result, row.Metric,
			fmtValue(row.Baseline, row.Unit), fmtValue(row.Current, row.Unit), fmtChange(row.Change),
			units.Change(row.Limit), fmtSamples(row), fmtP(row.P), textVerdict(row), row.Note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s: %s\n", r.outcome(), r.headline())
	return err
}

// textVerdict shouts regressions and stars verdicts taken on the
// threshold alone.
func textVerdict(row Row) string {
	v := row.Verdict
	if v == Regression {
		v = strings.ToUpper(v)
	}
	if row.ThresholdOnly {
		v += "*"
	}
	return v
}

// WriteMarkdown writes a pull-request comment: the outcome, a table of the
// gated metrics with ✅/❌, the warnings, and every row with its samples,
// p-value and notes in a collapsed <details>.
func (r *Report) WriteMarkdown(w io.Writer) error {
	icon := map[string]string{"PASS": "✅", "FAIL": "❌", "LOADGEN-BOUND": "⚠️"}[r.outcome()]
	fmt.Fprintf(w, "### %s wsbench: %s\n\n", icon, r.headline())
	fmt.Fprintf(w, "Baseline `%s`, current `%s`. A metric regresses when it moves beyond its limit **and** the samples say so at α = %.3g (one-sided Mann-Whitney U).\n\n",
		r.Baseline, r.Current, r.Policy.Alpha)
	if r.Gated() > 0 {
		fmt.Fprintln(w, "| | result | metric | baseline | current | change | limit |")
		fmt.Fprintln(w, "|:-:|---|---|--:|--:|--:|--:|")
		for _, row := range r.Rows {
			if row.Verdict == NA {
				continue
			}
			fmt.Fprintf(w, "| %s | %s | `%s` | %s | %s | %s | %s |\n", mdIcon(row), md(row.Result), row.Metric,
				fmtValue(row.Baseline, row.Unit), fmtValue(row.Current, row.Unit), fmtChange(row.Change), units.Change(row.Limit))
		}
		fmt.Fprintln(w)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "> ⚠️ %s\n", md(warn))
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "<details><summary>All %s: samples, p-values, notes</summary>\n\n", plural(len(r.Rows), "row"))
	fmt.Fprintln(w, "| result | metric | baseline | current | change | limit | samples | p | verdict | note |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|---|--:|---|---|")
	for _, row := range r.Rows {
		fmt.Fprintf(w, "| %s | `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n", md(row.Result), row.Metric,
			fmtValue(row.Baseline, row.Unit), fmtValue(row.Current, row.Unit), fmtChange(row.Change), units.Change(row.Limit),
			fmtSamples(row), fmtP(row.P), textVerdict(row), md(row.Note))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "`*` judged on the threshold alone: too few samples for a test. Samples are repetitions (`wsbench run --count N`, N ≥ 3) or seconds of each run; `×k` is the autocorrelation correction of per-second samples.")
	_, err := fmt.Fprintln(w, "\n</details>")
	return err
}

func mdIcon(row Row) string {
	switch row.Verdict {
	case Regression:
		return "❌"
	case Better:
		return "🚀"
	case LoadgenBound:
		return "⚠️"
	}
	return "✅"
}

// md escapes what would break a Markdown table cell.
func md(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

func fmtSamples(row Row) string {
	switch row.Samples {
	case FromRepetitions:
		return fmt.Sprintf("%d vs %d reps", row.NBaseline, row.NCurrent)
	case FromIntervals:
		s := fmt.Sprintf("%d vs %d intervals", row.NBaseline, row.NCurrent)
		if row.Inflation > 1 {
			s += fmt.Sprintf(" ×%.1f", row.Inflation)
		}
		return s
	}
	return "—"
}

func fmtP(p *float64) string {
	switch {
	case p == nil:
		return "—"
	case *p < 0.001:
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", *p)
}

func fmtChange(c *float64) string {
	if c == nil {
		return "—"
	}
	return units.Change(*c)
}

// fmtValue writes a metric value with its unit, scaled to stay readable.
func fmtValue(v *float64, unit string) string {
	if v == nil {
		return "—"
	}
	x := *v
	switch unit {
	case "µs":
		return units.Micros(x)
	case "µs/msg", "µs/handshake":
		return units.Micros(x) + strings.TrimPrefix(unit, "µs")
	case "msgs/s":
		return units.Scaled(x) + " msgs/s"
	case "bytes/s":
		return units.Bytes(x) + "/s"
	case "bytes/conn":
		return units.Bytes(x) + "/conn"
	case "ratio":
		return fmt.Sprintf("%.4g", x)
	}
	return fmt.Sprintf("%.4g %s", x, unit)
}
