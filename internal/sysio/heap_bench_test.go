package sysio

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// session stands for what a loop's heap orders: loadgen's sessions are
// 168 bytes, so comparing deadlines through them touches one cache line
// per entry.
type session struct {
	due Due
	_   [152]byte
}

// BenchmarkTimerHeap: one op takes the entry due first and queues it again
// at a random later deadline, as a loop of n connections sending on timers
// does.
func BenchmarkTimerHeap(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var h TimerHeap[*session]
			r := rand.New(rand.NewPCG(1, 2))
			vs := make([]session, n)
			for i := range vs {
				vs[i].due.At = r.Int64N(int64(n))
				h.Set(&vs[i], &vs[i].due)
			}
			now := int64(0)
			for b.Loop() {
				v, _ := h.Peek()
				now = v.due.At
				h.Remove(&v.due)
				v.due.At = now + 1 + r.Int64N(int64(n))
				h.Set(v, &v.due)
			}
		})
	}
}
