package sysio

// Due is a deadline and its place in a TimerHeap. The value a heap orders
// holds its Due and sets At; the heap keeps the position, so moving or
// removing an entry costs O(log n) without a search. The zero Due is in no
// heap.
type Due struct {
	At  int64 // the deadline, on the owner's clock (monotonic ns, say)
	pos int32 // index in the heap + 1; 0: not in it
}

// Queued reports whether d is in a heap.
func (d *Due) Queued() bool { return d.pos != 0 }

// TimerHeap is a binary min-heap of values by their Due.At, for a loop
// that sleeps until its earliest deadline. Each entry keeps a copy of At,
// which the comparisons read from the heap's own array rather than from
// every value in turn, and a pointer to the Due, whose position it keeps
// up to date. One goroutine owns it.
type TimerHeap[T any] struct{ items []heapItem[T] }

type heapItem[T any] struct {
	at  int64 // due.At when it was Set
	due *Due
	v   T
}

// Len is the number of entries.
func (h *TimerHeap[T]) Len() int { return len(h.items) }

// Peek returns the value with the earliest deadline; ok is false when the
// heap is empty.
func (h *TimerHeap[T]) Peek() (v T, ok bool) {
	if len(h.items) == 0 {
		return v, false
	}
	return h.items[0].v, true
}

// Set queues v at d.At, or moves it there if d is queued already (after
// its At changed). d must be v's own Due.
func (h *TimerHeap[T]) Set(v T, d *Due) {
	if d.pos == 0 {
		h.items = append(h.items, heapItem[T]{d.At, d, v})
		d.pos = int32(len(h.items))
		h.up(len(h.items) - 1)
		return
	}
	i := int(d.pos) - 1
	h.items[i].at = d.At
	if !h.down(i) {
		h.up(i)
	}
}

// Remove takes d's value out of the heap; it does nothing if d is not in it.
func (h *TimerHeap[T]) Remove(d *Due) {
	if d.pos == 0 {
		return
	}
	i, last := int(d.pos)-1, len(h.items)-1
	if i != last {
		h.swap(i, last)
	}
	h.items[last] = heapItem[T]{} // drop the references for the collector
	h.items = h.items[:last]
	d.pos = 0
	if i != last && !h.down(i) {
		h.up(i)
	}
}

func (h *TimerHeap[T]) swap(i, j int) {
	it := h.items
	it[i], it[j] = it[j], it[i]
	it[i].due.pos, it[j].due.pos = int32(i+1), int32(j+1)
}

func (h *TimerHeap[T]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h.items[p].at <= h.items[i].at {
			return
		}
		h.swap(i, p)
		i = p
	}
}

// down sifts entry i towards the leaves; it reports whether it moved.
func (h *TimerHeap[T]) down(i int) bool {
	start, n := i, len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h.items[r].at < h.items[l].at {
			m = r
		}
		if h.items[i].at <= h.items[m].at {
			break
		}
		h.swap(i, m)
		i = m
	}
	return i > start
}
