package results

import "time"

// Usage is what a proxy under test spent over a row's measurement window:
// stack measures it, run.json records it (absent for direct targets), and
// the metrics proxy.* divide it by the row's work.
type Usage struct {
	CPU          time.Duration // user + system CPU time
	MemoryGrowth int64         // bytes: memory at the end of the window minus at its start
}
