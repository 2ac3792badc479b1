package results

import (
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGrowthRatio(t *testing.T) {
	ramp := func(n int, from, step float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = from + step*float64(i)
		}
		return v
	}
	cases := []struct {
		name   string
		values []float64
		slack  float64
		want   float64 // 0: not computable
	}{
		{"flat", ramp(40, 100, 0), 0, 1},
		{"leaking 1% a sample", ramp(40, 100, 1), 0, 134.5 / 114.5},
		{"shrinking", ramp(40, 100, -1), 0, 65.5 / 85.5},
		// A GC spike and a dip in each quarter: the medians do not move.
		{"flat with spikes", []float64{100, 100, 500, 100, 100, 100, 100, 300, 100, 100, 20, 100, 100, 100, 100, 900}, 0, 1},
		// A warm-up in the first quarter is left out.
		{"warm-up only", append(ramp(10, 10, 9), ramp(30, 100, 0)...), 0, 1},
		{"count within the slack", append(slices.Repeat([]float64{10}, 20), slices.Repeat([]float64{11}, 20)...), 2, 1},
		{"count beyond the slack", append(slices.Repeat([]float64{10}, 20), slices.Repeat([]float64{13}, 20)...), 2, 1.3},
		{"too few", ramp(MinSteadySamples-1, 100, 0), 0, 0},
		{"nothing early", append(slices.Repeat([]float64{0}, 20), slices.Repeat([]float64{5}, 20)...), 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := GrowthRatio(c.values, c.slack)
			if ok != (c.want != 0) || math.Abs(got-c.want) > 1e-9 {
				t.Errorf("GrowthRatio = %v, %v; want %v", got, ok, c.want)
			}
		})
	}
}

func TestSteadyWindow(t *testing.T) {
	rows := func(open ...int64) []Interval {
		var out []Interval
		for i, o := range open {
			out = append(out, Interval{T: float64(i + 1), Open: o})
		}
		return out
	}
	cases := []struct {
		name     string
		series   []Interval
		from, to float64
		ok       bool
	}{
		{"connect, hold, close", rows(300, 950, 1000, 990, 1000, 0), 2, 5, true},
		{"held from the first second", rows(1000, 1000, 1000), 1, 3, true},
		{"churn dips stay in", rows(1000, 960, 1000, 930, 1000), 1, 5, true},
		{"nothing open", rows(0, 0), 0, 0, false},
		{"no rows", nil, 0, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			from, to, ok := SteadyWindow(c.series)
			if from != c.from || to != c.to || ok != c.ok {
				t.Errorf("SteadyWindow = %v, %v, %v; want %v, %v, %v", from, to, ok, c.from, c.to, c.ok)
			}
		})
	}
}

// soakStart is when soakRun starts.
var soakStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// soakRun is a hold of 1,000 connections for 40 s (connect in the first
// second, closing after): the load generator flat, the proxy's memory
// growing by grow per second, its descriptors flat.
func soakRun(grow int64) *Run {
	r := &Run{Summary: Summary{Schema: Schema, Workload: "hold", Target: "refproxy", Start: soakStart, End: soakStart.Add(42 * time.Second)}}
	for i := range 41 {
		open := int64(1000)
		if i == 0 {
			open = 400
		}
		r.Series = append(r.Series, Interval{T: float64(i + 1), Open: open,
			Resources: Resources{RSS: 30<<20 + int64(i%3)<<10, FDs: 1010, Goroutines: 9}})
		r.ProxySeries = append(r.ProxySeries, ResourceSample{T: float64(i) + 0.5,
			Resources: Resources{RSS: 20<<20 + grow*int64(i), FDs: 2003 + int64(i%2), Goroutines: 7}})
	}
	r.Series = append(r.Series, Interval{T: 41.2, Open: 0, Resources: Resources{RSS: 31 << 20, FDs: 12, Goroutines: 4}})
	return r
}

