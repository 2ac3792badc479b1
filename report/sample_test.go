package report

// The sample run of the results package's tests, copied: a package's
// internal test files cannot be imported from another package.

import (
	"encoding/json"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wsbench/wsbench/results"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 250_000_000, time.UTC)

// threeSeconds returns three tagged one-second intervals starting at t0.
func threeSeconds(t *testing.T) []*hdrhistogram.PackedHistogram {
	base := t0.UnixMilli()
	ivs := []*hdrhistogram.PackedHistogram{
		packedOf(t, base, base+1000, 100, 200, 300),
		packedOf(t, base+1000, base+2000), // an idle second stays in the log
		packedOf(t, base+2000, base+2500, 5_000_000, 7),
	}
	for _, h := range ivs {
		h.SetTag("rtt")
	}
	return ivs
}

// sampleSummary is a fixed, fully populated summary (no live host facts,
// so reports of it are reproducible).
func sampleSummary() results.Summary {
	return results.Summary{
		Tool:     results.Tool{Name: "wsbench", Version: "v0.1.0", Commit: "c0ffee1", GoVersion: "go1.26.0"},
		Host:     results.Host{Hostname: "bench-1", OS: "linux", Arch: "amd64", CPUModel: "AMD EPYC 7B13", Cores: 2, Kernel: "Linux 6.8.0", GoVersion: "go1.26.0"},
		Target:   "ws://127.0.0.1:9000/echo",
		Workload: "rtt",
		Params:   map[string]string{"conns": "50", "rate": "10000", "size": "64", "duration": "10s", "connect_rate": "0", "url": "ws://127.0.0.1:9000/echo"},
		Start:    t0,
		End:      t0.Add(2500 * time.Millisecond),
		Connections: results.Connections{
			Attempted: 52, Opened: 50, Failed: 2, Dropped: 1, OpenAtEnd: 49, Reconnects: 1,
		},
		Self:     &results.Self{CPUUserSec: 0.25, CPUSysSec: 0.5, CPUPerMsgUS: 31.2, RSSBytes: 24 << 20, RSSPerConnBytes: 503316},
		Messages: results.Traffic{Sent: 24_001, Received: 24_001},
		Bytes:    results.Traffic{Sent: 1_536_064, Received: 1_536_064},
		Rates:    results.Rates{WindowSec: 2.5, MsgsSentPerSec: 9600.4, MsgsRecvPerSec: 9600.4, BytesSentPerSec: 614425.6, BytesRecvPerSec: 614425.6},
		Failures: map[string]int64{"http_502": 2, "reset": 1},
		Backends: map[string]int64{"echo-a": 26, "echo-b": 24},
		Hellos:   []json.RawMessage{json.RawMessage(`{"id":"echo-a","headers":{"X-Real-Ip":"127.0.0.1"}}`)},
		Notes:    []string{"sample run for tests"},
	}
}

// sampleRun has a metric given as intervals only (rtt), one as a whole-run
// histogram only (connect), one both ways (handshake) and one empty (lag).
func sampleRun(t *testing.T) *results.Run {
	base := t0.UnixMilli()
	rtt := threeSeconds(t)
	hs := []*hdrhistogram.PackedHistogram{packedOf(t, base, base+1000, 900, 1_100, 40_000)}
	return &results.Run{
		Summary: sampleSummary(),
		Histograms: map[string]*hdrhistogram.Histogram{
			results.MetricConnect:   histOf(t, 80, 95, 120),
			results.MetricHandshake: histOf(t, 900, 1_100, 40_000),
			results.MetricLag:       results.NewHistogram(),
		},
		Intervals: map[string][]*hdrhistogram.PackedHistogram{results.MetricRTT: rtt, results.MetricHandshake: hs},
		Series:    sampleSeries(),
	}
}

func sampleSeries() []results.Interval {
	return []results.Interval{
		{T: 1, Open: 50, MsgsSent: 10_000, MsgsRecv: 9_998, BytesSent: 640_000, BytesRecv: 639_872, Errors: 0, P50: 310, P99: 1_200},
		{T: 2, Open: 49, MsgsSent: 10_001, MsgsRecv: 10_003, BytesSent: 640_064, BytesRecv: 640_192, Errors: 1, P50: 305, P99: 980,
			Resources: results.Resources{RSS: 31 << 20, FDs: 57, Goroutines: 12}},
		{T: 2.437, Open: 0, MsgsSent: 4_000, MsgsRecv: 4_000, BytesSent: 256_000, BytesRecv: 256_000, P50: 299, P99: 201_000},
	}
}

func histOf(t testing.TB, values ...int64) *hdrhistogram.Histogram {
	t.Helper()
	h := results.NewHistogram()
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func packedOf(t testing.TB, startMs, endMs int64, values ...int64) *hdrhistogram.PackedHistogram {
	t.Helper()
	p := hdrhistogram.NewPacked(results.LowestUS, results.HighestUS, results.SigFigs)
	for _, v := range values {
		if err := p.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	p.SetStartTimeMs(startMs)
	p.SetEndTimeMs(endMs)
	return p
}
