package report

import (
	"path/filepath"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wsbench/wsbench/results"
)

// reportStart is when every fixture run starts, so reports are
// reproducible byte for byte.
var reportStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// reportRun makes a deterministic result of workload on target. slowUS is
// added to every latency, so targets differ the way a proxy's cost would
// show; extra fills the workload-specific parts.
func reportRun(t testing.TB, target, workload string, slowUS int64, extra func(*results.Run)) *results.Run {
	t.Helper()
	hist := func(n int, base, spread int64) *hdrhistogram.Histogram {
		h := results.NewHistogram()
		for i := int64(0); i < int64(n); i++ {
			v := base + slowUS + (i*7919)%spread
			if i%500 == 499 {
				v *= 20 // a tail, so the percentile curves bend
			}
			if err := h.RecordValue(v); err != nil {
				t.Fatal(err)
			}
		}
		return h
	}
	r := &results.Run{
		Summary: results.Summary{
			Tool:     results.Tool{Name: "wsbench", Version: "v0.1.0", Commit: "abc1234", GoVersion: "go1.26"},
			Host:     results.Host{Hostname: "ci-1", OS: "linux", Arch: "amd64", CPUModel: "Test CPU @ 2GHz", Cores: 2, Kernel: "6.1.0", GoVersion: "go1.26"},
			Target:   target,
			Workload: workload,
			Params:   map[string]string{"conns": "20", "duration": "5s", "url": "ws://" + target + ":80/echo"},
			Start:    reportStart,
			End:      reportStart.Add(5 * time.Second),
			Connections: results.Connections{
				Attempted: 20, Opened: 20, OpenAtEnd: 20,
			},
			Rates: results.Rates{WindowSec: 5},
		},
		Histograms: map[string]*hdrhistogram.Histogram{
			results.MetricConnect:   hist(20, 80, 50),
			results.MetricHandshake: hist(20, 300, 200),
		},
	}
	if workload == "rtt" {
		r.Summary.Params["rate"] = "1000"
		r.Histograms[results.MetricRTT] = hist(5000, 150, 400)
		r.Summary.Messages = results.Traffic{Sent: 5000, Received: 5000}
		r.Summary.Bytes = results.Traffic{Sent: 320_000, Received: 320_000}
		r.Summary.Rates.MsgsSentPerSec, r.Summary.Rates.MsgsRecvPerSec = 1000, 1000
		r.Summary.Rates.BytesSentPerSec, r.Summary.Rates.BytesRecvPerSec = 64_000, 64_000
		r.Summary.Self = &results.Self{CPUUserSec: 0.2, CPUSysSec: 0.1, CPUPerMsgUS: 30, RSSBytes: 12 << 20}
		for i := range 5 {
			r.Series = append(r.Series, results.Interval{
				T: float64(i + 1), Open: 20, MsgsSent: 1000, MsgsRecv: int64(1000 - 10*i),
				BytesSent: 64_000, BytesRecv: 64_000, P50: 300 + slowUS, P99: 600 + slowUS + int64(100*i),
			})
		}
		// The tail row after the load phase: a few milliseconds long.
		r.Series = append(r.Series, results.Interval{T: 5.004, Open: 0, MsgsRecv: 3})
	} else {
		for i := range 5 {
			r.Series = append(r.Series, results.Interval{T: float64(i + 1), Open: 20})
		}
	}
	if extra != nil {
		extra(r)
	}
	return r
}

// withHold gives a hold run a survival curve: every connection drops at
// dropAt seconds (0: none drops).
func withHold(dropAt float64) func(*results.Run) {
	return func(r *results.Run) {
		h := &results.Hold{Outcomes: map[string]int64{"open": 20}}
		for s := 1.0; s <= 5; s++ {
			open := int64(20)
			if dropAt > 0 && s > dropAt {
				open = 0
			}
			h.Survival = append(h.Survival, results.SurvivalPoint{T: s, Open: open})
		}
		if dropAt > 0 {
			h.Outcomes = map[string]int64{"close_1006": 5, "eof": 15}
			r.Summary.Connections.Dropped, r.Summary.Connections.OpenAtEnd = 20, 0
			r.Histograms[results.MetricDrop] = results.NewHistogram()
			for range 20 {
				r.Histograms[results.MetricDrop].RecordValue(int64(dropAt * 1e6))
			}
			// The load generator puts the drops' p99 in the second they
			// happened; a report shows the survival curve instead.
			r.Series[int(dropAt)].P99 = int64(dropAt * 1e6)
		}
		r.Summary.Hold = h
	}
}

