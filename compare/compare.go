package compare

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strings"

	"github.com/wsbench/wsbench/compare/significance"
	"github.com/wsbench/wsbench/results"
)

// ErrIncomparable marks results that must not be compared: their load
// parameters differ, or they have nothing in common.
var ErrIncomparable = errors.New("incomparable results")

// Verdicts of a row.
const (
	Pass       = "pass"       // within its limit
	Better     = "better"     // improved by more than its limit (significantly, when tested)
	Noise      = "noise"      // beyond its limit, but not significantly: passes
	Regression = "regression" // beyond its limit and significant (or untestable: ThresholdOnly)
	NA         = "n/a"        // cannot be judged: missing on one side, too few values
	// LoadgenBound refuses a verdict: on one side or both the load
	// generator, not the target, set the pace (results.Summary.LoadgenBound),
	// so a change would be wsbench's, not the code's. Not a pass either.
	LoadgenBound = "loadgen-bound"
)

// Row is one metric of one result.
type Row struct {
	Result   string   `json:"result"`
	Metric   string   `json:"metric"`
	Unit     string   `json:"unit"`
	Baseline *float64 `json:"baseline"`
	Current  *float64 `json:"current"`
	// Change is (current − baseline) / baseline; null when undefined (a
	// side missing, or a baseline of 0 with a current that is not).
	Change *float64 `json:"change"`
	Limit  float64  `json:"limit"`
	// Samples is where the test's samples came from: FromRepetitions,
	// FromIntervals or FromNone; NBaseline and NCurrent count them.
	Samples   string `json:"samples"`
	NBaseline int    `json:"n_baseline"`
	NCurrent  int    `json:"n_current"`
	// Inflation is the autocorrelation correction of per-interval samples
	// (1: none).
	Inflation float64 `json:"inflation,omitempty"`
	// P is the one-sided p-value of "current is worse than the baseline
	// moved by the limit"; null when untested.
	P       *float64 `json:"p"`
	Verdict string   `json:"verdict"`
	// ThresholdOnly marks a verdict taken without a significance test,
	// for want of samples.
	ThresholdOnly bool `json:"threshold_only,omitempty"`
	// WouldBe is, on a loadgen-bound row, the verdict the figures alone
	// give: for the reader, never for the gate.
	WouldBe string `json:"would_be,omitempty"`
	Note    string `json:"note,omitempty"`
}

// Report is the outcome of a comparison.
type Report struct {
	Baseline    string   `json:"baseline"`
	Current     string   `json:"current"`
	Policy      Policy   `json:"policy"`
	Warnings    []string `json:"warnings"`
	Results     int      `json:"results"` // results compared
	Rows        []Row    `json:"rows"`
	Regressions int      `json:"regressions"`
	// LoadgenBound counts the rows refused because a side was loadgen-bound.
	LoadgenBound int `json:"loadgen_bound,omitempty"`
	// Passed is true when nothing regressed and every gated row was
	// judged: a loadgen-bound row is not a pass.
	Passed bool `json:"passed"`
}

// Gated counts the rows with a verdict (all but n/a; loadgen-bound rows
// count: they were gated, and refused).
func (r *Report) Gated() int {
	n := 0
	for _, row := range r.Rows {
		if row.Verdict != NA {
			n++
		}
	}
	return n
}

