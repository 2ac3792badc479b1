package testwait

import (
	"fmt"
	"testing"
	"time"
)

// recorder is a testing.TB that records a failure instead of failing.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
}

func TestPoll(t *testing.T) {
	tests := []struct {
		name     string
		holdsAt  int // the poll at which cond first holds; 0: never
		wantFail string
	}{
		{"holds at once", 1, ""},
		{"holds after a few polls", 4, ""},
		{"never holds", 0, "timed out after 50ms waiting for the thing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			polls := 0
			poll(r, "the thing", 50*time.Millisecond, func() bool {
				polls++
				return tt.holdsAt > 0 && polls >= tt.holdsAt
			})
			if r.failed != tt.wantFail {
				t.Errorf("failure %q, want %q", r.failed, tt.wantFail)
			}
			if tt.holdsAt > 0 && polls != tt.holdsAt {
				t.Errorf("polled %d times, want %d (stop as soon as it holds)", polls, tt.holdsAt)
			}
		})
	}
}
