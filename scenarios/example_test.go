package scenarios_test

import (
	"fmt"

	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/scenarios"
)

// An expectation is read once, in the metric's unit, and checked against
// each run's facts.
func ExampleParseExpectation() {
	e, err := scenarios.ParseExpectation("hold.median_drop == 5s ± 0.5s")
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Metric, e.Op, e.Value, e.Tol)

	_, err = scenarios.ParseExpectation("proxy.mem_per_conn < 5s")
	fmt.Println(err)
	// Output:
	// hold.median_drop == 5 0.5
	// scenarios: expectation "proxy.mem_per_conn < 5s": proxy.mem_per_conn is a size: value "5s": want e.g. 512, 16KiB, 2MB
}

func ExampleExpectation_Check() {
	run := &results.Summary{
		Connections: results.Connections{Attempted: 30, Opened: 10, Failed: 20},
		Failures:    map[string]int64{"http_503": 20},
	}
	facts := scenarios.Facts{Summary: run}
	for _, text := range []string{"connections.opened == 10", "handshake.status == 503", "handshake.success_ratio >= 0.99", "handshake.p99 < 100ms"} {
		e, _ := scenarios.ParseExpectation(text)
		fmt.Println(e.Check(facts))
	}
	// Output:
	// PASS connections.opened == 10 (got 10)
	// PASS handshake.status == 503 (got 503)
	// FAIL handshake.success_ratio >= 0.99 (got 0.3333)
	// FAIL handshake.p99 < 100ms (no handshake samples)
}

// A typo is reported with the file, the line and the key.
func ExampleParse() {
	_, err := scenarios.Parse("hold.yaml", []byte(`name: hold
targets:
  - {name: nginx, kind: nginx, config: map, params: {read_timeout: 5s}}
workloads:
  - name: silent
    load:
      workload: hold
      duraton: 6s
`))
	fmt.Println(err)
	// Output:
	// scenarios: hold.yaml:8: workloads[0].load.duraton: unknown key (did you mean duration?)
}
