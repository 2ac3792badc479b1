package loadgen

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/internal/tcptest"
	"github.com/wsbench/wsbench/internal/testenv"
	"github.com/wsbench/wsbench/results"
)

// engines lists the engines every behaviour test runs on.
func engines() []string {
	if runtime.GOOS == "linux" {
		return []string{"epoll", "goroutine"}
	}
	return []string{"goroutine"}
}

// startEcho runs a real echo backend on 127.0.0.1:0.
func startEcho(t *testing.T, cfg echo.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := echo.New(cfg)
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

func mustRun(t *testing.T, o Options) *results.Run {
	t.Helper()
	run, err := Run(context.Background(), o, Progress{})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func TestRTTCountsAndLatency(t *testing.T) {
	addr := startEcho(t, echo.Config{ID: "b1"})
	for _, eng := range engines() {
		t.Run(eng, func(t *testing.T) {
			run := mustRun(t, Options{
				URL: "ws://" + addr + "/echo", Workload: WorkloadRTT, Conns: 10, Rate: 500,
				Duration: 2 * time.Second, Engine: eng,
			})
			s := run.Summary
			if s.Connections.Opened != 10 || s.Connections.Failed != 0 || s.Connections.OpenAtEnd != 10 {
				t.Fatalf("connections %+v, want 10 opened and still open at the end", s.Connections)
			}
			if s.Backends["b1"] != 10 {
				t.Fatalf("backends %v, want all 10 on b1", s.Backends)
			}
			// 500/s for 2 s is 1,000 messages; allow for the edges of the window.
			if s.Messages.Sent < 950 || s.Messages.Sent > 1001 {
				t.Fatalf("sent %d messages, want about 1000", s.Messages.Sent)
			}
			if s.Messages.Received != s.Messages.Sent {
				t.Fatalf("received %d of %d messages", s.Messages.Received, s.Messages.Sent)
			}
			rtt := s.Histograms[results.MetricRTT]
			if rtt.Count != s.Messages.Received || s.Histograms[results.MetricService].Count != rtt.Count {
				t.Fatalf("rtt count %d, service count %d, want %d each", rtt.Count, s.Histograms[results.MetricService].Count, s.Messages.Received)
			}
			if s.Histograms[results.MetricHandshake].Count != 10 || s.Histograms[results.MetricConnect].Count != 10 {
				t.Fatalf("handshake/connect samples %d/%d, want 10", s.Histograms[results.MetricHandshake].Count, s.Histograms[results.MetricConnect].Count)
			}
			if rtt.Min <= 0 || rtt.P50 > 100_000 {
				t.Fatalf("rtt p50 %d µs (min %d): implausible for loopback", rtt.P50, rtt.Min)
			}
			if len(run.Series) < 2 {
				t.Fatalf("%d intervals in the time series, want at least 2", len(run.Series))
			}
		})
	}
}

// The coordinated-omission test: a server that stalls 200 ms every second
// must show in the response time, not vanish as fewer samples. Messages due
// during a stall wait for it, so about 20% of response times spread over
// 0-200 ms: p99 ≈ 190 ms and the maximum ≈ 200 ms. Service time (measured
// from the actual, delayed send) stays low: only the one message in flight
// on each connection when the stall starts sees it.
func TestRTTCoordinatedOmission(t *testing.T) {
	addr := startEcho(t, echo.Config{})
	for _, eng := range engines() {
		t.Run(eng, func(t *testing.T) {
			run := mustRun(t, Options{
				URL:      "ws://" + addr + "/echo?stall=200ms&stall_every=1s",
				Workload: WorkloadRTT, Conns: 10, Rate: 1000, Duration: 3 * time.Second, Engine: eng,
			})
			rtt := run.Summary.Histograms[results.MetricRTT]
			svc := run.Summary.Histograms[results.MetricService]
			lag := run.Summary.Histograms[results.MetricLag]
			if rtt.P99 < 150_000 || rtt.Max < 180_000 {
				t.Fatalf("response time p99 %d µs, max %d µs: the 200 ms stalls are hidden", rtt.P99, rtt.Max)
			}
			if svc.P90 > rtt.P99/10 {
				t.Fatalf("service time p90 %d µs vs response p99 %d µs: service time should stay low", svc.P90, rtt.P99)
			}
			if lag.P99 < 100_000 {
				t.Fatalf("schedule lag p99 %d µs: sends delayed by the stall must show as lag", lag.P99)
			}
		})
	}
}

// A server that closes every connection after 1 s with 1001: the hold
// workload records each one as closed with 1001, about 1 s after it opened.
func TestHoldRecordsServerClose(t *testing.T) {
	addr := startEcho(t, echo.Config{})
	for _, eng := range engines() {
		t.Run(eng, func(t *testing.T) {
			run := mustRun(t, Options{
				URL:      "ws://" + addr + "/echo?close_after=1s&close_code=1001",
				Workload: WorkloadHold, Conns: 20, Duration: 4 * time.Second, Engine: eng,
			})
			s := run.Summary
			if s.Hold == nil || s.Hold.Outcomes["close_1001"] != 20 {
				t.Fatalf("hold outcomes %v, want 20 × close_1001", s.Hold)
			}
			drop := s.Histograms[results.MetricDrop]
			// Generous upper bound: the machine running the tests may be busy.
			if drop.Count != 20 || drop.Min < 900_000 || drop.Max > 3_000_000 {
				t.Fatalf("time to drop: %d samples, %d-%d µs; want 20 near 1 s", drop.Count, drop.Min, drop.Max)
			}
			if s.Connections.Dropped != 20 || s.Connections.OpenAtEnd != 0 {
				t.Fatalf("connections %+v, want 20 dropped", s.Connections)
			}
			last := s.Hold.Survival[len(s.Hold.Survival)-1]
			if last.Open != 0 {
				t.Fatalf("survival ends with %d open, want 0", last.Open)
			}
		})
	}
}

func TestHoldWithPingsSurvives(t *testing.T) {
	addr := startEcho(t, echo.Config{})
	run := mustRun(t, Options{
		URL: "ws://" + addr + "/echo", Workload: WorkloadHold, Conns: 30,
		Duration: 1500 * time.Millisecond, PingInterval: 200 * time.Millisecond,
	})
	s := run.Summary
	if s.Hold.Outcomes["open"] != 30 || s.Connections.Dropped != 0 {
		t.Fatalf("outcomes %v, want all 30 open at the end", s.Hold.Outcomes)
	}
}

// TestHoldResetDuringCloseSurvives: a connection that outlived the hold and
// is reset while the run closes it (a proxy tearing the tunnel down as the
// close handshake races a server ping) survived; it is not a drop.
func TestHoldResetDuringCloseSurvives(t *testing.T) {
	addr := resetOnCloseServer(t)
	for _, eng := range engines() {
		t.Run(eng, func(t *testing.T) {
			run := mustRun(t, Options{URL: "ws://" + addr + "/", Workload: WorkloadHold,
				Conns: 10, Duration: 500 * time.Millisecond, Engine: eng})
			s := run.Summary
			if s.Hold.Outcomes["open"] != 10 || s.Connections.Dropped != 0 {
				t.Fatalf("outcomes %v, dropped %d; want all 10 open at the end", s.Hold.Outcomes, s.Connections.Dropped)
			}
		})
	}
}

// resetOnCloseServer upgrades every connection, then answers the client's
// first frame (its close at the end of a hold) with a TCP reset.
func resetOnCloseServer(t *testing.T) string {
	return tcptest.Serve(t, func(c net.Conn) {
		if _, err := ws.Upgrade(c); err != nil {
			return
		}
		c.Read(make([]byte, 512))
		c.(*net.TCPConn).SetLinger(0)
	})
}

func TestThroughputAndPush(t *testing.T) {
	addr := startEcho(t, echo.Config{})
	for _, eng := range engines() {
		t.Run(eng+"/throughput", func(t *testing.T) {
			run := mustRun(t, Options{URL: "ws://" + addr, Workload: WorkloadThroughput, Conns: 4, Window: 8, Duration: time.Second, Engine: eng})
			s := run.Summary
			if s.Messages.Received < 1000 || s.Messages.Received > s.Messages.Sent {
				t.Fatalf("throughput received %d of %d sent", s.Messages.Received, s.Messages.Sent)
			}
			if s.Failures["unanswered"] != s.Messages.Sent-s.Messages.Received {
				t.Fatalf("unanswered %d, want sent-received = %d", s.Failures["unanswered"], s.Messages.Sent-s.Messages.Received)
			}
			if s.Rates.MsgsRecvPerSec <= 0 || s.Bytes.Received != s.Messages.Received*DefaultSize {
				t.Fatalf("rates %+v bytes %+v", s.Rates, s.Bytes)
			}
		})
		t.Run(eng+"/push", func(t *testing.T) {
			run := mustRun(t, Options{URL: "ws://" + addr, Workload: WorkloadPush, Conns: 5, PushRate: 50, Size: FixedSize(100), Duration: 2 * time.Second, Engine: eng})
			s := run.Summary
			ow := s.Histograms[results.MetricOneWay]
			// 5 connections × 50/s × 2 s = 500 messages.
			if ow.Count < 400 || ow.Count > 560 || ow.Count != s.Messages.Received {
				t.Fatalf("one-way samples %d, received %d; want about 500", ow.Count, s.Messages.Received)
			}
			if s.Bytes.Received != s.Messages.Received*100 {
				t.Fatalf("bytes received %d for %d messages of 100 B", s.Bytes.Received, s.Messages.Received)
			}
			if ow.P50 > 100_000 {
				t.Fatalf("one-way p50 %d µs on loopback", ow.P50)
			}
		})
	}
}

// Failures are counted by cause, and a failed run still reports.
func TestFailureCauses(t *testing.T) {
	closed := closedPort(t)
	silent := silentServer(t)
	badAccept := fakeServer(t, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n")
	bad502 := fakeServer(t, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
	originAddr := startEcho(t, echo.Config{AllowedOrigins: []string{"https://good.example"}})
	tests := []struct {
		name    string
		url     string
		headers []string
		cause   string
	}{
		{name: "refused", url: "ws://" + closed + "/echo", cause: "refused"},
		{name: "timeout", url: "ws://" + silent + "/echo", cause: "timeout"},
		{name: "bad accept", url: "ws://" + badAccept + "/echo", cause: "bad_accept"},
		{name: "502", url: "ws://" + bad502 + "/echo", cause: "http_502"},
		{name: "403 origin", url: "ws://" + originAddr + "/echo", headers: []string{"Origin: https://evil.example"}, cause: "http_403"},
		{name: "426 version", url: "ws://" + originAddr + "/echo", headers: []string{"Origin: https://good.example", "Sec-WebSocket-Version: 8"}, cause: "http_426"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := mustRun(t, Options{URL: tt.url, Workload: WorkloadHold, Conns: 3, Duration: 100 * time.Millisecond,
				HandshakeTimeout: 300 * time.Millisecond, Headers: tt.headers})
			s := run.Summary
			if s.Failures[tt.cause] != 3 || s.Connections.Failed != 3 || s.Connections.Opened != 0 {
				t.Fatalf("failures %v, connections %+v; want 3 × %s", s.Failures, s.Connections, tt.cause)
			}
			if s.Histograms[results.MetricHandshakeFail].Count != 3 {
				t.Fatalf("failed-attempt timings: %d, want 3", s.Histograms[results.MetricHandshakeFail].Count)
			}
		})
	}
}

func TestHelloAndSourceIPs(t *testing.T) {
	if runtime.GOOS != "linux" {
		testenv.Need(t, errors.New("127.0.0.0/8 aliases are a Linux loopback feature"))
	}
	addr := startEcho(t, echo.Config{ID: "hb"})
	ips, err := ParseSourceIPs("127.0.0.2-127.0.0.3")
	if err != nil {
		t.Fatal(err)
	}
	run := mustRun(t, Options{URL: "ws://" + addr + "/echo?hello=1", Workload: WorkloadHold, Conns: 4,
		Duration: 200 * time.Millisecond, SourceIPs: ips, Headers: []string{"X-Forwarded-For: 203.0.113.9"}})
	remotes := map[string]bool{}
	for _, raw := range run.Summary.Hellos {
		var h echo.Hello
		if err := json.Unmarshal(raw, &h); err != nil {
			t.Fatalf("hello %s: %v", raw, err)
		}
		host, _, _ := net.SplitHostPort(h.Remote)
		remotes[host] = true
		if h.Backend != "hb" || h.Headers["X-Forwarded-For"] != "203.0.113.9" {
			t.Fatalf("hello %+v: want backend hb and the X-Forwarded-For header", h)
		}
	}
	if !remotes["127.0.0.2"] || !remotes["127.0.0.3"] || len(remotes) != 2 {
		t.Fatalf("backend saw remotes %v, want 127.0.0.2 and 127.0.0.3", remotes)
	}
}

func TestWSS(t *testing.T) {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}})
	if err != nil {
		t.Fatal(err)
	}
	srv := echo.New(echo.Config{})
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	url := "wss://" + ln.Addr().String() + "/echo"
	run := mustRun(t, Options{URL: url, Workload: WorkloadRTT, Conns: 2, Rate: 100, Duration: time.Second, Insecure: true})
	if s := run.Summary; s.Connections.Opened != 2 || s.Messages.Received < 90 {
		t.Fatalf("wss: connections %+v, received %d", s.Connections, s.Messages.Received)
	}
	strict := mustRun(t, Options{URL: url, Workload: WorkloadHold, Conns: 1, Duration: 100 * time.Millisecond})
	if strict.Summary.Connections.Opened != 0 || strict.Summary.Failures["other"] != 1 {
		t.Fatalf("an untrusted certificate without --insecure: %+v %v", strict.Summary.Connections, strict.Summary.Failures)
	}
}

