package sysio

import (
	"math/rand/v2"
	"slices"
	"testing"
)

type timed struct {
	name string
	due  Due
}

// drain pops every entry, checking each left its Due unqueued.
func drain(t *testing.T, h *TimerHeap[*timed]) []string {
	t.Helper()
	var got []string
	for {
		v, ok := h.Peek()
		if !ok {
			break
		}
		h.Remove(&v.due)
		if v.due.Queued() {
			t.Fatalf("%s still queued after Remove", v.name)
		}
		got = append(got, v.name)
	}
	if h.Len() != 0 {
		t.Fatalf("%d entries left after draining", h.Len())
	}
	return got
}

func TestTimerHeap(t *testing.T) {
	type op struct {
		name   string
		at     int64 // Set at this deadline, unless remove
		remove bool
	}
	tests := []struct {
		name string
		ops  []op
		want []string
	}{
		{"orders by deadline", []op{{name: "c", at: 3}, {name: "a", at: 1}, {name: "b", at: 2}}, []string{"a", "b", "c"}},
		{"moves an entry earlier", []op{{name: "a", at: 1}, {name: "b", at: 2}, {name: "c", at: 3}, {name: "c", at: 0}}, []string{"c", "a", "b"}},
		{"moves an entry later", []op{{name: "a", at: 1}, {name: "b", at: 2}, {name: "c", at: 3}, {name: "a", at: 9}}, []string{"b", "c", "a"}},
		{"removes the earliest", []op{{name: "a", at: 1}, {name: "b", at: 2}, {name: "c", at: 3}, {name: "a", remove: true}}, []string{"b", "c"}},
		{"removes the last slot", []op{{name: "a", at: 1}, {name: "b", at: 2}, {name: "b", remove: true}}, []string{"a"}},
		{"removes from the middle", []op{{name: "a", at: 1}, {name: "b", at: 5}, {name: "c", at: 2}, {name: "d", at: 6}, {name: "e", at: 3}, {name: "b", remove: true}}, []string{"a", "c", "e", "d"}},
		{"removing an absent entry does nothing", []op{{name: "a", at: 1}, {name: "b", remove: true}}, []string{"a"}},
		{"set again keeps one entry", []op{{name: "a", at: 1}, {name: "a", at: 1}, {name: "a", at: 2}}, []string{"a"}},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h TimerHeap[*timed]
			items := map[string]*timed{}
			for _, o := range tt.ops {
				v := items[o.name]
				if v == nil {
					v = &timed{name: o.name}
					items[o.name] = v
				}
				if o.remove {
					h.Remove(&v.due)
					continue
				}
				v.due.At = o.at
				h.Set(v, &v.due)
			}
			if got := drain(t, &h); !slices.Equal(got, tt.want) {
				t.Errorf("popped %v, want %v", got, tt.want)
			}
		})
	}
}

// Random deadlines, moved and removed at random, pop in order.
func TestTimerHeapRandom(t *testing.T) {
	var h TimerHeap[*timed]
	r := rand.New(rand.NewPCG(1, 2))
	vs := make([]*timed, 200)
	for i := range vs {
		vs[i] = &timed{due: Due{At: r.Int64N(1000)}}
		h.Set(vs[i], &vs[i].due)
	}
	for i := 0; i < len(vs); i += 3 {
		vs[i].due.At = r.Int64N(1000)
		h.Set(vs[i], &vs[i].due)
	}
	removed := map[*timed]bool{}
	for i := 1; i < len(vs); i += 7 {
		h.Remove(&vs[i].due)
		removed[vs[i]] = true
	}
	var want []int64
	for _, v := range vs {
		if !removed[v] {
			want = append(want, v.due.At)
		}
	}
	slices.Sort(want)
	for i, w := range want {
		v, ok := h.Peek()
		if !ok || v.due.At != w {
			t.Fatalf("pop %d: got %+v, want due %d", i, v, w)
		}
		h.Remove(&v.due)
	}
	if h.Len() != 0 {
		t.Fatalf("%d entries left", h.Len())
	}
}
