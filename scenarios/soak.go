package scenarios

import (
	"fmt"
	"strings"

	"github.com/wsbench/wsbench/results"
)

// A soak holds connections for a long time, with churn, and asks whether
// anything grows: the proxy's and the load generator's resident memory,
// open descriptors and goroutines, sampled once a second. The growth of a
// series is the median of its last quarter over the median of its second
// quarter, over the seconds in which the connections were held
// (results.ResourceTrends): 1 is flat. One expectation covers every
// series: soak.growth_ratio is the largest.

func init() {
	def("soak.growth_ratio", kindRatio, "largest growth of any resource series (proxy and load generator: resident memory, open descriptors, goroutines): median of the last quarter of the held seconds over the median of the second quarter; 1 = flat", soakGrowthRatio)
}

// soakGrowthRatio is the largest growth among the series measured.
func soakGrowthRatio(f Facts) (float64, string) {
	trends := results.ResourceTrends(f.Series, f.ProxySeries)
	if len(trends) == 0 {
		return 0, "no resource series recorded (a time series without resource columns)"
	}
	best := 0.0
	var why []string
	for _, tr := range trends {
		if tr.Growth == 0 {
			why = append(why, fmt.Sprintf("%s %s: %s", tr.Process, tr.Resource, tr.Why))
			continue
		}
		best = max(best, tr.Growth)
	}
	if len(why) > 0 {
		// A series that cannot be judged must not pass unseen.
		return 0, strings.Join(why, "; ")
	}
	return best, ""
}

// soakGrowth is one series' growth.
func soakGrowth(process, resource string) valueFunc {
	return func(f Facts) (float64, string) {
		for _, tr := range results.ResourceTrends(f.Series, f.ProxySeries) {
			if tr.Process != process || tr.Resource != resource {
				continue
			}
			if tr.Growth == 0 {
				return 0, tr.Why
			}
			return tr.Growth, ""
		}
		if process == results.ProcessProxy {
			return 0, fmt.Sprintf("no proxy %s samples (direct target, or a proxy without an admin endpoint)", resource)
		}
		return 0, fmt.Sprintf("no load generator %s in the time series", resource)
	}
}
