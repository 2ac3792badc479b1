package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wsbench/wsbench/internal/yamlnode"
	"github.com/wsbench/wsbench/units"
)

// Expectation is one pass/fail rule, written in a scenario as
// "metric op value [± tol]", e.g. "hold.median_drop == 5s ± 0.5s".
type Expectation struct {
	Metric string  // e.g. "hold.median_drop"
	Op     string  // < <= == != >= >, or present / absent
	Value  float64 // in the metric's base unit: seconds, bytes, count, ratio, msgs/s
	Tol    float64 // for ==: "± 0.5s"
	Text   string  // as written
	Line   int     // in the scenario file
}

// Verdict is an expectation checked against facts.
type Verdict struct {
	Expectation Expectation
	Pass        bool
	Got         string // the metric's value with its unit, e.g. "5.02s"; "" when it could not be computed
	Reason      string // why the metric could not be computed (then Pass is false)
}

// ops are the comparison operators, longest first so "<=" is not read as "<".
var ops = []string{"<=", ">=", "==", "!=", "<", ">"}

// Presence operators, for hello.<Header-Name>.
const (
	OpPresent = "present"
	OpAbsent  = "absent"
)

// ParseExpectation reads "metric op value [± tol]" (or "metric present" /
// "metric absent"). The value must be written in a unit that fits the
// metric: a duration for latencies, a size for bytes, a ratio or percentage
// for ratios.
func ParseExpectation(text string) (Expectation, error) {
	e, err := parseExpectation(text)
	if err != nil {
		return e, fmt.Errorf("scenarios: %w", err)
	}
	return e, nil
}

func parseExpectation(text string) (Expectation, error) {
	e := Expectation{Text: text}
	t := strings.TrimSpace(text)
	end := strings.IndexFunc(t, func(r rune) bool { return !metricChar(r) })
	if end < 0 {
		end = len(t)
	}
	e.Metric, t = t[:end], strings.TrimSpace(t[end:])
	if e.Metric == "" {
		return e, fmt.Errorf("expectation %q: want \"metric op value\", e.g. \"handshake.success_ratio >= 0.999\"", text)
	}
	d, err := lookupMetric(e.Metric)
	if err != nil {
		return e, fmt.Errorf("expectation %q: %w", text, err)
	}
	if d.kind == kindPresence {
		if t != OpPresent && t != OpAbsent {
			return e, fmt.Errorf("expectation %q: %s is present or absent, got %q (want \"%s present\" or \"%s absent\")", text, e.Metric, t, e.Metric, e.Metric)
		}
		e.Op = t
		return e, nil
	}
	for _, op := range ops {
		if strings.HasPrefix(t, op) {
			e.Op, t = op, strings.TrimSpace(t[len(op):])
			break
		}
	}
	if e.Op == "" {
		hint := "want one of < <= == != >= >"
		if strings.HasPrefix(t, "=") {
			hint = "did you mean ==?"
		}
		return e, fmt.Errorf("expectation %q: operator %q: %s", text, firstWord(t), hint)
	}
	value, tol, hasTol := cutTolerance(t)
	if e.Value, err = parseValue(d.kind, e.Metric, value); err != nil {
		return e, fmt.Errorf("expectation %q: %w", text, err)
	}
	if hasTol {
		if e.Op != "==" && e.Op != "!=" {
			return e, fmt.Errorf("expectation %q: a tolerance (±) goes with == or !=, not %s", text, e.Op)
		}
		if e.Tol, err = parseValue(d.kind, e.Metric, tol); err != nil {
			return e, fmt.Errorf("expectation %q: tolerance: %w", text, err)
		}
	}
	return e, nil
}

func metricChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
}

func firstWord(s string) string {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

// cutTolerance splits "5s ± 0.5s" (also "+-" and "+/-") into its parts.
func cutTolerance(s string) (value, tol string, ok bool) {
	for _, sep := range []string{"±", "+/-", "+-"} {
		if v, t, found := strings.Cut(s, sep); found {
			return strings.TrimSpace(v), strings.TrimSpace(t), true
		}
	}
	return s, "", false
}

// parseValue reads s in the unit of kind k, into the metric's base unit.
func parseValue(k kind, metric, s string) (float64, error) {
	if s == "" {
		return 0, fmt.Errorf("%s: missing value", metric)
	}
	v, err := parseKind(k, s)
	if err != nil {
		return 0, fmt.Errorf("%s is %s: value %q: %w", metric, kindPhrase[k], s, err)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s: value %q: not a finite number", metric, s)
	}
	return v, nil
}

var kindPhrase = [...]string{
	kindSeconds:  "a duration",
	kindMicros:   "CPU time per event",
	kindBytes:    "a size",
	kindCount:    "a count",
	kindRatio:    "a ratio",
	kindRate:     "a rate in messages/s",
	kindByteRate: "a rate in bytes/s",
	kindStatus:   "an HTTP status",
	kindPresence: "present or absent",
}

func parseKind(k kind, s string) (float64, error) {
	switch k {
	case kindSeconds:
		if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 { // bare seconds, kept exact
			return f, nil
		}
		d, err := units.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("want e.g. 5s, 500ms (a bare number is seconds)")
		}
		return time.Duration(d).Seconds(), nil
	case kindMicros:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("want e.g. 46µs, 46us, 0.05ms (a bare number is µs)")
		}
		return float64(d) / 1e3, nil
	case kindBytes:
		n, err := units.ParseSize(s)
		if err != nil {
			return 0, fmt.Errorf("want e.g. 512, 16KiB, 2MB")
		}
		return float64(n), nil
	case kindCount:
		n, err := units.ParseCount(s)
		if err != nil {
			return 0, fmt.Errorf("want a whole number, e.g. 0, 200, 10k")
		}
		return float64(n), nil
	case kindRatio:
		return parseRatio(s)
	case kindRate:
		r, err := units.ParseRate(s)
		if err != nil {
			return 0, fmt.Errorf("want e.g. 5000, 10k, 10k/s")
		}
		return float64(r), nil
	case kindByteRate:
		n, err := units.ParseSize(strings.TrimSuffix(strings.TrimSpace(s), "/s"))
		if err != nil {
			return 0, fmt.Errorf("want e.g. 64MiB/s, 1MB/s")
		}
		return float64(n), nil
	case kindStatus:
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 || n > 599 {
			return 0, fmt.Errorf("want a status code from 100 to 599, e.g. 101, 403, 505")
		}
		return float64(n), nil
	}
	return 0, fmt.Errorf("takes no value")
}

