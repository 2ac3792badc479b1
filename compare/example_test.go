package compare_test

import (
	"fmt"

	"github.com/wsbench/wsbench/compare"
)

// The default policy, tightened and trimmed by flags as `wsbench compare
// --max rtt.p99=+10% --max oneway.p99=off` does.
func ExamplePolicy_Set() {
	p := compare.DefaultPolicy()
	for _, spec := range []string{"rtt.p99=+10%", "oneway.p99=off", "oneway.p50=off"} {
		if err := p.Set("max", spec); err != nil {
			fmt.Println(err)
		}
	}
	fmt.Println(p.Set("max", "throughput.msgs_per_s=+5%"))
	for _, r := range p.Rules[:3] {
		fmt.Println(r)
	}
	// Output:
	// --max throughput.msgs_per_s=+5%: higher is better for throughput.msgs_per_s, so its limit is a --min (how far it may fall), e.g. --min throughput.msgs_per_s=-5%
	// rtt.p50 ≤ +10%
	// rtt.p99 ≤ +10%
	// handshake.p50 ≤ +15%
}

// A policy file names its errors by line.
func ExampleParsePolicy() {
	p, err := compare.ParsePolicy("gate.yaml", []byte("alpha: 0.01\nmax:\n  rtt.p99: +15%\nmin:\n  throughput.msgs_per_s: -5%\n"))
	fmt.Println(p.Alpha, p.Rules, err)
	_, err = compare.ParsePolicy("gate.yaml", []byte("max:\n  rtt.p99: +15%\n  rtt.p95: +15%\n"))
	fmt.Println(err)
	// Output:
	// 0.01 [rtt.p99 ≤ +15% throughput.msgs_per_s ≥ -5%] <nil>
	// compare: policy gate.yaml:3: max: unknown metric "rtt.p95": statistic "p95", want one of min, mean, p50, p90, p99, p999, p9999, max
}
