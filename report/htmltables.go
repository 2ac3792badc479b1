package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/wsbench/wsbench/metrics"
	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/units"
)

// The tables of a report are built once, as text cells, and rendered by
// both report.md and report.html, so the two always say the same.

// reportTable is a table of text cells; the first column names the rows.
type reportTable struct {
	head []string
	rows [][]reportCell
}

// reportCell is one cell; tone colours it in HTML (pass, fail, muted).
type reportCell struct {
	text string
	tone string
}

const (
	repTonePass  = "pass"
	repToneFail  = "fail"
	repToneMuted = "muted"
)

const (
	repMarkPass = "✅"
	repMarkFail = "❌"
)

// repNumbersTable puts the targets of a workload side by side: one column
// per target, one row per figure that any target has.
func repNumbersTable(w *results.OverviewWorkload) reportTable {
	t := reportTable{head: []string{""}}
	for _, tg := range w.Targets {
		t.head = append(t.head, tg.Target)
	}
	add := func(label string, cell func(*results.OverviewTarget, *results.Summary) reportCell) {
		row := []reportCell{{text: label}}
		has := false
		for _, tg := range w.Targets {
			var c reportCell
			if tg.Run != nil {
				c = cell(tg, &tg.Run.Summary)
			}
			has = has || c.text != ""
			if c.text == "" {
				c = reportCell{text: "–", tone: repToneMuted}
			}
			row = append(row, c)
		}
		if has {
			t.rows = append(t.rows, row)
		}
	}
	addRow := func(label string, cell func(*results.OverviewTarget) reportCell) {
		row := []reportCell{{text: label}}
		has := false
		for _, tg := range w.Targets {
			c := cell(tg)
			has = has || c.text != ""
			row = append(row, c)
		}
		if has {
			t.rows = append(t.rows, row)
		}
	}
	addRow("status", repStatusCell)
	addRow("kind", func(tg *results.OverviewTarget) reportCell {
		return reportCell{text: strings.Join(repNonEmpty(tg.Kind, tg.Seed), " · ")}
	})
	addRow("repetitions", func(tg *results.OverviewTarget) reportCell {
		if tg.Reps == 0 {
			return reportCell{}
		}
		return reportCell{text: units.Thousands(int64(tg.Reps)) + " (merged)"}
	})
	_, differ := repSplitParams(w)
	for _, k := range differ {
		add(k, func(_ *results.OverviewTarget, s *results.Summary) reportCell { return reportCell{text: s.Params[k]} })
	}
	repTrafficRows(add)
	for i, m := range chartMetrics(w) {
		repLatencyRows(add, m, i == 0)
	}
	repHoldRows(add, repBackendsSeen(w))
	repProxyRows(add)
	add("loadgen CPU / msg", func(_ *results.OverviewTarget, s *results.Summary) reportCell {
		if s.Self == nil || s.Self.CPUPerMsgUS <= 0 {
			return reportCell{}
		}
		return reportCell{text: units.Micros(s.Self.CPUPerMsgUS)}
	})
	add("loadgen RSS", func(_ *results.OverviewTarget, s *results.Summary) reportCell {
		if s.Self == nil || s.Self.RSSBytes <= 0 {
			return reportCell{}
		}
		return reportCell{text: units.Bytes(float64(s.Self.RSSBytes))}
	})
	add("loadgen-bound", func(_ *results.OverviewTarget, s *results.Summary) reportCell {
		if bound, why := s.LoadgenBound(); bound {
			return reportCell{text: why, tone: repToneFail}
		}
		return reportCell{}
	})
	addRow("expectations", repVerdictsCell)
	return t
}

type repRowAdder func(label string, cell func(*results.OverviewTarget, *results.Summary) reportCell)

