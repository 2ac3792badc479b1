// Package scenarios defines what wsbench runs: scenario files (YAML,
// strictly decoded), the built-in scenarios embedded in the binary, and
// the expectations that turn results into pass/fail. A target's
// kind-specific fields (config, params, args) are checked by its kind's
// driver (package driver). It knows nothing of how containers start: the stack and
// the harness read a Scenario and bring it to life.
//
// # A scenario file
//
//	name: hold
//	description: Does a 5 s proxy_read_timeout drop idle connections?
//	backends: {count: 1}            # echo backends backend-1 … backend-N
//	targets:
//	  - name: nginx
//	    kind: nginx                 # direct | refproxy | nginx | haproxy (driver.Kinds)
//	    config: map                 # plain (S1) | upgrade (S2) | map (S3)
//	    params: {read_timeout: 5s}  # see driver.NginxParams, driver.HaproxyParams
//	  - name: refproxy
//	    kind: refproxy
//	    args: [--read-timeout, 5s]  # wsbench proxy flags; the stack adds --listen/--upstream
//	workloads:
//	  - name: silent
//	    load: {workload: hold, conns: 50, duration: 6s}
//	    expect:
//	      "*":                      # every target of the workload; or a target's name
//	        - hold.median_drop == 5s ± 0.5s
//	        - hold.survivors_ratio == 0
//
// Decoding is strict: an unknown key, a duplicate key, a value that does
// not parse (units such as 64KiB, 10k, 500ms are the units package's), a
// reference to a target or backend that does not exist, an unknown metric
// or a unit that does not fit it is an error naming the file, the line and
// the key path:
//
//	scenarios: hold.yaml:12: workloads[0].load.duraton: unknown key (did you mean duration?)
//
// Every problem in a file is reported at once (*Error values, joined).
//
// # Expectations
//
// An expectation is "metric op value [± tol]" with op one of < <= == != >=
// >, or "metric present|absent" for hello.<Header>. Values carry the
// metric's unit (5s, 46µs, 2KiB, 10k, 99.9%, 64MiB/s); Metrics lists every
// metric with its unit. Check evaluates one against the Facts of a run: a
// metric that cannot be computed (no samples, no proxy measured) fails with
// the reason, never passes by default.
//
// # Built-ins and their budget
//
// BuiltinNames lists the six built-in scenarios in the order `wsbench run`
// runs them; BuiltinOnRequest the ones it runs only when named: calibrate,
// which checks wsbench against known delays and a known drop (about 25 s),
// and soak, which holds connections with churn and watches for growth. Together they are budgeted to under 5 minutes of loads and
// process starts on a 2-core machine by Scenario.Estimate (a test holds the
// sum to it), leaving a minute for image builds within the 6 minutes `make
// bench` may take. The estimate is pessimistic: the whole suite ran in about
// 3 minutes on the local runtime. Scaled lengthens every load.
package scenarios