// Compare checks every result of current against the baseline's under the
// policy. Results are matched by key (two sets of one result each are
// matched whatever their keys). It fails with ErrIncomparable when a pair's
// load parameters differ or nothing matches; other differences (host,
// results only on one side, interrupted runs) are warnings.
func Compare(base, cur *Set, p Policy) (*Report, error) {
	if p.Alpha <= 0 {
		p.Alpha = DefaultAlpha
	}
	rep := &Report{Baseline: base.Path, Current: cur.Path, Policy: p, Warnings: []string{}, Rows: []Row{}}
	for _, w := range base.Warnings {
		rep.warn("baseline: " + w)
	}
	for _, w := range cur.Warnings {
		rep.warn("current: " + w)
	}
	pairs, err := match(base, cur, rep)
	if err != nil {
		return nil, err
	}
	for _, pr := range pairs {
		if err := checkPair(pr, rep); err != nil {
			return nil, err
		}
	}
	for _, pr := range pairs {
		for _, rule := range p.Rules {
			row, ok, err := judge(pr, rule, p.Alpha, rep)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			row = refuseLoadgenBound(pr, row)
			rep.Rows = append(rep.Rows, row)
			switch row.Verdict {
			case Regression:
				rep.Regressions++
			case LoadgenBound:
				rep.LoadgenBound++
			}
		}
	}
	rep.Results = len(pairs)
	rep.Passed = rep.Regressions == 0 && rep.LoadgenBound == 0
	return rep, nil
}

// connectPhaseMetrics are timed while connections open, before the load
// phase in which a load generator can fall behind: a loadgen-bound load
// leaves them to be judged.
var connectPhaseMetrics = []string{results.MetricDNS, results.MetricConnect, results.MetricHandshake, results.MetricHandshakeFail}

// refuseLoadgenBound turns a judged row of a load-phase metric into
// LoadgenBound when either side's load generator set the pace (its merged
// result or any repetition), saying which and why; the figures stay for
// the reader.
func refuseLoadgenBound(pr pair, row Row) Row {
	if row.Verdict == NA {
		return row
	}
	if prefix, _, _ := strings.Cut(row.Metric, "."); slices.Contains(connectPhaseMetrics, prefix) {
		return row
	}
	var why []string
	for _, side := range []struct {
		name string
		r    *Result
	}{{"baseline", pr.base}, {"current", pr.cur}} {
		if bound, reason := side.r.Summary.LoadgenBound(); bound {
			why = append(why, side.name+" "+reason)
			continue
		}
		for _, rep := range side.r.Reps {
			if bound, reason := rep.Summary.LoadgenBound(); bound {
				why = append(why, fmt.Sprintf("%s repetition %d %s", side.name, rep.N, reason))
				break
			}
		}
	}
	if len(why) == 0 {
		return row
	}
	row.WouldBe, row.Verdict, row.ThresholdOnly = row.Verdict, LoadgenBound, false
	row.Note = join(fmt.Sprintf("not judged (the figures alone say %s): the load generator set the pace (%s), so a change would be wsbench's, not the target's",
		row.WouldBe, strings.Join(why, "; ")), row.Note)
	return row
}

func (r *Report) warn(w string) {
	if !slices.Contains(r.Warnings, w) {
		r.Warnings = append(r.Warnings, w)
	}
}

type pair struct {
	name      string
	base, cur *Result
}