func repTrafficRows(add repRowAdder) {
	add("connections opened", func(_ *results.OverviewTarget, s *results.Summary) reportCell {
		c := s.Connections
		return reportCell{text: units.Thousands(c.Opened) + " of " + units.Thousands(c.Attempted)}
	})
	add("failures", func(_ *results.OverviewTarget, s *results.Summary) reportCell {
		if len(s.Failures) == 0 {
			return reportCell{}
		}
		return reportCell{text: fmtByCount(s.Failures, ""), tone: repToneFail}
	})
	add("dropped", func(_ *results.OverviewTarget, s *results.Summary) reportCell {
		if s.Connections.Dropped == 0 {
			return reportCell{}
		}
		return reportCell{text: units.Thousands(s.Connections.Dropped)}
	})
	add("reconnects", func(_ *results.OverviewTarget, s *results.Summary) reportCell {
		if s.Connections.Reconnects == 0 {
			return reportCell{}
		}
		return reportCell{text: units.Thousands(s.Connections.Reconnects)}
	})
	add("messages received/s", func(_ *results.OverviewTarget, s *results.Summary) reportCell {
		if s.Messages.Received == 0 {
			return reportCell{}
		}
		return reportCell{text: units.Scaled(s.Rates.MsgsRecvPerSec) + "/s"}
	})
	add("bytes received/s", func(_ *results.OverviewTarget, s *results.Summary) reportCell {
		if s.Bytes.Received == 0 {
			return reportCell{}
		}
		return reportCell{text: units.Bytes(s.Rates.BytesRecvPerSec) + "/s"}
	})
}

// repLatencyRows shows p50 and p99 of a metric; the workload's primary
// metric also p99.9 and max.
func repLatencyRows(add repRowAdder, m string, primary bool) {
	stats := []struct {
		name string
		get  func(results.Stats) int64
	}{
		{"p50", func(s results.Stats) int64 { return s.P50 }},
		{"p99", func(s results.Stats) int64 { return s.P99 }},
		{"p99.9", func(s results.Stats) int64 { return s.P999 }},
		{"max", func(s results.Stats) int64 { return s.Max }},
	}
	if !primary {
		stats = stats[:2]
	}
	for _, st := range stats {
		add(m+" "+st.name, func(_ *results.OverviewTarget, s *results.Summary) reportCell {
			h, ok := s.Histograms[m]
			if !ok || h.Count == 0 {
				return reportCell{}
			}
			return reportCell{text: units.Micros(float64(st.get(h)))}
		})
	}
}

// repBackendsSeen counts the distinct backends any target of the workload
// reached.
func repBackendsSeen(w *results.OverviewWorkload) int {
	seen := map[string]bool{}
	for _, t := range w.Targets {
		if t.Run != nil {
			for b := range t.Run.Summary.Backends {
				seen[b] = true
			}
		}
	}
	return len(seen)
}

// repHoldRows shows how connections ended and where they went. The
// balance ratio is over the backends a target reached; one that reached
// fewer than the workload saw (ip_hash from one /24) says so.
func repHoldRows(add repRowAdder, seen int) {
	add("hold outcomes", func(_ *results.OverviewTarget, s *results.Summary) reportCell {
		if s.Hold == nil {
			return reportCell{}
		}
		return reportCell{text: fmtByCount(s.Hold.Outcomes, "no connections")}
	})
	add("backends", func(_ *results.OverviewTarget, s *results.Summary) reportCell {
		if len(s.Backends) == 0 {
			return reportCell{}
		}
		n := fmt.Sprintf("%d", len(s.Backends))
		if len(s.Backends) < seen {
			n = fmt.Sprintf("%d of the %d seen", len(s.Backends), seen)
		}
		return reportCell{text: fmt.Sprintf("%s, max/mean %.2f", n, repMaxMean(s.Backends))}
	})
	add("ramp: highest step within SLO", func(_ *results.OverviewTarget, s *results.Summary) reportCell {
		r := s.Ramp
		if r == nil {
			return reportCell{}
		}
		c := reportCell{text: fmt.Sprintf("%s %s (p99 ≤ %s)", units.Scaled(r.MaxOK), r.Unit, units.Micros(float64(r.SLOUS)))}
		if r.MaxOK == 0 {
			c = reportCell{text: "none met p99 ≤ " + units.Micros(float64(r.SLOUS)), tone: repToneFail}
		}
		if r.Broken != "" {
			c.text += "; stopped: " + r.Broken
		}
		return c
	})
}

