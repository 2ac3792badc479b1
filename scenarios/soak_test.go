package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/results"
)

// heldSeries is 40 s of 1,000 held connections; proxyRSS gives the
// proxy's memory in second i, loadgenFDs the load generator's descriptors.
func heldSeries(proxyRSS func(i int) int64, loadgenFDs func(i int) int64) ([]results.Interval, []results.ResourceSample) {
	var series []results.Interval
	var proxy []results.ResourceSample
	for i := range 40 {
		series = append(series, results.Interval{T: float64(i + 1), Open: 1000,
			Resources: results.Resources{RSS: 30 << 20, FDs: loadgenFDs(i), Goroutines: 9}})
		proxy = append(proxy, results.ResourceSample{T: float64(i) + 0.5,
			Resources: results.Resources{RSS: proxyRSS(i), FDs: 2004, Goroutines: 7}})
	}
	return series, proxy
}

func TestSoakGrowthExpectation(t *testing.T) {
	flat := func(int) int64 { return 20 << 20 }
	flatFDs := func(int) int64 { return 1010 }
	cases := []struct {
		name       string
		expect     string
		rss, fds   func(int) int64
		noProxy    bool
		pass       bool
		got        string
		reasonHas  string
		shortRunTo int // keep only this many seconds (0: all)
	}{
		{name: "flat", expect: "soak.growth_ratio < 1.1", rss: flat, fds: flatFDs, pass: true, got: "1"},
		// 512 KiB a second on 20 MiB: the last quarter is ~1.37× the second.
		{name: "proxy memory growing", expect: "soak.growth_ratio < 1.1", rss: func(i int) int64 { return 20<<20 + int64(i)<<19 }, fds: flatFDs, got: "1.367"},
		{name: "load generator leaking descriptors", expect: "soak.growth_ratio < 1.1", rss: flat, fds: func(i int) int64 { return 1010 + 30*int64(i) }, got: "1.415"},
		{name: "one series", expect: "soak.proxy.rss < 1.1", rss: func(i int) int64 { return 20<<20 + int64(i)<<19 }, fds: flatFDs, got: "1.367"},
		{name: "the flat one of them", expect: "soak.proxy.fds == 1", rss: func(i int) int64 { return 20<<20 + int64(i)<<19 }, fds: flatFDs, pass: true, got: "1"},
		{name: "direct: no proxy series", expect: "soak.proxy.rss < 1.1", rss: flat, fds: flatFDs, noProxy: true, reasonHas: "no proxy rss samples"},
		{name: "direct: the load generator's", expect: "soak.growth_ratio < 1.1", rss: flat, fds: flatFDs, noProxy: true, pass: true, got: "1"},
		{name: "too short to judge", expect: "soak.growth_ratio < 1.1", rss: flat, fds: flatFDs, shortRunTo: 6, reasonHas: "6 samples while the connections were held, want at least 8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := ParseExpectation(c.expect)
			if err != nil {
				t.Fatal(err)
			}
			series, proxy := heldSeries(c.rss, c.fds)
			if c.noProxy {
				proxy = nil
			}
			if c.shortRunTo > 0 {
				series, proxy = series[:c.shortRunTo], proxy[:c.shortRunTo]
			}
			v := e.Check(Facts{Summary: &results.Summary{Start: time.Now()}, Series: series, ProxySeries: proxy})
			if v.Pass != c.pass || !strings.HasPrefix(v.Got, c.got) || !strings.Contains(v.Reason, c.reasonHas) {
				t.Errorf("%s: pass %v got %q reason %q; want pass %v got %q… reason with %q", c.expect, v.Pass, v.Got, v.Reason, c.pass, c.got, c.reasonHas)
			}
		})
	}
}

func TestSoakMetricNames(t *testing.T) {
	for _, bad := range []string{"soak.nginx.rss", "soak.proxy.cpu", "soak.proxy", "soak.growth"} {
		if _, err := ParseExpectation(bad + " < 1.1"); err == nil || !strings.Contains(err.Error(), "soak.<proxy|loadgen>.<rss|fds|goroutines>") {
			t.Errorf("%s: %v, want an error naming the soak metrics", bad, err)
		}
	}
}

// churn goes with hold only, and must not be negative; a hold takes it.
func TestChurnValidated(t *testing.T) {
	cases := []struct{ name, load, want string }{
		{"hold", "{workload: hold, conns: 10, churn: 5}", ""},
		{"rtt", "{workload: rtt, conns: 10, churn: 5}", "t.yaml:7: workloads[0].load.churn: applies to the hold workload only, this one is rtt"},
		{"negative", "{workload: hold, conns: 10, churn: -5}", "t.yaml:7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "name: t\ntargets:\n  - {name: p, kind: refproxy}\nworkloads:\n  - name: w\n    expect: {\"*\": [failures.total == 0]}\n    load: " + c.load + "\n"
			s, err := Parse("t.yaml", []byte(src))
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case c.want == "" && float64(s.Workloads[0].Load.Churn) != 5:
				t.Errorf("churn %v, want 5", s.Workloads[0].Load.Churn)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("Parse error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestWatchesResources(t *testing.T) {
	tests := []struct {
		name string
		w    Workload
		want bool
	}{
		{"plain rtt", Workload{Load: Load{Workload: "rtt"}}, false},
		{"churn", Workload{Load: Load{Workload: "hold", Churn: 10}}, true},
		{"soak expectation", Workload{Expect: map[string][]Expectation{"refproxy": {{Metric: "soak.proxy.rss"}}}}, true},
		{"other expectation", Workload{Expect: map[string][]Expectation{Wildcard: {{Metric: "rtt.p99"}}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.w.WatchesResources(); got != tt.want {
				t.Errorf("WatchesResources = %v, want %v", got, tt.want)
			}
		})
	}
}