func withBackends(b map[string]int64) func(*results.Run) {
	return func(r *results.Run) { r.Summary.Backends = b }
}

// withRamp makes a ramp run whose p99 stays under a 2 ms SLO up to ok
// msgs/s and then breaks.
func withRamp(ok float64) func(*results.Run) {
	return func(r *results.Run) {
		ramp := &results.Ramp{SLOUS: 2000, Unit: "msgs/s", Broken: "p99 over SLO"}
		for i, offered := range []float64{1000, 2000, 4000, 8000} {
			st := results.RampStep{Offered: offered, Achieved: offered, Start: float64(2 * i), End: float64(2*i + 2),
				P50: 300, P99: int64(500 + offered/ok*1500)}
			st.OK = st.P99 <= ramp.SLOUS
			if st.OK {
				ramp.MaxOK = offered
			}
			ramp.Steps = append(ramp.Steps, st)
		}
		r.Summary.Ramp = ramp
	}
}

// withLoopBusy makes the run loadgen-bound: its load generator's busiest
// loop worked that share of the load phase.
func withLoopBusy(share float64) func(*results.Run) {
	return func(r *results.Run) { r.Summary.Self.LoopBusy = share }
}

func withFailures(f map[string]int64) func(*results.Run) {
	return func(r *results.Run) {
		r.Summary.Failures = f
		var n int64
		for _, c := range f {
			n += c
		}
		r.Summary.Connections.Failed, r.Summary.Connections.Opened = n, 20-n
	}
}

func chain(fs ...func(*results.Run)) func(*results.Run) {
	return func(r *results.Run) {
		for _, f := range fs {
			f(r)
		}
	}
}

func verdict(text string, pass bool, got, reason string) results.RunVerdict {
	return results.RunVerdict{Expectation: text, Pass: pass, Got: got, Reason: reason}
}