// repProxyRows shows what the proxy spent, per unit of work, as the
// scenario metrics proxy.cpu_us_per_msg, proxy.cpu_us_per_handshake and
// proxy.mem_per_conn define it.
func repProxyRows(add repRowAdder) {
	add("proxy CPU", func(tg *results.OverviewTarget, s *results.Summary) reportCell {
		if tg.Usage == nil {
			return reportCell{}
		}
		c := units.Seconds(tg.Usage.CPU.Seconds())
		if s.Rates.WindowSec > 0 {
			c += fmt.Sprintf(" (%s cores)", units.Sig3(tg.Usage.CPU.Seconds()/s.Rates.WindowSec))
		}
		return reportCell{text: c}
	})
	// Which of per message and per handshake applies is the metrics
	// package's rule; a row it does not apply to stays empty.
	add("proxy CPU / msg", proxyMetricCell("proxy.cpu_us_per_msg", units.Micros))
	add("proxy CPU / handshake", proxyMetricCell("proxy.cpu_us_per_handshake", units.Micros))
	add("proxy memory / conn", proxyMetricCell("proxy.mem_per_conn", units.Bytes))
}

// proxyMetricCell shows a proxy metric read through the one vocabulary,
// or nothing where it has no value.
func proxyMetricCell(name string, format func(float64) string) func(*results.OverviewTarget, *results.Summary) reportCell {
	m, err := metrics.Lookup(name)
	if err != nil {
		panic(err) // a fixed name: a test fails at once
	}
	return func(tg *results.OverviewTarget, s *results.Summary) reportCell {
		if tg.Usage == nil {
			return reportCell{}
		}
		v, reason := m.Value(metrics.Facts{Summary: s, Proxy: tg.Usage})
		if reason != "" {
			return reportCell{}
		}
		return reportCell{text: format(v)}
	}
}

func repStatusCell(tg *results.OverviewTarget) reportCell {
	switch {
	case tg.Err != "":
		return reportCell{text: "error: " + tg.Err, tone: repToneFail}
	case tg.Skipped != "":
		return reportCell{text: "skipped: " + tg.Skipped, tone: repToneMuted}
	case tg.Run != nil && tg.Run.Summary.Interrupted:
		return reportCell{text: "interrupted: partial results", tone: repToneFail}
	}
	return reportCell{}
}

func repVerdictsCell(tg *results.OverviewTarget) reportCell {
	if len(tg.Verdicts) == 0 {
		return reportCell{}
	}
	failed := 0
	for _, v := range tg.Verdicts {
		if !v.Pass {
			failed++
		}
	}
	if failed > 0 {
		return reportCell{text: fmt.Sprintf("%s %d of %d failed", repMarkFail, failed, len(tg.Verdicts)), tone: repToneFail}
	}
	return reportCell{text: fmt.Sprintf("%s %d held", repMarkPass, len(tg.Verdicts)), tone: repTonePass}
}

// repVerdictsTable lists every expectation of the workload on each target.
func repVerdictsTable(w *results.OverviewWorkload) reportTable {
	t := reportTable{head: []string{"target", "", "expectation", "got"}}
	for _, tg := range w.Targets {
		for _, v := range tg.Verdicts {
			mark, tone := repMarkPass, repTonePass
			if !v.Pass {
				mark, tone = repMarkFail, repToneFail
			}
			got := v.Got
			if v.Reason != "" {
				got = strings.Join(repNonEmpty(got, v.Reason), ": ")
			}
			t.rows = append(t.rows, []reportCell{{text: tg.Target}, {text: mark, tone: tone}, {text: v.Expectation}, {text: got, tone: tone}})
		}
	}
	return t
}

// reportFailure is one thing that went wrong, with where it happened.
type reportFailure struct {
	where string // scenario / workload / target
	what  string
}

