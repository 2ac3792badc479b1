package scenarios

import (
	"math"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/driver"
)

// FuzzParseExpectation: the expectation parser never panics; what it
// accepts can be checked against any facts, and a rule rebuilt from its
// fields (String without the text) parses back to the same rule.
func FuzzParseExpectation(f *testing.F) {
	for _, s := range []string{
		"hold.median_drop == 5s ± 0.5s", "handshake.success_ratio >= 99.9%", "proxy.mem_per_conn < 17.8KiB",
		"throughput.bytes_per_s > 64MiB/s", "hello.X-Real-IP present", "failures.http_503 == 20", "rtt.p999 < 250ms",
		"handshake.status == 505", "proxy.cpu_us_per_msg < 46µs", "hold.dropped == 50 +- 2", "x", "== ==", "±±",
	} {
		f.Add(s)
	}
	full := facts()
	f.Fuzz(func(t *testing.T, text string) {
		e, err := ParseExpectation(text)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "scenarios: expectation ") {
				t.Fatalf("error without its prefix: %v", err)
			}
			return
		}
		for _, fx := range []Facts{full, {}, {Summary: full.Summary}} {
			v := e.Check(fx)
			if v.Pass && v.Reason != "" {
				t.Fatalf("passed with a reason: %+v", v)
			}
		}
		rebuilt := e
		rebuilt.Text = ""
		back, err := ParseExpectation(rebuilt.String())
		if err != nil {
			t.Fatalf("%q parsed, but its rebuilt form %q does not: %v", text, rebuilt.String(), err)
		}
		same := func(a, b float64) bool { return a == b || math.Abs(a-b) <= 0.5 } // sizes round to whole bytes
		if back.Metric != e.Metric || back.Op != e.Op || !same(back.Value, e.Value) || !same(back.Tol, e.Tol) {
			t.Fatalf("%q → %q → %+v, want %+v", text, rebuilt.String(), back, e)
		}
	})
}

// FuzzParse: Parse never panics on any input; what it accepts estimates,
// scales, checks its expectations, and renders every nginx target (load-time
// validation must leave nothing for a driver to refuse).
func FuzzParse(f *testing.F) {
	f.Add([]byte(validYAML))
	for _, name := range allBuiltins() {
		src, err := BuiltinSource(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("name: a\ntargets: [{name: n, kind: nginx, config: map, params: {balance: hash, hash_key: $arg_x}}]\nworkloads: [{name: w}]\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("name: a\n<<: {targets: []}\n"))
	full := facts()
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "scenarios: f.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		_ = s.Estimate()
		_ = s.Scaled(2)
		for _, w := range s.Workloads {
			for _, tg := range s.WorkloadTargets(w) {
				for _, e := range w.Expectations(tg.Name) {
					_ = e.Check(full)
				}
			}
		}
		for _, tg := range s.Targets {
			d, _ := driver.Lookup(tg.Kind)
			env := driver.Env{Upstreams: []string{"backend-1:9000"}, TLSCert: "/c.pem", TLSKey: "/k.pem"}
			if _, _, err := d.Service(tg.Driver(), env); err != nil {
				t.Fatalf("target %s validated but does not render: %v", tg.Name, err)
			}
		}
	})
}