func TestInterruptKeepsPartialResults(t *testing.T) {
	addr := startEcho(t, echo.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(1500*time.Millisecond, cancel)
	start := time.Now()
	run, err := Run(ctx, Options{URL: "ws://" + addr, Workload: WorkloadRTT, Conns: 5, Rate: 200, Duration: time.Minute}, Progress{})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("interrupted run took %v to return", took)
	}
	s := run.Summary
	if !s.Interrupted || s.Messages.Received < 100 || s.Connections.OpenAtEnd != 5 {
		t.Fatalf("interrupted %v, received %d, open at end %d", s.Interrupted, s.Messages.Received, s.Connections.OpenAtEnd)
	}
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentServer accepts and never answers: handshakes time out.
func silentServer(t *testing.T) string {
	return tcptest.Serve(t, func(c net.Conn) { io.Copy(io.Discard, c) })
}

// fakeServer answers every request with a fixed response.
func fakeServer(t *testing.T, response string) string {
	return tcptest.Serve(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		var req []byte
		for !strings.Contains(string(req), "\r\n\r\n") {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			req = append(req, buf[:n]...)
		}
		c.Write([]byte(response))
		time.Sleep(100 * time.Millisecond)
	})
}

func selfSigned(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Connections a server drops are reopened in place: the rtt schedule
// carries on and the reopened handshakes are timed apart.
func TestReconnect(t *testing.T) {
	addr := startEcho(t, echo.Config{})
	for _, eng := range engines() {
		t.Run(eng, func(t *testing.T) {
			run := mustRun(t, Options{
				URL:      "ws://" + addr + "/echo?close_after=600ms&close_code=1012",
				Workload: WorkloadRTT, Conns: 4, Rate: 200, Duration: 2 * time.Second,
				Reconnect: true, Engine: eng,
			})
			s := run.Summary
			if s.Connections.Reconnects < 4 || s.Histograms[results.MetricReconnect].Count != s.Connections.Reconnects {
				t.Fatalf("reconnects %d, reconnect handshakes timed %d; want ≥ 4 and equal",
					s.Connections.Reconnects, s.Histograms[results.MetricReconnect].Count)
			}
			if s.Failures["drop_close_1012"] < 4 || s.Histograms[results.MetricHandshake].Count != 4 {
				t.Fatalf("failures %v, first handshakes %d", s.Failures, s.Histograms[results.MetricHandshake].Count)
			}
			// About 400 messages were due; the reconnected connections catch up.
			if s.Messages.Received < 300 {
				t.Fatalf("received %d messages across the reconnections", s.Messages.Received)
			}
		})
	}
}

// A connection that never reads still notices its peer closing.
func TestNoReadSeesPeerClose(t *testing.T) {
	if runtime.GOOS != "linux" {
		testenv.Need(t, errors.New("no-read needs the epoll engine, Linux-only"))
	}
	// The server closes after 500 ms and, getting no close reply (nothing
	// is read), gives up on the handshake after its drain time.
	addr := startEcho(t, echo.Config{Drain: 300 * time.Millisecond})
	run := mustRun(t, Options{
		URL:      "ws://" + addr + "/echo?close_after=500ms",
		Workload: WorkloadHold, Conns: 3, Duration: 3 * time.Second, NoRead: true,
	})
	s := run.Summary
	if s.Messages.Received != 0 {
		t.Fatalf("a no-read run received %d messages", s.Messages.Received)
	}
	if s.Connections.Dropped != 3 || s.Hold.Outcomes["open"] != 0 {
		t.Fatalf("outcomes %v: want all 3 closed by the server", s.Hold.Outcomes)
	}
	if d := s.Histograms[results.MetricDrop]; d.Min < 400_000 {
		t.Fatalf("dropped after %d µs, before the server's 500 ms", d.Min)
	}
	if err := (Options{URL: "wss://x/", Workload: WorkloadHold, NoRead: true}).Validate(); err == nil {
		t.Fatal("no-read over wss accepted")
	}
}

// The ramp raises the rate until a step breaks the SLO: a backend that
// answers every message 3 ms late meets a 2 ms SLO at no step, and one
// that answers at once meets it at every step.
func TestRampFindsTheSLOStep(t *testing.T) {
	addr := startEcho(t, echo.Config{})
	run := mustRun(t, Options{
		URL: "ws://" + addr + "/echo", Workload: WorkloadRamp, Conns: 4, Rate: 100,
		RampFactor: 2, StepDuration: time.Second, MaxSteps: 3, SLO: 200 * time.Millisecond,
	})
	r := run.Summary.Ramp
	if r == nil || len(r.Steps) != 3 || r.Broken != "last step" || r.MaxOK != 400 {
		t.Fatalf("ramp %+v: want 3 steps at 100, 200, 400/s, all within a generous SLO", r)
	}
	for i, st := range r.Steps {
		if st.Offered != 100*float64(int(1)<<i) || st.Achieved < 0.8*st.Offered || !st.OK {
			t.Fatalf("step %d: %+v", i, st)
		}
	}
	slow := mustRun(t, Options{
		URL: "ws://" + addr + "/echo?delay=3ms", Workload: WorkloadRamp, Conns: 4, Rate: 100,
		StepDuration: time.Second, MaxSteps: 3, SLO: 2 * time.Millisecond,
	})
	if r := slow.Summary.Ramp; r == nil || len(r.Steps) != 1 || r.Steps[0].OK || r.MaxOK != 0 || r.Broken != "p99 over SLO" {
		t.Fatalf("ramp over a 3 ms backend with a 2 ms SLO: %+v", r)
	}
}

// A reconnection the target never answers (a proxy holding it on a dead
// backend) is still dialing when the run ends: it counts as a failure,
// not as nothing.
func TestReconnectUnfinished(t *testing.T) {
	addr := startEcho(t, echo.Config{})
	var accepted atomic.Int64
	front := tcptest.Serve(t, func(c net.Conn) {
		if accepted.Add(1) > 2 {
			io.Copy(io.Discard, c) // the reconnections: never answered
			return
		}
		// The first two connections reach the echo backend, which
		// closes them 300 ms in.
		b, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		defer b.Close()
		go io.Copy(b, c)
		io.Copy(c, b)
	})
	for _, eng := range engines() {
		t.Run(eng, func(t *testing.T) {
			accepted.Store(0)
			run := mustRun(t, Options{
				URL:      "ws://" + front + "/echo?close_after=300ms",
				Workload: WorkloadHold, Conns: 2, Duration: 1500 * time.Millisecond,
				Reconnect: true, HandshakeTimeout: 30 * time.Second, Engine: eng,
			})
			s := run.Summary
			if s.Connections.Dropped != 2 || s.Connections.Reconnects != 0 {
				t.Fatalf("dropped %d, reconnects %d: want 2 dropped and none reopened", s.Connections.Dropped, s.Connections.Reconnects)
			}
			if s.Failures["reconnect_unfinished"] != 2 {
				t.Fatalf("failures %v, want reconnect_unfinished 2", s.Failures)
			}
		})
	}
}
