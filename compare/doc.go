// Package compare is wsbench's regression gate: it compares the results of
// a baseline (the base of a pull request) with a current run (its head),
// metric by metric, and says which moved beyond their limits for real, not
// by noise.
//
//	base, _ := compare.Load("runs/base")
//	head, _ := compare.Load("runs/head")
//	rep, err := compare.Compare(base, head, compare.DefaultPolicy())
//	if errors.Is(err, compare.ErrIncomparable) { /* different loads: exit 2 */ }
//	rep.Write(os.Stdout, compare.FormatMarkdown)
//	if !rep.Passed { /* exit 1 */ }
//
// # What is compared
//
// [Load] reads a `wsbench run` directory (run.json plus one directory per
// scenario × target × workload, with rep-<i> subdirectories when it ran
// repetitions), a `wsbench loadgen` directory, any tree of them, or one
// summary.json. Results are matched by their directory relative to the
// root, with the rep-<i> level grouping repetitions (so rep-1/rtt and
// rtt/rep-1 are both repetition 1 of "rtt"). A result that has
// repetitions but no merged summary is merged here, HDR histograms added
// exactly. run.json is optional; it adds each proxy's CPU and memory, from
// which proxy.cpu_us_per_msg and proxy.cpu_us_per_handshake come.
//
// Matched results must have run the same load: [Compare] refuses with
// [ErrIncomparable], naming the first differing parameter, unless only the
// url's host differs (every run starts its own servers) or a parameter
// that only says how the load was split over workers. Different hosts, runs
// interrupted, and results present on one side only are warnings.
//
// # Metrics and limits
//
// A [Policy] holds one [Rule] per metric: how far it may move the wrong way
// (rtt.p99 ≤ +20 %, throughput.msgs_per_s ≥ -5 %). Metrics are
// "<histogram>.<statistic>" (rtt.p99, handshake.p50, oneway.mean; every
// histogram of a result, statistics min, mean, p50, p90, p99, p999, p9999,
// max) and throughput.msgs_per_s, throughput.bytes_per_s,
// handshake.success_ratio, proxy.cpu_us_per_msg, proxy.cpu_us_per_handshake,
// proxy.mem_per_conn. [DefaultPolicy] is the gate without a policy file;
// [ParsePolicy] reads one, and [Policy.Set] applies a --max or --min flag.
// A percentile is only judged when the run holds ten values beyond it
// (p99: 1,000), else its row says "n/a" and why.
//
// # Noise
//
// A change is a regression only when it exceeds its limit and the samples
// show, at significance level α (0.05 by default), that the current values
// lie beyond the baseline's moved by the limit: for rtt.p99 ≤ +20 %, that
// current > 1.2 × baseline, one-sided Mann-Whitney U (package
// significance). The samples are the repetitions' values when both sides
// have three or more (wsbench run --count N, interleaved so drift hits
// both alike); otherwise each second of each run (percentiles from the
// interval logs, merged over a few seconds where one second holds too few
// values; msgs/s from the time series), with the variance of the test
// inflated for their autocorrelation. When the samples are too few for any
// outcome to be significant, the verdict rests on the limit alone and the
// row is marked so. docs/gating.md explains the choices.
//
// # Loadgen-bound results
//
// When either side's load generator fell behind its own schedule
// (results.Summary.LoadgenBound: schedule lag p99 or its busiest loop
// above their bounds, in the merged result or any repetition), a change
// in a load-phase metric would be wsbench's, not the code's: such rows get
// the verdict [LoadgenBound] instead of pass or regression, with the
// reason in the note and the figures' own verdict in WouldBe. Metrics
// timed while connections open (dns, connect, handshake, handshake_fail,
// handshake.success_ratio) are still judged.
//
// # Output
//
// [Report.Write] renders a terminal table, Markdown for a pull-request
// comment (outcome line, a ✅/❌/⚠️ table, everything else in a collapsed
// <details>), or JSON. A command exits 1 when a metric regressed;
// otherwise 2 when a gated metric was loadgen-bound (nothing to judge the
// code by), 0 when [Report.Passed]; and 2 for incomparable results or bad
// input.
package compare
