package compare

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wsbench/wsbench/results"
)

// synth describes a synthetic rtt run: per-second latency histograms drawn
// from a lognormal distribution, and a time series. Fields left zero take
// the defaults of synthRun.
type synth struct {
	seconds int
	perSec  int     // values per second (and messages per second)
	median  float64 // µs
	sigma   float64 // spread of the values within a second (lognormal σ)
	drift   float64 // spread of each second's level around the median (lognormal σ)
	msgs    float64 // received messages per second, as a factor of perSec (default 1)
	seed    uint64
	params  map[string]string
	host    results.Host
}

var synthStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func defaultParams() map[string]string {
	return map[string]string{
		"url": "ws://127.0.0.1:9000/echo", "workload": "rtt", "conns": "5", "rate": "500",
		"size": "64", "duration": "10s", "connect_rate": "0",
	}
}

// run builds the run: seeded, so the same synth gives the same files.
func (s synth) run() *results.Run {
	if s.seconds == 0 {
		s.seconds = 10
	}
	if s.perSec == 0 {
		s.perSec = 500
	}
	if s.median == 0 {
		s.median = 400
	}
	if s.msgs == 0 {
		s.msgs = 1
	}
	if s.params == nil {
		s.params = defaultParams()
	}
	rng := rand.New(rand.NewPCG(s.seed, 99))
	sum := results.Summary{
		Workload: "rtt", Target: s.params["url"], Params: s.params, Host: s.host,
		Start: synthStart, End: synthStart.Add(time.Duration(s.seconds) * time.Second),
		Connections: results.Connections{Attempted: 5, Opened: 5, OpenAtEnd: 5},
	}
	var ivs []*hdrhistogram.PackedHistogram
	var series []results.Interval
	for sec := 0; sec < s.seconds; sec++ {
		h := hdrhistogram.NewPacked(results.LowestUS, results.HighestUS, results.SigFigs)
		level := s.median * math.Exp(s.drift*rng.NormFloat64())
		for i := 0; i < s.perSec; i++ {
			h.RecordValue(int64(level * math.Exp(s.sigma*rng.NormFloat64())))
		}
		ms := synthStart.UnixMilli() + int64(sec)*1000
		h.SetStartTimeMs(ms)
		h.SetEndTimeMs(ms + 1000)
		ivs = append(ivs, h)
		recv := int64(float64(s.perSec) * s.msgs * math.Exp(0.01*rng.NormFloat64()))
		series = append(series, results.Interval{T: float64(sec + 1), Open: 5, MsgsSent: int64(s.perSec), MsgsRecv: recv,
			BytesSent: 64 * int64(s.perSec), BytesRecv: 64 * recv})
		sum.Messages.Sent += int64(s.perSec)
		sum.Messages.Received += recv
	}
	sum.Bytes = results.Traffic{Sent: 64 * sum.Messages.Sent, Received: 64 * sum.Messages.Received}
	sum.Rates = results.Rates{WindowSec: float64(s.seconds),
		MsgsSentPerSec: float64(sum.Messages.Sent) / float64(s.seconds), MsgsRecvPerSec: float64(sum.Messages.Received) / float64(s.seconds),
		BytesSentPerSec: float64(sum.Bytes.Sent) / float64(s.seconds), BytesRecvPerSec: float64(sum.Bytes.Received) / float64(s.seconds)}
	hs := hdrhistogram.NewPacked(results.LowestUS, results.HighestUS, results.SigFigs)
	for i := 0; i < 5; i++ {
		hs.RecordValue(int64(900 + 100*i))
	}
	hs.SetStartTimeMs(synthStart.UnixMilli())
	hs.SetEndTimeMs(synthStart.UnixMilli() + 1000)
	return &results.Run{Summary: sum, Series: series, Intervals: map[string][]*hdrhistogram.PackedHistogram{
		results.MetricRTT: ivs, results.MetricHandshake: {hs},
	}}
}

// write writes the run under dir/rel and returns dir.
func (s synth) write(t testing.TB, dir, rel string) string {
	t.Helper()
	if err := s.run().Write(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
		t.Fatal(err)
	}
	return dir
}

func load(t *testing.T, p string) *Set {
	t.Helper()
	set, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// compareDirs loads both and compares them under p.
func compareDirs(t *testing.T, base, cur string, p Policy) *Report {
	t.Helper()
	rep, err := Compare(load(t, base), load(t, cur), p)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func findRow(t *testing.T, rep *Report, result, metric string) Row {
	t.Helper()
	for _, r := range rep.Rows {
		if r.Result == result && r.Metric == metric {
			return r
		}
	}
	t.Fatalf("no row %s %s in %+v", result, metric, rep.Rows)
	return Row{}
}

// writeRunJSON writes a run.json whose rows point at dirs with usage.
func writeRunJSON(t *testing.T, dir string, rows []map[string]any) {
	t.Helper()
	doc := map[string]any{"schema": results.RunSchema, "run_id": "test", "scenarios": []any{
		map[string]any{"name": "s", "rows": rows},
	}}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, results.RunFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func usage(cpu time.Duration) map[string]any {
	return map[string]any{"cpu_ns": int64(cpu), "memory_growth_bytes": 1 << 20}
}
