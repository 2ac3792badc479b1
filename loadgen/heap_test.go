package loadgen

import (
	"math/rand/v2"
	"sort"
	"testing"
)

func TestTimerHeapOrdersAndReschedules(t *testing.T) {
	var h timerHeap
	r := rand.New(rand.NewPCG(1, 2))
	ss := make([]*session, 200)
	for i := range ss {
		ss[i] = &session{heapIdx: -1, due: 1 + r.Int64N(1000)}
		h.set(ss[i])
	}
	// Reschedule some, cancel some.
	for i := 0; i < 200; i += 3 {
		ss[i].due = 1 + r.Int64N(1000)
		h.set(ss[i])
	}
	for i := 1; i < 200; i += 7 {
		ss[i].due = 0
		h.set(ss[i])
	}
	var want []int64
	for _, s := range ss {
		if s.due != 0 {
			want = append(want, s.due)
		}
	}
	sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
	for i, w := range want {
		s := h.peek()
		if s == nil || s.due != w {
			t.Fatalf("pop %d: got %v, want due %d", i, s, w)
		}
		h.remove(s)
		if s.heapIdx != -1 {
			t.Fatalf("removed session keeps index %d", s.heapIdx)
		}
	}
	if h.peek() != nil {
		t.Fatalf("heap not empty: %d left", len(h))
	}
}
