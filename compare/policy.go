package compare

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wsbench/wsbench/internal/yamlnode"
	"github.com/wsbench/wsbench/units"
)

// DefaultAlpha is the significance level: a change beyond its limit is a
// regression when a difference that large or larger would show up by
// chance at most this often.
const DefaultAlpha = 0.05

// Rule is one limit: how far a metric may move the wrong way.
type Rule struct {
	Metric string `json:"metric"`
	// Limit is a signed fraction: +0.10 lets a latency or a cost rise by
	// 10 %, −0.05 lets a throughput fall by 5 %.
	Limit float64 `json:"limit"`
}

// String reads "rtt.p99 ≤ +10%" or "throughput.msgs_per_s ≥ -5%".
func (r Rule) String() string {
	if r.Limit < 0 {
		return r.Metric + " ≥ " + units.Change(r.Limit)
	}
	return r.Metric + " ≤ " + units.Change(r.Limit)
}

// Policy is what the gate checks.
type Policy struct {
	Alpha float64 `json:"alpha"`
	Rules []Rule  `json:"rules"`
}

// DefaultPolicy is the gate without a policy file. It checks what a proxy
// change can make worse and what stays measurable on a noisy shared
// machine: typical and tail latency of round trips, push and handshakes
// (tails get more room: a p99 moves more between runs than a median), the
// throughput of the throughput workload, handshakes that fail, and the
// proxy's CPU per message and per handshake (CPU time counts work, not
// waiting, so it holds on a busy host). docs/gating.md gives the reasons
// for each figure.
func DefaultPolicy() Policy {
	return Policy{Alpha: DefaultAlpha, Rules: []Rule{
		{"rtt.p50", 0.10},
		{"rtt.p99", 0.20},
		{"oneway.p50", 0.10},
		{"oneway.p99", 0.20},
		{"handshake.p50", 0.15},
		{"handshake.p99", 0.25},
		{"throughput.msgs_per_s", -0.05},
		{"handshake.success_ratio", -0.01},
		{"proxy.cpu_us_per_msg", 0.10},
		{"proxy.cpu_us_per_handshake", 0.15},
	}}
}

// Set adds, replaces or (with "off") removes the rule of one metric from a
// flag: kind is "max" (for metrics where lower is better: latency, cost)
// or "min" (higher is better: throughput, success), spec "METRIC=+N%",
// "METRIC=-N%" or "METRIC=off".
func (p *Policy) Set(kind, spec string) error {
	name, value, ok := strings.Cut(spec, "=")
	if !ok {
		example := "rtt.p99=+10%"
		if kind == "min" {
			example = "throughput.msgs_per_s=-5%"
		}
		return fmt.Errorf("--%s %q: want METRIC=LIMIT, e.g. --%s %s", kind, spec, kind, example)
	}
	if err := p.set(kind, strings.TrimSpace(name), strings.TrimSpace(value)); err != nil {
		return fmt.Errorf("--%s %s: %w", kind, spec, err)
	}
	return nil
}

func (p *Policy) set(kind, name, value string) error {
	m, err := lookupMetric(name)
	if err != nil {
		return err
	}
	switch {
	case kind == "max" && m.better == HigherIsBetter:
		return fmt.Errorf("higher is better for %s, so its limit is a --min (how far it may fall), e.g. --min %s=-5%%", name, name)
	case kind == "min" && m.better == LowerIsBetter:
		return fmt.Errorf("lower is better for %s, so its limit is a --max (how far it may rise), e.g. --max %s=+10%%", name, name)
	case kind != "max" && kind != "min":
		return fmt.Errorf("kind %q, want max or min", kind)
	}
	i := slices.IndexFunc(p.Rules, func(r Rule) bool { return r.Metric == name })
	if value == "off" {
		if i >= 0 {
			p.Rules = slices.Delete(p.Rules, i, i+1)
		}
		return nil
	}
	limit, err := parseLimit(kind, value)
	if err != nil {
		return err
	}
	if i >= 0 {
		p.Rules[i].Limit = limit
	} else {
		p.Rules = append(p.Rules, Rule{Metric: name, Limit: limit})
	}
	return nil
}

var percent = regexp.MustCompile(`^([+-]?)([0-9]+(?:\.[0-9]+)?)%$`)

