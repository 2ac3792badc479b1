package loadgen

// timerHeap is a min-heap of sessions by due time. Each session knows its
// index, so rescheduling is O(log n) without a search.
type timerHeap []*session

func (h *timerHeap) set(s *session) {
	switch {
	case s.due == 0 && s.heapIdx >= 0:
		h.remove(s)
	case s.due == 0:
	case s.heapIdx < 0:
		s.heapIdx = int32(len(*h))
		*h = append(*h, s)
		h.up(int(s.heapIdx))
	default:
		h.fix(int(s.heapIdx))
	}
}

func (h timerHeap) peek() *session {
	if len(h) == 0 {
		return nil
	}
	return h[0]
}

func (h *timerHeap) remove(s *session) {
	i := int(s.heapIdx)
	last := len(*h) - 1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last] = nil
	*h = (*h)[:last]
	s.heapIdx = -1
	if i != last {
		h.fix(i)
	}
}

func (h timerHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = int32(i), int32(j)
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p].due <= h[i].due {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h timerHeap) down(i int) bool {
	start := i
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && h[r].due < h[l].due {
			m = r
		}
		if h[i].due <= h[m].due {
			break
		}
		h.swap(i, m)
		i = m
	}
	return i > start
}
