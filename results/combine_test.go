package results

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCombineRepetitions(t *testing.T) {
	a, b := sampleRun(t), sampleRun(t)
	b.Summary.Start = b.Summary.Start.Add(time.Minute)
	b.Summary.End = b.Summary.End.Add(time.Minute)
	for _, ivs := range b.Intervals {
		for _, h := range ivs {
			h.SetStartTimeMs(h.StartTimeMs() + 60_000)
			h.SetEndTimeMs(h.EndTimeMs() + 60_000)
		}
	}
	c, err := Combine(a, b)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Summary
	if s.Params["conns"] != "50" || s.Params["rate"] != "10000" {
		t.Fatalf("params %v: repetitions must not add up their loads", s.Params)
	}
	if s.Messages.Received != 2*a.Summary.Messages.Received {
		t.Fatalf("received %d, want the sum %d", s.Messages.Received, 2*a.Summary.Messages.Received)
	}
	if want := a.Summary.Rates.MsgsRecvPerSec; s.Rates.MsgsRecvPerSec < want*0.99 || s.Rates.MsgsRecvPerSec > want*1.01 {
		t.Fatalf("rate %v, want the average %v", s.Rates.MsgsRecvPerSec, want)
	}
	for name, h := range c.Histograms {
		if h.TotalCount() != 2*a.Histograms[name].TotalCount() {
			t.Fatalf("%s: %d samples, want %d", name, h.TotalCount(), 2*a.Histograms[name].TotalCount())
		}
	}
	if !strings.Contains(strings.Join(s.Notes, ";"), "combined from 2 repetitions") {
		t.Fatalf("notes %v", s.Notes)
	}
	b.Summary.Params["rate"] = "5000"
	if _, err := Combine(a, b); err == nil {
		t.Fatal("repetitions with different parameters combined")
	}
}

// Repetitions that were each merged from workers keep both notes: how each
// repetition was made, and that they were combined.
func TestCombineKeepsWorkerNotes(t *testing.T) {
	rep := func(start time.Time) *Run {
		a := worker(t, start, "30", "6000", []int64{100, 200}, []int64{300})
		b := worker(t, start, "20", "4000", []int64{150}, []int64{5_000})
		m, err := Merge(a, b)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	c, err := Combine(rep(t0), rep(t0.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	notes := c.Summary.Notes
	for _, want := range []string{"merged from 2 load-generator runs", "combined from 2 repetitions"} {
		if !slices.Contains(notes, want) {
			t.Errorf("notes %q: want %q among them", notes, want)
		}
	}
}
