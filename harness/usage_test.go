package harness

import (
	"testing"
	"time"

	"github.com/wsbench/wsbench/results"
)

// TestSumUsage: repetitions' CPU and memory growth add up, as their
// messages and connections do in the combined result, so memory per
// connection over the combination is the repetitions' own.
func TestSumUsage(t *testing.T) {
	reps := []rep{
		{usage: &results.Usage{CPU: time.Second, MemoryGrowth: 100 << 10}},
		{usage: &results.Usage{CPU: 2 * time.Second, MemoryGrowth: 300 << 10}},
	}
	u := sumUsage(reps)
	if u == nil || u.CPU != 3*time.Second || u.MemoryGrowth != 400<<10 {
		t.Fatalf("sumUsage = %+v, want 3s CPU and 400 KiB growth", u)
	}
	if u := sumUsage(append(reps, rep{})); u != nil {
		t.Fatalf("a repetition without usage: %+v, want nil (no pooled figure)", u)
	}
	if u := sumUsage(nil); u != nil {
		t.Fatalf("no repetitions: %+v, want nil", u)
	}
}
