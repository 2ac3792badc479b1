package results

import (
	"bytes"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// latencies returns a deterministic, skewed sample in microseconds: a body
// around 100–1,100 µs, a slow tail at 50 ms and one 2 s outlier.
func latencies() []int64 {
	var v []int64
	for i := int64(0); i < 10_000; i++ {
		v = append(v, 100+(i*7919)%1000)
	}
	for i := int64(0); i < 100; i++ {
		v = append(v, 50_000+i*13)
	}
	return append(v, 2_000_000)
}

func histOf(t testing.TB, values ...int64) *hdrhistogram.Histogram {
	t.Helper()
	h := NewHistogram()
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func packedOf(t testing.TB, startMs, endMs int64, values ...int64) *hdrhistogram.PackedHistogram {
	t.Helper()
	p := hdrhistogram.NewPacked(LowestUS, HighestUS, SigFigs)
	for _, v := range values {
		if err := p.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	p.SetStartTimeMs(startMs)
	p.SetEndTimeMs(endMs)
	return p
}

// samePacked reports whether two interval histograms hold the same counts,
// geometry, times and tag. Equal data encodes to the same bytes.
func samePacked(t *testing.T, got, want *hdrhistogram.PackedHistogram) bool {
	t.Helper()
	g, err := got.Encode()
	if err != nil {
		t.Fatal(err)
	}
	w, err := want.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(g, w) && got.StartTimeMs() == want.StartTimeMs() &&
		got.EndTimeMs() == want.EndTimeMs() && got.Tag() == want.Tag()
}
