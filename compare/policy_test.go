package compare

import (
	"strings"
	"testing"

	"github.com/wsbench/wsbench/units"
)

func TestPolicySet(t *testing.T) {
	for _, tc := range []struct {
		kind, spec string
		want       *Rule  // the rule after Set; nil when removed
		err        string // "" when it must succeed
	}{
		{"max", "rtt.p99=+10%", &Rule{"rtt.p99", 0.10}, ""},
		{"max", "rtt.p99=10%", &Rule{"rtt.p99", 0.10}, ""},
		{"max", "rtt.p999=+2.5%", &Rule{"rtt.p999", 0.025}, ""},
		{"max", " handshake.p99 = +15% ", &Rule{"handshake.p99", 0.15}, ""},
		{"min", "throughput.msgs_per_s=-5%", &Rule{"throughput.msgs_per_s", -0.05}, ""},
		{"min", "throughput.msgs_per_s=5%", &Rule{"throughput.msgs_per_s", -0.05}, ""},
		{"max", "proxy.cpu_us_per_msg=+10%", &Rule{"proxy.cpu_us_per_msg", 0.10}, ""},
		{"max", "rtt.p50=off", nil, ""},
		{"max", "rtt.p99", nil, `want METRIC=LIMIT, e.g. --max rtt.p99=+10%`},
		{"max", "rtt.p99=-5%", nil, "a max limit is how far the metric may rise"},
		{"min", "throughput.msgs_per_s=+5%", nil, "a min limit is how far the metric may fall"},
		{"min", "throughput.msgs_per_s=-100%", nil, "cannot fall by 100%"},
		{"max", "rtt.p99=10", nil, `limit "10": want a percentage such as +10%`},
		{"max", "rtt.p99=+1e3%", nil, `want a percentage`},
		{"max", "rtt.p99=NaN%", nil, `want a percentage`},
		{"max", "throughput.msgs_per_s=+5%", nil, "higher is better for throughput.msgs_per_s, so its limit is a --min"},
		{"min", "rtt.p99=-5%", nil, "lower is better for rtt.p99, so its limit is a --max"},
		{"max", "rtt.p98=+5%", nil, `statistic "p98", want one of min, mean, p50`},
		{"max", "rttt.p99=+5%", nil, `unknown metric "rttt.p99"`},
		{"max", "latency=+5%", nil, `unknown metric "latency"`},
	} {
		t.Run(tc.kind+" "+tc.spec, func(t *testing.T) {
			p := DefaultPolicy()
			err := p.Set(tc.kind, tc.spec)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "--"+tc.kind+" ") {
					t.Fatalf("error %v, want one starting --%s and saying %q", err, tc.kind, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimSpace(strings.Split(tc.spec, "=")[0])
			got := ruleOf(p, name)
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Fatalf("rule %v, want %v", got, tc.want)
			}
		})
	}
}

func ruleOf(p Policy, metric string) *Rule {
	for _, r := range p.Rules {
		if r.Metric == metric {
			return &r
		}
	}
	return nil
}

// Every default rule names a real metric with a limit of the right sign.
func TestDefaultPolicyIsValid(t *testing.T) {
	p := DefaultPolicy()
	for _, r := range p.Rules {
		m, err := lookupMetric(r.Metric)
		if err != nil {
			t.Fatal(err)
		}
		if (m.better == LowerIsBetter) != (r.Limit > 0) {
			t.Errorf("%s: limit %v has the wrong sign", r, r.Limit)
		}
	}
	if p.Alpha != 0.05 {
		t.Errorf("alpha %v", p.Alpha)
	}
}

