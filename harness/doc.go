// Package harness runs scenarios: it brings up a scenario's backends and
// targets on a stack (containers or local processes), drives every
// workload against every target with load-generator workers, merges their
// HDR results, measures what each proxy spent, checks the expectations and
// writes it all under one run directory:
//
//	runs/<run-id>/
//	  run.json                          every row below, with verdicts
//	  <scenario>/<target>/nginx.conf    the rendered configuration
//	  <scenario>/<target>/<workload>/   summary.json, *.hgrm, *.hlog, timeseries.csv, verdicts.json
//	  <scenario>/logs/                  output of services that failed
//
// It knows scenarios, the stack and the result files; it knows nothing of
// how load is generated (that is `wsbench loadgen`, run by the stack).
package harness