// match pairs results by key, and warns about those on one side only.
func match(base, cur *Set, rep *Report) ([]pair, error) {
	if len(base.Results) == 1 && len(cur.Results) == 1 {
		b, c := only(base), only(cur)
		name := c.Key
		if name == "." {
			name = c.Summary.Workload
		}
		if b.Key != c.Key && b.Key != "." && c.Key != "." {
			rep.warn(fmt.Sprintf("comparing %s (baseline) with %s (current): the only result on each side", b.Key, c.Key))
		}
		return []pair{{name, b, c}}, nil
	}
	var pairs []pair
	for _, k := range slices.Sorted(maps.Keys(base.Results)) {
		if c, ok := cur.Results[k]; ok {
			pairs = append(pairs, pair{k, base.Results[k], c})
		} else {
			rep.warn("only in the baseline: " + k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(cur.Results)) {
		if _, ok := base.Results[k]; !ok {
			rep.warn("only in the current: " + k)
		}
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("compare: %w: no result in common: the baseline has %s, the current %s",
			ErrIncomparable, keyList(base), keyList(cur))
	}
	return pairs, nil
}

func only(s *Set) *Result {
	for _, r := range s.Results {
		return r
	}
	return nil
}

func keyList(s *Set) string {
	keys := slices.Sorted(maps.Keys(s.Results))
	if len(keys) > 5 {
		keys = append(keys[:5], fmt.Sprintf("… (%d in all)", len(s.Results)))
	}
	return strings.Join(keys, ", ")
}

// checkPair refuses different loads and warns about different hosts and
// partial runs.
func checkPair(pr pair, rep *Report) error {
	b, c := pr.base.Summary, pr.cur.Summary
	if k, vb, vc, differ := paramDiff(b.Params, c.Params); differ {
		return fmt.Errorf("compare: %s: %w: load parameter %q differs: baseline %s, current %s; rerun one side with the other's load",
			pr.name, ErrIncomparable, k, vb, vc)
	}
	if b.Workload != c.Workload {
		return fmt.Errorf("compare: %s: %w: workload differs: baseline %q, current %q", pr.name, ErrIncomparable, b.Workload, c.Workload)
	}
	if hb, hc := hostFacts(b.Host), hostFacts(c.Host); hb != hc {
		rep.warn(fmt.Sprintf("the hosts differ (baseline %s; current %s): differences may come from the machine, not the code", hb, hc))
	}
	if b.Interrupted {
		rep.warn(pr.name + ": the baseline run was interrupted; its results are partial")
	}
	if c.Interrupted {
		rep.warn(pr.name + ": the current run was interrupted; its results are partial")
	}
	return nil
}

func hostFacts(h results.Host) string {
	return fmt.Sprintf("%s, %d cores, kernel %s, %s/%s", orUnknown(h.CPUModel), h.Cores, orUnknown(h.Kernel), orUnknown(h.OS), orUnknown(h.Arch))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// splitOnlyParams describe how a load was spread over load-generator
// processes, not the load itself: they may differ.
var splitOnlyParams = []string{"workers"}

// paramDiff returns the first load parameter (by name) whose values
// differ. A url may differ in its host (each run starts its own servers):
// its scheme, path and query must match.
func paramDiff(a, b map[string]string) (key, va, vb string, differ bool) {
	keys := slices.Sorted(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if slices.Contains(splitOnlyParams, k) {
			continue
		}
		x, okx := a[k]
		y, oky := b[k]
		same := okx == oky && x == y
		if k == "url" && okx && oky {
			same = sameEndpoint(x, y)
		}
		if !same {
			return k, shown(x, okx), shown(y, oky), true
		}
	}
	return "", "", "", false
}

func shown(v string, ok bool) string {
	if !ok {
		return "(not set)"
	}
	return fmt.Sprintf("%q", v)
}

func sameEndpoint(a, b string) bool {
	ua, erra := url.Parse(a)
	ub, errb := url.Parse(b)
	if erra != nil || errb != nil {
		return a == b
	}
	return ua.Scheme == ub.Scheme && ua.Path == ub.Path && ua.Query().Encode() == ub.Query().Encode()
}

// judge computes one row. ok is false when the metric applies to neither
// side (no rtt in a hold run, no proxy CPU for a direct target).
func judge(pr pair, rule Rule, alpha float64, rep *Report) (row Row, ok bool, err error) {
	m, err := lookupMetric(rule.Metric)
	if err != nil {
		return Row{}, false, fmt.Errorf("compare: policy: %w", err)
	}
	row = Row{Result: pr.name, Metric: m.name, Unit: m.unit, Limit: rule.Limit, Samples: FromNone, Verdict: NA}
	bv, bwhy := m.value(pr.base.Summary, pr.base.Usage)
	cv, cwhy := m.value(pr.cur.Summary, pr.cur.Usage)
	switch {
	case bwhy != "" && cwhy != "":
		if absent(bwhy) && absent(cwhy) {
			return row, false, nil
		}
		row.Note = "baseline: " + bwhy + "; current: " + cwhy
		if bwhy == cwhy {
			row.Note = "both: " + bwhy
		}
		return row, true, nil
	case bwhy != "":
		row.Current, row.Note = &cv, "baseline: "+bwhy
		return row, true, nil
	case cwhy != "":
		// Vanished values are worth a look (a target that stopped
		// answering shows up in handshake.success_ratio too).
		row.Baseline, row.Note = &bv, "current: "+cwhy
		if absent(cwhy) {
			rep.warn(fmt.Sprintf("%s: %s is in the baseline but not in the current (%s)", pr.name, m.name, cwhy))
		}
		return row, true, nil
	}
	row.Baseline, row.Current = &bv, &cv
	change := relChange(bv, cv)
	if !math.IsInf(change, 0) {
		row.Change = &change
	} else {
		row.Note = "the baseline is 0"
	}
	bs, cs, kind, why, err := sampleBoth(m, pr)
	if err != nil {
		return Row{}, false, err
	}
	row.Samples = kind
	worse, better := beyond(m.better, change, rule.Limit)
	if !worse && !better {
		row.Verdict = Pass
		if kind != FromNone {
			row.NBaseline, row.NCurrent = count(bs), count(cs)
		}
		return row, true, nil
	}
	limit := rule.Limit
	if better { // test the mirror image: improved by more than the limit
		limit = -limit
	}
	if kind == FromNone {
		row.ThresholdOnly = true
		row.Verdict = verdict(worse, true)
		row.Note = join(row.Note, "no samples to test ("+why+"): judged on the threshold alone")
		return row, true, nil
	}
	// A worse latency is larger; a better one, or a worse throughput, smaller.
	greater := (m.better == LowerIsBetter) == worse
	t := test(greater, bs, cs, limit, kind)
	row.NBaseline, row.NCurrent, row.Inflation = t.n1, t.n2, t.inflation
	if t.minP > alpha {
		row.ThresholdOnly = true
		row.Verdict = verdict(worse, true)
		row.Note = join(row.Note, fmt.Sprintf("too few samples to test (%d and %d; the best p they allow is %.3g > α %.3g): judged on the threshold alone",
			t.n1, t.n2, t.minP, alpha))
		return row, true, nil
	}
	row.P = &t.p
	row.Verdict = verdict(worse, t.p <= alpha)
	switch {
	case worse && t.p > alpha:
		row.Note = join(row.Note, fmt.Sprintf("beyond the limit but not significant (p %.3g > α %.3g)", t.p, alpha))
	case kind == FromIntervals && !t.rhoKnown && t.p <= alpha:
		row.Note = join(row.Note, fmt.Sprintf("seconds taken as independent: fewer than %d a side, too few to estimate their autocorrelation", significance.MinLag1Samples))
	}
	return row, true, nil
}

// absent tells a metric that does not apply (no histogram, no proxy) from
// one that applies but cannot be computed (too few values).
func absent(why string) bool { return !strings.Contains(why, tooFew) }

func relChange(b, c float64) float64 {
	switch {
	case b == c:
		return 0
	case b == 0:
		return math.Copysign(math.Inf(1), c)
	}
	return (c - b) / math.Abs(b)
}

// beyond says whether change went past the limit the wrong way (worse) or
// past its mirror image the right way (better).
func beyond(d Direction, change, limit float64) (worse, better bool) {
	if d == LowerIsBetter {
		return change > limit, change < -limit
	}
	return change < limit, change > -limit
}

func verdict(worse, significant bool) string {
	switch {
	case worse && significant:
		return Regression
	case worse:
		return Noise
	case significant:
		return Better
	}
	return Pass
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

func count(series [][]float64) int {
	n := 0
	for _, s := range series {
		n += len(s)
	}
	return n
}

// sampleBoth returns both sides' samples of one kind: repetitions when
// both have at least three, else per-interval samples when both have them.
func sampleBoth(m metric, pr pair) (base, cur [][]float64, kind, why string, err error) {
	br, cr := repSamples(m, pr.base), repSamples(m, pr.cur)
	if br != nil && cr != nil {
		return [][]float64{br}, [][]float64{cr}, FromRepetitions, "", nil
	}
	if m.intervals == nil {
		return nil, nil, FromNone, fmt.Sprintf("one figure per run, and %d and %d repetitions where %d a side are needed",
			len(pr.base.Reps), len(pr.cur.Reps), minReps), nil
	}
	bi, biwhy, err := intervalSamples(m, pr.base)
	if err != nil {
		return nil, nil, "", "", err
	}
	ci, ciwhy, err := intervalSamples(m, pr.cur)
	if err != nil {
		return nil, nil, "", "", err
	}
	if bi == nil || ci == nil {
		return nil, nil, FromNone, pick(prefixed("baseline", biwhy), prefixed("current", ciwhy), ""), nil
	}
	return bi, ci, FromIntervals, "", nil
}

func pick(a, b, c string) string {
	for _, s := range []string{a, b, c} {
		if s != "" {
			return s
		}
	}
	return ""
}

func prefixed(side, why string) string {
	if why == "" {
		return ""
	}
	return side + ": " + why
}

// minReps is the fewest repetitions whose values are used as samples:
// three against three can reach p = 0.05 (1 in 20 orderings).
const minReps = 3

// repSamples returns the metric's value in each repetition, or nil when
// there are fewer than minReps or one lacks it.
func repSamples(m metric, r *Result) []float64 {
	if len(r.Reps) < minReps {
		return nil
	}
	get := m.sample
	if get == nil {
		get = m.value
	}
	vals := make([]float64, 0, len(r.Reps))
	for _, rep := range r.Reps {
		v, why := get(rep.Summary, rep.Usage)
		if why != "" {
			return nil
		}
		vals = append(vals, v)
	}
	return vals
}

func intervalSamples(m metric, r *Result) ([][]float64, string, error) {
	runs, err := r.readRuns()
	if err != nil {
		return nil, "", fmt.Errorf("compare: %s: %w", r.Key, err)
	}
	if len(runs) == 0 {
		return nil, "no interval log or time series next to the summary", nil
	}
	var series [][]float64
	var why string
	for _, run := range runs {
		s, w := m.intervals(run)
		if len(s) > 0 {
			series = append(series, s)
		} else {
			why = w
		}
	}
	if series == nil {
		return nil, why, nil
	}
	return series, "", nil
}

type testResult struct {
	n1, n2    int
	p, minP   float64
	inflation float64
	rhoKnown  bool // the autocorrelation of per-interval samples could be estimated
}

// test asks, one-sided with the Mann-Whitney U test, whether the current
// samples lie beyond the baseline's moved by limit: above them when
// greater (a latency with limit +10 %: is current above 1.1 × baseline?),
// below them otherwise. Per-interval samples get the autocorrelation
// correction.
func test(greater bool, base, cur [][]float64, limit float64, kind string) testResult {
	var x, y []float64
	for _, s := range base {
		for _, v := range s {
			x = append(x, v*(1+limit))
		}
	}
	for _, s := range cur {
		y = append(y, s...)
	}
	r, _ := significance.MannWhitney(x, y) // both non-empty here
	inflation, known := 1.0, false
	if kind == FromIntervals {
		var rho float64
		if rho, known = significance.Lag1(append(slices.Clone(base), cur...)...); known {
			inflation = significance.Inflation(rho)
		}
		r = r.Inflate(inflation)
	}
	t := testResult{n1: len(x), n2: len(y), inflation: inflation, rhoKnown: known,
		minP: significance.MinP(len(x), len(y), inflation)}
	if greater {
		t.p = r.PGreater
	} else {
		t.p = r.PLess
	}
	return t
}