func TestParsePolicy(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       Policy
		err        string
	}{
		{"full", "alpha: 0.01\nmax:\n  rtt.p99: +10%\n  proxy.cpu_us_per_msg: +5%\nmin:\n  throughput.msgs_per_s: -5%\n",
			Policy{0.01, []Rule{{"rtt.p99", 0.1}, {"proxy.cpu_us_per_msg", 0.05}, {"throughput.msgs_per_s", -0.05}}}, ""},
		{"default alpha", "max:\n  rtt.p50: +10%\n", Policy{0.05, []Rule{{"rtt.p50", 0.1}}}, ""},
		{"empty section", "max:\nmin:\n  throughput.msgs_per_s: -5%\n", Policy{0.05, []Rule{{"throughput.msgs_per_s", -0.05}}}, ""},
		{"comments", "# gate\nmax: # latencies\n  rtt.p50: +10% # typical\n", Policy{0.05, []Rule{{"rtt.p50", 0.1}}}, ""},
		{"empty file", "", Policy{}, "gate.yaml: empty"},
		{"unknown key", "max:\n  rtt.p50: +10%\nmaximum:\n  rtt.p99: +5%\n", Policy{}, `gate.yaml:3: unknown key "maximum"`},
		{"unknown metric", "max:\n  rtt.p50: +10%\n  rtt.p98: +10%\n", Policy{}, `gate.yaml:3: max: unknown metric "rtt.p98"`},
		{"bad limit", "max:\n  rtt.p50: fast\n", Policy{}, `gate.yaml:2: max: limit "fast"`},
		{"wrong kind", "min:\n  rtt.p50: -10%\n", Policy{}, `gate.yaml:2: min: lower is better for rtt.p50`},
		{"repeated metric", "max:\n  rtt.p50: +10%\n  rtt.p50: +20%\n", Policy{}, `gate.yaml:3: max: "rtt.p50" repeated (first at line 2)`},
		{"repeated section", "max:\n  rtt.p50: +10%\nmax:\n  rtt.p99: +20%\n", Policy{}, `gate.yaml:3: "max" repeated (first at line 1)`},
		{"alpha range", "alpha: 0.5\n", Policy{}, `gate.yaml:1: alpha "0.5": want a number above 0 and at most 0.2`},
		{"alpha text", "alpha: low\n", Policy{}, `gate.yaml:1: alpha "low"`},
		{"list", "- rtt.p50\n", Policy{}, "gate.yaml:1: want a mapping with alpha, max and min, got a list"},
		{"limit list", "max:\n  rtt.p50: [1, 2]\n", Policy{}, "gate.yaml:2: max: rtt.p50: want a limit such as +10%, got a list"},
		{"syntax", "max:\n  rtt.p50: +10%\n bad: [\n", Policy{}, "gate.yaml:2: did not find expected key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePolicy("gate.yaml", []byte(tc.yaml))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Alpha != tc.want.Alpha || len(p.Rules) != len(tc.want.Rules) {
				t.Fatalf("policy %+v, want %+v", p, tc.want)
			}
			for i := range p.Rules {
				if p.Rules[i] != tc.want.Rules[i] {
					t.Fatalf("policy %+v, want %+v", p, tc.want)
				}
			}
		})
	}
}

// FuzzParsePolicy: never panics; what parses has valid rules and
// survives Set with its own rules.
func FuzzParsePolicy(f *testing.F) {
	f.Add("alpha: 0.05\nmax:\n  rtt.p99: +10%\nmin:\n  throughput.msgs_per_s: -5%\n")
	f.Add("max: {rtt.p50: off}\n")
	f.Add("- a\n")
	f.Fuzz(func(t *testing.T, src string) {
		p, err := ParsePolicy("f.yaml", []byte(src))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "compare: policy f.yaml") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		if !(p.Alpha > 0 && p.Alpha <= 0.2) {
			t.Fatalf("alpha %v accepted", p.Alpha)
		}
		for _, r := range p.Rules {
			if _, err := lookupMetric(r.Metric); err != nil {
				t.Fatalf("rule %v accepted: %v", r, err)
			}
		}
	})
}

// FuzzPolicySet: never panics; an accepted limit reads back the same.
func FuzzPolicySet(f *testing.F) {
	f.Add("max", "rtt.p99=+10%")
	f.Add("min", "throughput.msgs_per_s=-5%")
	f.Add("max", "x=")
	f.Fuzz(func(t *testing.T, kind, spec string) {
		var p Policy
		if err := p.Set(kind, spec); err != nil {
			return
		}
		for _, r := range p.Rules {
			m, err := lookupMetric(r.Metric)
			if err != nil {
				t.Fatalf("rule %v accepted: %v", r, err)
			}
			if m.better == LowerIsBetter && r.Limit < 0 || m.better == HigherIsBetter && r.Limit > 0 {
				t.Fatalf("rule %v: limit of the wrong sign accepted", r)
			}
			q := Policy{}
			if err := q.Set(kind, r.Metric+"="+strings.TrimPrefix(units.Change(r.Limit), "+")); err != nil {
				t.Fatalf("rule %v does not read back: %v", r, err)
			}
		}
	})
}
