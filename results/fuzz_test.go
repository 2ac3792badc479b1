package results

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Every decoder must never panic, and whatever it accepts must survive a
// write and a second read unchanged.

func FuzzReadHGRM(f *testing.F) {
	if b, err := os.ReadFile("testdata/latency.hgrm"); err == nil {
		f.Add(b)
	}
	var lib bytes.Buffer
	histOf(f, 1, 2, 3).PercentilesPrint(&lib, 5, 1000)
	f.Add(lib.Bytes())
	f.Add([]byte("Value Percentile TotalCount 1/(1-Percentile)\n#[Mean = 0, StdDeviation = 0]\n#[Max = 0, Total count = 0]\n#[Buckets = 1, SubBuckets = 2]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ReadHGRM(bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "hgrm: line ") {
				t.Fatalf("error %q does not name the line", err)
			}
			return
		}
		for i := 1; i < len(d.Rows); i++ {
			if d.Rows[i].Value < d.Rows[i-1].Value || d.Rows[i].TotalCount < d.Rows[i-1].TotalCount {
				t.Fatalf("accepted decreasing rows %+v, %+v", d.Rows[i-1], d.Rows[i])
			}
		}
		if n := len(d.Rows); n > 0 && d.Rows[n-1].TotalCount != d.TotalCount {
			t.Fatalf("accepted a last row of %d values with a footer total of %d", d.Rows[n-1].TotalCount, d.TotalCount)
		}
	})
}

// FuzzHGRMRoundTrip records arbitrary values, writes them as .hgrm and
// checks that what reads back is the histogram's own distribution.
func FuzzHGRMRoundTrip(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 255, 255, 255, 0})
	f.Add([]byte("latency"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h := NewHistogram()
		for len(data) >= 4 {
			v := int64(binary.LittleEndian.Uint32(data)) % HighestUS
			data = data[4:]
			if err := h.RecordValue(v); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := WriteHGRM(&buf, h); err != nil {
			t.Fatal(err)
		}
		d, err := ReadHGRM(&buf)
		if err != nil {
			t.Fatalf("%v\n%s", err, buf.String())
		}
		if d.TotalCount != h.TotalCount() || d.Max != float64(h.Max())/1000 {
			t.Fatalf("footer %d values max %v ms, histogram %d values max %d µs", d.TotalCount, d.Max, h.TotalCount(), h.Max())
		}
		if h.TotalCount() == 0 {
			return
		}
		brackets := h.CumulativeDistributionWithTicks(5)
		if len(brackets) != len(d.Rows) {
			t.Fatalf("%d rows, %d brackets", len(d.Rows), len(brackets))
		}
		for i, b := range brackets {
			if r := d.Rows[i]; r.Value != float64(b.ValueAt)/1000 || r.TotalCount != b.Count || math.Abs(r.Percentile-b.Quantile/100) > 1e-12 {
				t.Fatalf("row %d %+v, bracket %+v", i, r, b)
			}
		}
	})
}

func FuzzReadHlog(f *testing.F) {
	var buf bytes.Buffer
	ivs := []*hdrhistogram.PackedHistogram{packedOf(f, 1000, 2000, 1, 2, 3), packedOf(f, 2000, 2500, 1_000_000)}
	ivs[0].SetTag("rtt")
	if err := WriteHlog(&buf, time.UnixMilli(1000), ivs); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("#[StartTime: 100.5 (seconds since epoch), x]\n0.000,1.000,0.0,HISTFAAAAB14nJNpmSzMwMDAyAABzFCaEUzxWL7SBAA2DAMd\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ReadHlog(bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "hlog: line ") {
				t.Fatalf("error %q does not name the line", err)
			}
			return
		}
		var start int64 = math.MaxInt64
		for _, h := range got {
			start = min(start, h.StartTimeMs())
		}
		if len(got) == 0 {
			start = 0
		}
		var out bytes.Buffer
		if err := WriteHlog(&out, time.UnixMilli(start), got); err != nil {
			t.Fatalf("cannot rewrite what was read: %v", err)
		}
		again, err := ReadHlog(&out)
		if err != nil {
			t.Fatalf("cannot reread what was written: %v\n%s", err, out.String())
		}
		if len(again) != len(got) {
			t.Fatalf("%d intervals, then %d", len(got), len(again))
		}
		for i := range got {
			if !samePacked(t, again[i], got[i]) {
				t.Fatalf("interval %d changed in a round trip", i)
			}
		}
	})
}