func parseRatio(s string) (float64, error) {
	t, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil {
		return 0, fmt.Errorf("want a plain number or a percentage, e.g. 0.999, 99.9%%")
	}
	if pct {
		f /= 100
	}
	return f, nil
}

// UnmarshalYAML reads an expectation from a YAML string and records its line.
func (e *Expectation) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: an expectation is a string such as \"handshake.success_ratio >= 0.999\", got %s", n.Line, yamlnode.KindName(n.Kind))
	}
	v, err := parseExpectation(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	v.Line = n.Line
	*e = v
	return nil
}

// MarshalYAML writes the expectation back as its text.
func (e Expectation) MarshalYAML() (any, error) { return e.String(), nil }

// String is the expectation as written, or rebuilt from its fields.
func (e Expectation) String() string {
	if e.Text != "" {
		return strings.TrimSpace(e.Text)
	}
	d, err := lookupMetric(e.Metric)
	if err != nil || d.kind == kindPresence {
		return strings.TrimSpace(e.Metric + " " + e.Op)
	}
	s := fmt.Sprintf("%s %s %s", e.Metric, e.Op, exact(d.kind, e.Value))
	if e.Tol != 0 {
		s += " ± " + exact(d.kind, e.Tol)
	}
	return s
}

// exact writes v so that it parses back to the same value: durations in
// Go's notation when they are whole nanoseconds, anything else as a bare
// number in the metric's base unit.
func exact(k kind, v float64) string {
	bare := strconv.FormatFloat(v, 'f', -1, 64)
	switch k {
	case kindSeconds:
		ns := v * 1e9
		if ns == math.Trunc(ns) && math.Abs(ns) < 1<<62 {
			return time.Duration(ns).String()
		}
	case kindByteRate:
		return bare + "/s"
	}
	return bare
}

// Check evaluates the expectation against f. A metric that cannot be
// computed fails, with the reason.
func (e Expectation) Check(f Facts) Verdict {
	v := Verdict{Expectation: e}
	d, err := lookupMetric(e.Metric)
	if err != nil {
		v.Reason = err.Error()
		return v
	}
	if f.Summary == nil {
		v.Reason = "no result"
		return v
	}
	got, reason := d.value(f)
	if reason != "" {
		v.Reason = reason
		return v
	}
	v.Got = format(d.kind, got)
	v.Pass = compare(e.Op, got, e.Value, e.Tol)
	return v
}

// compare applies op. Equality without a tolerance allows only float
// rounding, so "handshake.success_ratio == 1" means every one.
func compare(op string, got, want, tol float64) bool {
	eps := 1e-9 * math.Max(1, math.Abs(want))
	switch op {
	case "<":
		return got < want
	case "<=":
		return got <= want+eps
	case ">":
		return got > want
	case ">=":
		return got >= want-eps
	case "==":
		return math.Abs(got-want) <= tol+eps
	case "!=":
		return math.Abs(got-want) > tol+eps
	case OpPresent:
		return got != 0
	case OpAbsent:
		return got == 0
	}
	return false
}

// String renders the verdict as one line: PASS/FAIL, the expectation and
// what was measured.
func (v Verdict) String() string {
	word := "FAIL"
	if v.Pass {
		word = "PASS"
	}
	switch {
	case v.Reason != "":
		return fmt.Sprintf("%s %s (%s)", word, v.Expectation, v.Reason)
	case v.Got != "":
		return fmt.Sprintf("%s %s (got %s)", word, v.Expectation, v.Got)
	}
	return word + " " + v.Expectation.String()
}

// format renders a value of kind k with its unit.
func format(k kind, v float64) string {
	switch k {
	case kindSeconds:
		return units.Seconds(v)
	case kindMicros:
		return units.Micros(v)
	case kindBytes:
		return units.Bytes(v)
	case kindCount, kindStatus:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case kindRatio:
		return strconv.FormatFloat(v, 'g', 4, 64)
	case kindRate:
		return units.Scaled(v) + "/s"
	case kindByteRate:
		return units.Bytes(v) + "/s"
	case kindPresence:
		if v != 0 {
			return OpPresent
		}
		return OpAbsent
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
