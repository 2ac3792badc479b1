package loadgen

import (
	"github.com/wsbench/wsbench/results"
)

// selfUsage is a reading of this process's CPU time and memory.
type selfUsage struct {
	userNS, sysNS int64
	rss           int64
}

// selfReport turns two readings into the summary's Self: CPU over the
// load phase, memory at its end.
func selfReport(a, b selfUsage, msgs, open int64) *results.Self {
	s := &results.Self{
		CPUUserSec: float64(b.userNS-a.userNS) / 1e9,
		CPUSysSec:  float64(b.sysNS-a.sysNS) / 1e9,
		RSSBytes:   b.rss,
	}
	if msgs > 0 {
		s.CPUPerMsgUS = (s.CPUUserSec + s.CPUSysSec) * 1e6 / float64(msgs)
	}
	if open > 0 {
		s.RSSPerConnBytes = float64(b.rss) / float64(open)
	}
	return s
}
