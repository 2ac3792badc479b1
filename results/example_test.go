package results_test

import (
	"fmt"
	"os"

	"github.com/wsbench/wsbench/results"
)

// Summarize turns a histogram of microseconds into the stats summary.json
// carries. Values are HDR bucket edges: exact to 3 significant digits.
func ExampleSummarize() {
	h := results.NewHistogram()
	for _, us := range []int64{250, 300, 310, 320, 12_000} {
		h.RecordValue(us)
	}
	s := results.Summarize(h)
	fmt.Printf("count %d, min %d µs, p50 %d µs, p99 %d µs, max %d µs\n", s.Count, s.Min, s.P50, s.P99, s.Max)
	// Output:
	// count 5, min 250 µs, p50 310 µs, p99 12007 µs, max 12007 µs
}

// WriteHGRM prints the percentile distribution in milliseconds, in the
// format the HdrHistogram plotter reads. The last row, at 100%, has no
// 1/(1-Percentile) column.
func ExampleWriteHGRM() {
	h := results.NewHistogram()
	for _, us := range []int64{1_000, 2_000, 3_000, 4_000} {
		h.RecordValue(us)
	}
	results.WriteHGRM(os.Stdout, h)
	// Output:
	//        Value     Percentile TotalCount 1/(1-Percentile)
	//
	//        1.000 0.000000000000          1           1.00
	//        1.000 0.100000000000          1           1.11
	//        1.000 0.200000000000          1           1.25
	//        2.000 0.300000000000          2           1.43
	//        2.000 0.400000000000          2           1.67
	//        2.000 0.500000000000          2           2.00
	//        3.001 0.550000000000          3           2.22
	//        3.001 0.600000000000          3           2.50
	//        3.001 0.650000000000          3           2.86
	//        3.001 0.700000000000          3           3.33
	//        3.001 0.750000000000          3           4.00
	//        4.001 0.775000000000          4           4.44
	//        4.001 1.000000000000          4
	// #[Mean    =        2.501, StdDeviation   =        1.118]
	// #[Max     =        4.001, Total count    =            4]
	// #[Buckets =           22, SubBuckets     =         2048]
}