// writeReportFixture writes a `wsbench run` directory with every kind of
// data a report shows (rtt, hold with drops, balance, ramp), repetitions,
// verdicts that hold and fail, a row that could not run, a skipped row and
// a scenario that failed, and returns its path.
func writeReportFixture(t testing.TB) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "20260301T120000Z")
	write := func(rel string, r *results.Run) {
		t.Helper()
		if err := r.Write(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
			t.Fatal(err)
		}
	}
	write("proxy-cost/direct/rtt", reportRun(t, "direct", "rtt", 0, nil))
	write("proxy-cost/refproxy/rtt", reportRun(t, "refproxy", "rtt", 60, nil))
	write("proxy-cost/refproxy/rtt/rep-1", reportRun(t, "refproxy", "rtt", 60, nil))
	write("proxy-cost/refproxy/rtt/rep-2", reportRun(t, "refproxy", "rtt", 60, nil))
	write("proxy-cost/nginx-map/rtt", reportRun(t, "nginx-map", "rtt", 90, chain(withFailures(map[string]int64{"http_502": 2}), withLoopBusy(0.96))))
	write("idle/direct/idle", reportRun(t, "direct", "hold", 0, withHold(0)))
	write("idle/nginx-read-3s/idle", reportRun(t, "nginx-read-3s", "hold", 40, withHold(3)))
	write("balance/refproxy-rr/hold", reportRun(t, "refproxy-rr", "hold", 0,
		chain(withHold(0), withBackends(map[string]int64{"echo-1": 7, "echo-2": 7, "echo-3": 6}))))
	write("balance/nginx-ip-hash/hold", reportRun(t, "nginx-ip-hash", "hold", 0,
		chain(withHold(0), withBackends(map[string]int64{"echo-1": 20}))))
	write("capacity/direct/ramp", reportRun(t, "direct", "rtt", 0, withRamp(6000)))
	write("capacity/refproxy/ramp", reportRun(t, "refproxy", "rtt", 60, withRamp(3000)))

	usage := &results.Usage{CPU: 150 * time.Millisecond, MemoryGrowth: 2 << 20}
	rf := &results.RunManifest{
		Schema: results.RunSchema, RunID: "20260301T120000Z", Start: reportStart, End: reportStart.Add(90 * time.Second),
		Runtime: "docker", Network: "bridge", Scale: 1,
		Images: []results.RunImage{
			{Kind: "wsbench", Ref: "wsbench:test", ID: "sha256:0123456789abcdef0123"},
			{Kind: "nginx", Ref: "wsbench-nginx:1.22.1", ID: "sha256:fedcba9876543210fedc", Version: "nginx/1.22.1"},
		},
		Scenarios: []*results.RunScenario{
			{Name: "proxy-cost", Description: "What a proxy adds to a round trip.", Rows: []*results.RunRow{
				{Target: "direct", Kind: "direct", Workload: "rtt", Dir: "proxy-cost/direct/rtt",
					Verdicts: []results.RunVerdict{verdict("rtt.p99 < 5ms", true, "1.3ms", "")}},
				{Target: "refproxy", Kind: "refproxy", Workload: "rtt", Dir: "proxy-cost/refproxy/rtt", Usage: usage,
					Verdicts: []results.RunVerdict{verdict("rtt.p99 < 5ms", true, "1.4ms", ""), verdict("proxy.cpu_us_per_msg < 10µs", false, "15µs", "")}},
				{Target: "nginx-map", Kind: "nginx", Seed: "S3", Workload: "rtt", Dir: "proxy-cost/nginx-map/rtt", Usage: usage,
					Verdicts: []results.RunVerdict{verdict("failures.http_502 == 0", false, "2", "")}},
				{Target: "haproxy", Kind: "haproxy", Workload: "rtt", Skipped: "haproxy is not installed"},
			}},
			{Name: "idle", Description: "proxy_read_timeout drops idle tunnels.", Rows: []*results.RunRow{
				{Target: "direct", Kind: "direct", Workload: "idle", Dir: "idle/direct/idle"},
				{Target: "nginx-read-3s", Kind: "nginx", Seed: "S4", Workload: "idle", Dir: "idle/nginx-read-3s/idle", Usage: usage,
					Verdicts: []results.RunVerdict{verdict("hold.median_drop == 3s ± 0.5s", true, "3s", "")}},
				{Target: "nginx-broken", Kind: "nginx", Workload: "idle", Err: "nginx exited: [emerg] unknown directive", Logs: []string{"idle/logs/nginx-broken.log"}},
			}},
			{Name: "balance", Rows: []*results.RunRow{
				{Target: "refproxy-rr", Kind: "refproxy", Workload: "hold", Dir: "balance/refproxy-rr/hold"},
				{Target: "nginx-ip-hash", Kind: "nginx", Seed: "S6", Workload: "hold", Dir: "balance/nginx-ip-hash/hold",
					Verdicts: []results.RunVerdict{verdict("balance.max_mean < 1.5", false, "", "one backend got every connection: 3.00")}},
			}},
			{Name: "capacity", Description: "Highest rate within a 2 ms p99.", Rows: []*results.RunRow{
				{Target: "direct", Kind: "direct", Workload: "ramp", Dir: "capacity/direct/ramp"},
				{Target: "refproxy", Kind: "refproxy", Workload: "ramp", Dir: "capacity/refproxy/ramp", Usage: usage},
			}},
			{Name: "tls", Err: "certificate: no openssl"},
		},
	}
	if err := results.WriteRunFile(root, rf); err != nil {
		t.Fatal(err)
	}
	return root
}