// failures lists, in report order, scenarios and rows that could not run,
// interrupted results and broken expectations.
func failures(o *results.Overview) []reportFailure {
	var out []reportFailure
	for _, s := range o.Scenarios {
		if s.Err != "" {
			out = append(out, reportFailure{repScenarioTitle(s), "could not run: " + s.Err})
		}
		for _, w := range s.Workloads {
			for _, tg := range w.Targets {
				where := strings.Join(repNonEmpty(s.Name, w.Name, tg.Target), " / ")
				if tg.Err != "" {
					what := "could not be measured: " + tg.Err
					if len(tg.Logs) > 0 {
						what += " (logs: " + strings.Join(tg.Logs, ", ") + ")"
					}
					out = append(out, reportFailure{where, what})
				}
				if tg.Run != nil && tg.Run.Summary.Interrupted {
					out = append(out, reportFailure{where, "interrupted: the results are partial"})
				}
				for _, v := range tg.Verdicts {
					if v.Pass {
						continue
					}
					what := v.Expectation
					if v.Got != "" {
						what += ": got " + v.Got
					}
					if v.Reason != "" {
						what += " (" + v.Reason + ")"
					}
					out = append(out, reportFailure{where, what})
				}
			}
		}
	}
	return out
}

// factsTable describes the run: when, where, with what.
func factsTable(o *results.Overview) reportTable {
	t := reportTable{head: []string{"", ""}}
	add := func(k, v string) {
		if v != "" {
			t.rows = append(t.rows, []reportCell{{text: k}, {text: v}})
		}
	}
	add("run", o.RunID)
	if !o.Start.IsZero() {
		span := o.Start.UTC().Format("2006-01-02 15:04:05 MST")
		if o.End.After(o.Start) {
			span += ", " + units.Seconds(o.End.Sub(o.Start).Seconds())
		}
		add("started", span)
	}
	if o.Interrupted {
		t.rows = append(t.rows, []reportCell{{text: "interrupted"}, {text: "stopped early: results are partial", tone: repToneFail}})
	}
	add("stack", strings.Join(repNonEmpty(o.Runtime, o.Network), ", "))
	for _, im := range o.Images {
		add("image "+im.Kind, strings.Join(repNonEmpty(im.Ref, im.Version, repShortID(im.ID), im.Source), " · "))
	}
	if s := firstSummary(o); s != nil {
		add("tool", strings.Join(repNonEmpty(s.Tool.Name, s.Tool.Version, s.Tool.Commit, s.Tool.GoVersion), " "))
		h := s.Host
		add("host", fmt.Sprintf("%s: %s/%s, %s, %d cores, kernel %s", orDash(h.Hostname), orDash(h.OS), orDash(h.Arch), orDash(h.CPUModel), h.Cores, orDash(h.Kernel)))
	}
	return t
}

func firstSummary(o *results.Overview) *results.Summary {
	for _, t := range o.Targets() {
		if t.Run != nil {
			return &t.Run.Summary
		}
	}
	return nil
}

// repShortID shortens a content-addressed image id as docker does.
func repShortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// repWorkloadParams describes the workload's load: the parameters every
// target ran it with (those that differ are rows of repNumbersTable).
func repWorkloadParams(w *results.OverviewWorkload) string {
	common, _ := repSplitParams(w)
	for _, t := range w.Targets {
		if t.Run != nil {
			return strings.Join(repNonEmpty(t.Run.Summary.Workload, strings.Join(common, " ")), " · ")
		}
	}
	return ""
}

// repSplitParams sorts the load parameters of the workload's targets into
// those all share (as key=value) and the keys whose values differ (the
// url, always, when targets are addressed by URL).
func repSplitParams(w *results.OverviewWorkload) (common, differ []string) {
	var sums []*results.Summary
	keys := map[string]bool{}
	for _, t := range w.Targets {
		if t.Run != nil {
			sums = append(sums, &t.Run.Summary)
			for k := range t.Run.Summary.Params {
				keys[k] = true
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		v, ok := sums[0].Params[k]
		same := true
		for _, s := range sums[1:] {
			if w, ok2 := s.Params[k]; w != v || ok2 != ok {
				same = false
			}
		}
		if same {
			common = append(common, k+"="+v)
		} else {
			differ = append(differ, k)
		}
	}
	return common, differ
}

func repScenarioTitle(s *results.OverviewScenario) string {
	return cmp.Or(s.Name, "results")
}

func repNonEmpty(parts ...string) []string {
	return slices.DeleteFunc(parts, func(s string) bool { return s == "" })
}