// parseLimit reads "+10%" (max) or "-5%" (min) as a signed fraction. The
// sign may be left out; the wrong sign is an error, since a --max of -5%
// would demand an improvement.
func parseLimit(kind, s string) (float64, error) {
	m := percent.FindStringSubmatch(s)
	if m == nil {
		if kind == "max" {
			return 0, fmt.Errorf("limit %q: want a percentage such as +10%% (or off)", s)
		}
		return 0, fmt.Errorf("limit %q: want a percentage such as -5%% (or off)", s)
	}
	v, err := strconv.ParseFloat(m[2], 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, fmt.Errorf("limit %q: %v", s, err)
	}
	v /= 100
	switch {
	case kind == "max" && m[1] == "-":
		return 0, fmt.Errorf("limit %q: a max limit is how far the metric may rise; want +N%%", s)
	case kind == "min" && m[1] == "+":
		return 0, fmt.Errorf("limit %q: a min limit is how far the metric may fall; want -N%%", s)
	case kind == "min" && v >= 1:
		return 0, fmt.Errorf("limit %q: a metric cannot fall by 100%% or more; want -N%% with N below 100", s)
	case kind == "max" && v > 100:
		return 0, fmt.Errorf("limit %q: over +10000%%, want a smaller limit (or off)", s)
	}
	if kind == "min" {
		v = -v
	}
	return v, nil
}

// ReadPolicy reads a policy file (see ParsePolicy).
func ReadPolicy(path string) (Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Policy{}, fmt.Errorf("compare: policy: %w", err)
	}
	return ParsePolicy(path, data)
}

// ParsePolicy reads a policy from YAML; name (the file's) prefixes every
// error with its line, name:line: …. A policy file replaces the default
// policy; unknown keys and metrics, repeated keys and bad limits are
// errors:
//
//	alpha: 0.05              # optional; 0 < alpha ≤ 0.2
//	max:                     # metrics where lower is better: how far each may rise
//	  rtt.p99: +10%
//	  proxy.cpu_us_per_msg: +10%
//	min:                     # metrics where higher is better: how far each may fall
//	  throughput.msgs_per_s: -5%
func ParsePolicy(name string, data []byte) (Policy, error) {
	p := Policy{Alpha: DefaultAlpha}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Policy{}, yamlError(name, err)
	}
	if len(doc.Content) == 0 {
		return Policy{}, fmt.Errorf("compare: policy %s: empty; want max: and min: sections", name)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return Policy{}, nodeError(name, root, "want a mapping with alpha, max and min, got %s", describe(root))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		if line, dup := seen[key.Value]; dup {
			return Policy{}, nodeError(name, key, "%q repeated (first at line %d)", key.Value, line)
		}
		seen[key.Value] = key.Line
		var err error
		switch key.Value {
		case "alpha":
			err = p.parseAlpha(name, val)
		case "max", "min":
			err = p.parseRules(name, key.Value, val)
		default:
			err = nodeError(name, key, "unknown key %q, want alpha, max or min", key.Value)
		}
		if err != nil {
			return Policy{}, err
		}
	}
	return p, nil
}

func (p *Policy) parseAlpha(name string, val *yaml.Node) error {
	a, err := strconv.ParseFloat(val.Value, 64)
	if val.Kind != yaml.ScalarNode || err != nil || !(a > 0 && a <= 0.2) {
		return nodeError(name, val, "alpha %q: want a number above 0 and at most 0.2 (e.g. 0.05)", val.Value)
	}
	p.Alpha = a
	return nil
}

func (p *Policy) parseRules(name, kind string, val *yaml.Node) error {
	if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
		return nil // an empty section
	}
	if val.Kind != yaml.MappingNode {
		return nodeError(name, val, "%s: want a mapping of metric: limit, got %s", kind, describe(val))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(val.Content); i += 2 {
		k, v := val.Content[i], val.Content[i+1]
		if line, dup := seen[k.Value]; dup {
			return nodeError(name, k, "%s: %q repeated (first at line %d)", kind, k.Value, line)
		}
		seen[k.Value] = k.Line
		if v.Kind != yaml.ScalarNode {
			return nodeError(name, v, "%s: %s: want a limit such as +10%%, got %s", kind, k.Value, describe(v))
		}
		if err := p.set(kind, k.Value, v.Value); err != nil {
			at := v
			if _, lerr := lookupMetric(k.Value); lerr != nil {
				at = k
			}
			return nodeError(name, at, "%s: %v", kind, err)
		}
	}
	return nil
}

func nodeError(name string, n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("compare: policy %s:%d: %s", name, n.Line, fmt.Sprintf(format, args...))
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError rewrites "yaml: line 3: …" as "name:3: …".
func yamlError(name string, err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("compare: policy %s:%s: %s", name, m[1], m[2])
	}
	return fmt.Errorf("compare: policy %s: %w", name, err)
}

// describe says what a policy file holds where it wanted something
// else: a scalar by its value, anything else by its kind.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return fmt.Sprintf("%q", n.Value)
	}
	return yamlnode.KindName(n.Kind)
}
