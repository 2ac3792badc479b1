package results

import (
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// worker builds one load-generator worker's run: rtt intervals of the given
// values, one per second from start, and a series row per second.
func worker(t *testing.T, start time.Time, conns, rate string, seconds ...[]int64) *Run {
	s := sampleSummary()
	s.Start, s.End = start, start.Add(time.Duration(len(seconds))*time.Second)
	s.Params["conns"], s.Params["rate"] = conns, rate
	s.Hold = &Hold{Outcomes: map[string]int64{"open": 2, "close_1001": 1}, Survival: []SurvivalPoint{{0, 3}, {1.5, 2}}}
	r := &Run{Summary: s, Intervals: map[string][]*hdrhistogram.PackedHistogram{}}
	base := start.UnixMilli()
	for i, vs := range seconds {
		from := base + int64(i)*1000
		r.Intervals[MetricRTT] = append(r.Intervals[MetricRTT], packedOf(t, from, from+1000, vs...))
		r.Series = append(r.Series, Interval{T: float64(i + 1), Open: 3, MsgsSent: int64(len(vs)), MsgsRecv: int64(len(vs)), Errors: 1})
	}
	return r
}

func TestMergeIsExact(t *testing.T) {
	a := worker(t, t0, "30", "6000", []int64{100, 200}, []int64{300})
	b := worker(t, t0.Add(300*time.Millisecond), "20", "4000", []int64{150}, []int64{5_000})
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	all := histOf(t, 100, 200, 300, 150, 5_000)
	if !m.Histograms[MetricRTT].Equals(all) {
		t.Errorf("merged rtt holds %d values, want exactly the 5 of both workers", m.Histograms[MetricRTT].TotalCount())
	}
	if got, want := m.Summary.Histograms[MetricRTT], Summarize(all); got != want {
		t.Errorf("merged stats %+v, want %+v", got, want)
	}
	// B's intervals start 300 ms into A's seconds, so they share A's slots.
	base := t0.UnixMilli()
	want := []*hdrhistogram.PackedHistogram{
		packedOf(t, base, base+1300, 100, 200, 150),
		packedOf(t, base+1000, base+2300, 300, 5_000),
	}
	for _, w := range want {
		w.SetTag(MetricRTT)
	}
	got := m.Intervals[MetricRTT]
	if len(got) != len(want) {
		t.Fatalf("%d merged intervals, want %d", len(got), len(want))
	}
	for i := range want {
		if !samePacked(t, got[i], want[i]) {
			t.Errorf("interval %d: %d values %d…%d ms, want %d values %d…%d ms", i,
				got[i].TotalCount(), got[i].StartTimeMs()-base, got[i].EndTimeMs()-base,
				want[i].TotalCount(), want[i].StartTimeMs()-base, want[i].EndTimeMs()-base)
		}
	}
	wantSeries := []Interval{
		{T: 1.3, Open: 6, MsgsSent: 3, MsgsRecv: 3, Errors: 2, P50: 150, P99: 200},
		{T: 2.3, Open: 6, MsgsSent: 2, MsgsRecv: 2, Errors: 2, P50: 300, P99: histOf(t, 300, 5_000).ValueAtQuantile(99)},
	}
	if !reflect.DeepEqual(m.Series, wantSeries) {
		t.Errorf("series %+v\nwant %+v", m.Series, wantSeries)
	}
	// The merge must itself be a consistent run: write it and read it back.
	dir := filepath.Join(t.TempDir(), "merged")
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	back, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	assertRunsEqual(t, back, m)
}

func TestMergeSumsCounters(t *testing.T) {
	a := worker(t, t0, "30", "6000", []int64{100})
	b := worker(t, t0.Add(time.Second), "20", "4000.5", []int64{100})
	b.Summary.Interrupted = true
	b.Summary.Failures = map[string]int64{"http_502": 5, "refused": 1}
	b.Summary.Backends = map[string]int64{"echo-c": 7}
	a.Summary.Negotiation = &Negotiation{Protocols: map[string]int64{"chat": 30}, ProtocolsSeen: 30}
	b.Summary.Negotiation = &Negotiation{Protocols: map[string]int64{"chat": 18}, Extensions: map[string]int64{"permessage-deflate": 20}, ProtocolsSeen: 20, DeflateSeen: 19}
	b.Summary.Host.Hostname = "bench-2"
	b.Summary.Hold.Survival = []SurvivalPoint{{0, 3}, {1, 1}}
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Summary
	checks := []struct {
		name      string
		got, want any
	}{
		{"conns", s.Params["conns"], "50"},
		{"rate", s.Params["rate"], "10000.5"},
		{"size", s.Params["size"], "64"},
		{"start", s.Start, t0},
		{"end", s.End, t0.Add(2 * time.Second)},
		{"interrupted", s.Interrupted, true},
		{"connections", s.Connections, Connections{Attempted: 104, Opened: 100, Failed: 4, Dropped: 2, OpenAtEnd: 98, Reconnects: 2}},
		{"self cpu", s.Self.CPUUserSec + s.Self.CPUSysSec, 1.5},
		{"self rss", s.Self.RSSBytes, int64(48 << 20)},
		{"self cpu/msg", math.Round(s.Self.CPUPerMsgUS*10) / 10, 31.2},
		{"messages", s.Messages, Traffic{Sent: 48_002, Received: 48_002}},
		{"rates", s.Rates, Rates{WindowSec: 2.5, MsgsSentPerSec: 19200.8, MsgsRecvPerSec: 19200.8, BytesSentPerSec: 1228851.2, BytesRecvPerSec: 1228851.2}},
		{"failures", s.Failures, map[string]int64{"http_502": 7, "reset": 1, "refused": 1}},
		{"backends", s.Backends, map[string]int64{"echo-a": 26, "echo-b": 24, "echo-c": 7}},
		{"outcomes", s.Hold.Outcomes, map[string]int64{"open": 4, "close_1001": 2}},
		{"survival", s.Hold.Survival, []SurvivalPoint{{0, 6}, {1, 4}, {1.5, 3}}},
		{"hellos", len(s.Hellos), 1},
		{"negotiation", *s.Negotiation, Negotiation{Protocols: map[string]int64{"chat": 48}, Extensions: map[string]int64{"permessage-deflate": 20}, ProtocolsSeen: 50, DeflateSeen: 19}},
		{"notes", s.Notes, []string{"sample run for tests", "merged from 2 load-generator runs", "load generated on hosts bench-1, bench-2; host facts are the first's"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestMergeRefuses(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Summary)
		want   string
	}{
		{"workload", func(s *Summary) { s.Workload = "push" }, `run 2 ran workload "push", run 1 "rtt"`},
		{"target", func(s *Summary) { s.Target = "ws://127.0.0.1:9001/" }, `run 2 measured "ws://127.0.0.1:9001/"`},
		{"size", func(s *Summary) { s.Params["size"] = "128" }, `run 2 has size="128", run 1 size="64"; only the split parameters (conns, rate, connect_rate, source_ips, churn) may differ`},
		{"missing param", func(s *Summary) { delete(s.Params, "duration") }, `run 2 has duration="", run 1 duration="10s"`},
		{"tool", func(s *Summary) { s.Tool.Version = "v0.2.0" }, "run 2 was made by wsbench v0.2.0 (commit c0ffee1), run 1 by v0.1.0"},
		{"split not a number", func(s *Summary) { s.Params["rate"] = "10k" }, `run 2: split parameter rate="10k": want a number to sum`},
		{"schema", func(s *Summary) { s.Schema = "x" }, `run 2: results: summary schema "x"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := worker(t, t0, "30", "6000", []int64{100})
			b := worker(t, t0, "20", "4000", []int64{100})
			c.change(&b.Summary)
			_, err := Merge(a, b)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "results: merge: ") {
				t.Errorf("Merge error = %v\nwant it to contain %q", err, c.want)
			}
		})
	}
	if _, err := Merge(); err == nil {
		t.Error("Merge() of nothing succeeded")
	}
}

func TestMergeOneRunIsItself(t *testing.T) {
	r := sampleRun(t)
	m, err := Merge(r)
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range r.Histograms {
		if !m.Histograms[name].Equals(h) {
			t.Errorf("%s changed in a merge of one run", name)
		}
	}
	if m.Summary.Connections != r.Summary.Connections || m.Summary.Params["conns"] != "50" {
		t.Errorf("merge of one run changed its counts: %+v", m.Summary.Connections)
	}
}

// The merged loop busy share is the busiest worker's, in either order.
func TestMergeLoopBusyIsTheMax(t *testing.T) {
	tests := []struct {
		name string
		a, b float64
	}{
		{"first busier", 0.8, 0.3},
		{"second busier", 0.3, 0.8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := worker(t, t0, "30", "6000", []int64{100})
			b := worker(t, t0, "20", "4000", []int64{100})
			a.Summary.Self.LoopBusy, b.Summary.Self.LoopBusy = tt.a, tt.b
			m, err := Merge(a, b)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Summary.Self.LoopBusy; got != 0.8 {
				t.Fatalf("merged loop busy %v, want 0.8", got)
			}
		})
	}
}
