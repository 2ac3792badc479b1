// Package report renders wsbench's results for people: the text report
// of one run (Report), and report.md and report.html of a whole run
// directory (WriteMarkdown, WriteHTML of a results.Overview).
//
// report.html puts the targets of each workload side by side, every
// expectation's verdict, and inline SVG charts (latency by percentile on
// the HdrHistogram axis, throughput and p99 over time, hold survival,
// balance, ramp against its SLO). It is self-contained: it opens from disk
// with nothing fetched.
package report
