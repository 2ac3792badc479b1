// Package metrics is wsbench's one vocabulary of result figures: every
// metric an expectation (scenarios), the regression gate (compare) and the
// tables (harness) name, with its unit, which way it improves, what it
// means, and how it is read from a results.Summary and the proxy's
// results.Usage. Adding a metric is one entry in this package.
//
// A metric that does not apply to a result (no samples, no proxy, a
// workload that does not do what it counts) has no value: Value returns
// the reason instead, and callers show it ("not applicable") rather than
// falling back to another figure.
package metrics