func TestResourceTrends(t *testing.T) {
	cases := []struct {
		name string
		run  *Run
		want map[string]float64 // process/resource → growth, rounded to 0.01
	}{
		{"flat", soakRun(0), map[string]float64{
			"proxy/rss": 1, "proxy/fds": 1, "proxy/goroutines": 1,
			"loadgen/rss": 1, "loadgen/fds": 1, "loadgen/goroutines": 1,
		}},
		{"proxy leaking 256 KiB a second", soakRun(256 << 10), map[string]float64{
			"proxy/rss": 1.21, "proxy/fds": 1, "proxy/goroutines": 1,
			"loadgen/rss": 1, "loadgen/fds": 1, "loadgen/goroutines": 1,
		}},
		{"nginx: memory only", func() *Run {
			r := soakRun(0)
			for i := range r.ProxySeries {
				r.ProxySeries[i].FDs, r.ProxySeries[i].Goroutines = 0, 0
			}
			return r
		}(), map[string]float64{"proxy/rss": 1, "loadgen/rss": 1, "loadgen/fds": 1, "loadgen/goroutines": 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := map[string]float64{}
			for _, tr := range ResourceTrends(c.run.Series, c.run.ProxySeries) {
				got[tr.Process+"/"+tr.Resource] = math.Round(tr.Growth*100) / 100
				if tr.Resource == ResourceFDs && tr.Process == ProcessLoadgen && (tr.First != 1010 || tr.Last != 1010) {
					t.Errorf("loadgen fds %d → %d, want 1010 → 1010: the connect and close seconds are not the hold", tr.First, tr.Last)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("growth %v, want %v", got, c.want)
			}
		})
	}
	short := soakRun(0)
	short.Series, short.ProxySeries = short.Series[:5], short.ProxySeries[:5]
	for _, tr := range ResourceTrends(short.Series, short.ProxySeries) {
		if tr.Growth != 0 || !strings.Contains(tr.Why, "want at least 8") {
			t.Errorf("5 s run: %s %s growth %v (%q), want none and why", tr.Process, tr.Resource, tr.Growth, tr.Why)
		}
	}
}

// Write and Read keep the proxy series in proxy_timeseries.csv, and a run
// without one has no file.
func TestRunProxySeriesRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name string
		run  *Run
	}{{"with proxy samples", soakRun(1 << 10)}, {"direct", func() *Run { r := soakRun(0); r.ProxySeries = nil; return r }()}} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "r")
			if err := c.run.Write(dir); err != nil {
				t.Fatal(err)
			}
			got, err := Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.ProxySeries, c.run.ProxySeries) || !reflect.DeepEqual(got.Series, c.run.Series) {
				t.Errorf("read back proxy %v series %v\nwant %v %v", got.ProxySeries, got.Series, c.run.ProxySeries, c.run.Series)
			}
		})
	}
}

// Workers' resources add up (each is its own process); repetitions' proxy
// samples keep their own times on the combined axis.
func TestMergeResources(t *testing.T) {
	a, b := soakRun(0), soakRun(0)
	a.ProxySeries, b.ProxySeries = nil, nil
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Series[5].Resources; got != (Resources{RSS: 2 * a.Series[5].RSS, FDs: 2020, Goroutines: 18}) {
		t.Errorf("merged second 6: %+v, want both workers' resources summed", got)
	}
	first, second := soakRun(0), soakRun(0)
	second.Summary.Start = first.Summary.Start.Add(time.Minute)
	second.Summary.End = first.Summary.End.Add(time.Minute)
	c, err := Combine(first, second)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.ProxySeries); n != 82 {
		t.Fatalf("%d proxy samples, want both repetitions' 41", n)
	}
	if got := c.ProxySeries[41].T; got != 60.5 {
		t.Errorf("the second repetition's first sample at %vs, want 60.5 (a minute later)", got)
	}
}
