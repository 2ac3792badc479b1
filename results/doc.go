// Package results writes and reads wsbench's result files: the model of a
// run and of a run directory. Package report renders them.
//
// A run directory, as [Run.Write] leaves it:
//
//	summary.json     the Summary (schema wsbench/result/v1): parameters, host, counts, stats
//	<metric>.hgrm    percentile distribution in milliseconds, the classic HdrHistogram text
//	                 format that the HdrHistogram plotter and hdr-plot read
//	<metric>.hlog    HdrHistogram interval log (format 1.3): one compressed histogram per
//	                 second, tagged with the metric name; the lossless source of truth
//	timeseries.csv   one row per second: open connections, messages, bytes, errors, p50/p99
//
// Latencies are recorded in microseconds in histograms made by
// [NewHistogram] (1 µs … 1 h, 3 significant digits). The .hlog files keep
// every count, so [Read] rebuilds each whole-run histogram exactly by merging
// its intervals, and [Merge] combines the runs of several load-generator
// workers without losing anything. The .hgrm and the stats in summary.json
// are derived views and are recomputed, never merged.
//
// Every reader (ReadSummary, ReadHGRM, ReadHlog, ReadTimeseries) reads what
// its writer produces (ReadHGRM and ReadHlog also read HdrHistogram's own
// Java and Go output), rejects anything else with an error that names the
// file or line, and never panics on hostile input; fuzz targets check that,
// and that whatever is accepted survives a write and a second read.
//
// Typical use by a load generator:
//
//	run := &results.Run{Summary: sum, Histograms: whole, Intervals: perSecond, Series: rows}
//	if err := run.Write("runs/20240101T000000Z"); err != nil { … }
//
// and by a reader:
//
//	run, err := results.Read("runs/20240101T000000Z")
//	report.Report(os.Stdout, &run.Summary)
//
// Whole run directories — a `wsbench run` with its run.json, or a tree of
// results grouped scenario/target/workload — become an Overview
// (LoadOverview): the targets of each workload side by side, with every
// expectation's verdict. report.WriteMarkdown and report.WriteHTML render it.
//
// Repetitions of one load combine with Combine; concurrent workers' shares
// of one load merge with Merge; both keep every sample.
package results