func FuzzReadTimeseries(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteTimeseries(&buf, sampleSeries()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("t_sec,open,msgs_sent,msgs_recv,bytes_sent,bytes_recv,errors,p50_us,p99_us\n\"1\",2,3,4,5,6,7,8,9\n"))
	f.Add([]byte("t_sec,open,msgs_sent,msgs_recv,bytes_sent,bytes_recv,errors,p50_us,p99_us,rss_bytes,fds,goroutines\n1,2,3,4,5,6,7,8,9,0,,12\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ReadTimeseries(bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "timeseries: ") {
				t.Fatalf("error %q lacks its prefix", err)
			}
			return
		}
		var out bytes.Buffer
		if err := WriteTimeseries(&out, rows); err != nil {
			t.Fatal(err)
		}
		again, err := ReadTimeseries(&out)
		if err != nil {
			t.Fatalf("cannot reread what was written: %v", err)
		}
		if len(rows) != 0 && !reflect.DeepEqual(again, rows) {
			t.Fatalf("rows changed in a round trip:\n%+v\n%+v", rows, again)
		}
	})
}

func FuzzReadProxySeries(f *testing.F) {
	f.Add([]byte("t_sec,rss_bytes,fds,goroutines\n0.5,9437184,18004,11\n2,178257920,,\n"))
	f.Add([]byte("t_sec,rss_bytes,fds,goroutines\n1,0,\"3\",\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		samples, err := ReadProxySeries(bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "proxy timeseries: ") {
				t.Fatalf("error %q lacks its prefix", err)
			}
			return
		}
		var out bytes.Buffer
		if err := WriteProxySeries(&out, samples); err != nil {
			t.Fatal(err)
		}
		again, err := ReadProxySeries(&out)
		if err != nil {
			t.Fatalf("cannot reread what was written: %v", err)
		}
		if len(samples) != 0 && !reflect.DeepEqual(again, samples) {
			t.Fatalf("samples changed in a round trip:\n%+v\n%+v", samples, again)
		}
	})
}

// FuzzReadSummary fuzzes decodeSummary, which is all of ReadSummary but
// opening the file.
func FuzzReadSummary(f *testing.F) {
	s := sampleSummary()
	s.Schema = Schema
	s.Hold = &Hold{Outcomes: map[string]int64{"open": 1}, Survival: []SurvivalPoint{{0, 1}}}
	s.Histograms = map[string]Stats{"rtt": {Count: 1, Min: 5, Max: 5}}
	b, err := encodeSummary(&s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"schema":"wsbench/result/v1","hellos":[{"a" : [1, 2]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeSummary(data)
		if err != nil {
			return
		}
		b, err := encodeSummary(s)
		if err != nil {
			t.Fatalf("cannot encode what was decoded: %v", err)
		}
		s2, err := decodeSummary(b)
		if err != nil {
			t.Fatalf("cannot decode what was encoded: %v\n%s", err, b)
		}
		b2, err := encodeSummary(s2)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("summary changed in a round trip:\n%s\n%s", b, b2)
		}
	})
}

func FuzzCPUModel(f *testing.F) {
	f.Add("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n")
	f.Add("Hardware : BCM2835\n")
	f.Fuzz(func(t *testing.T, s string) {
		_ = cpuModel(strings.NewReader(s))
	})
}

// FuzzDecodeRunFile: run.json from anywhere never panics the decoder, and
// what it accepts has the schema and only result directories inside the
// run directory.
func FuzzDecodeRunFile(f *testing.F) {
	f.Add([]byte(`{"schema": "wsbench/run/v1", "run_id": "x", "scenarios": [{"name": "s", "rows": [{"target": "t", "workload": "rtt", "dir": "s/t/rtt",
		"usage": {"CPU": 1000, "MemoryGrowth": -5}, "verdicts": [{"Expectation": {"Text": "rtt.p99 < 1ms"}, "Pass": true, "Got": "1ms"}]}]}]}`))
	f.Add([]byte(`{"schema": "wsbench/run/v1", "scenarios": [{"rows": [{"dir": "../x"}]}]}`))
	f.Add([]byte(`{"schema": "wsbench/run/v1", "scenarios": null}`))
	f.Add([]byte(`{"schema": "wsbench/run/v2", "scenarios": [{"name": "s", "rows": [{"target": "t", "workload": "rtt", "dir": "s/t/rtt",
		"usage": {"cpu_ns": 1000, "memory_growth_bytes": -5}, "verdicts": [{"expectation": "rtt.p99 < 1ms", "pass": true, "got": "1ms"}],
		"reps": [{"dir": "s/t/rtt/rep-1"}]}]}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rf, err := decodeRunFile(data)
		if err != nil {
			return
		}
		if rf.Schema != RunSchema {
			t.Fatalf("accepted schema %q", rf.Schema)
		}
		for _, s := range rf.Scenarios {
			for _, r := range s.Rows {
				if r.Dir != "" && !filepath.IsLocal(r.Dir) {
					t.Fatalf("accepted dir %q outside the run", r.Dir)
				}
			}
		}
	})
}
