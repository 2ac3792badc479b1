package loadgen

import (
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/frame"
)

// BenchmarkRTTReply is the rtt hot path without I/O: a reply is decoded
// into its times and recorded (response, service, lag), and the next
// message is framed, masked and appended.
func BenchmarkRTTReply(b *testing.B) {
	const size = DefaultSize
	out := make(chan *interval, 1)
	rec := newRecorder(0, out, make(chan *interval, 1))
	rec.next = 1 << 62 // one interval: nothing leaves the recorder
	p := &plan{kind: WorkloadRTT, size: size, sched: rttSchedule{n: 1, rate: 1e9}, pad: make([]byte, size)}
	d := newDriver(p, rec, 1)
	d.loading, d.t0, d.end, d.rate = true, 0, 1<<62, 1e9
	s := &session{}
	reply := make([]byte, size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := int64(i+1) * 1000
		binary.BigEndian.PutUint64(reply[0:8], uint64(i))
		binary.BigEndian.PutUint64(reply[8:16], uint64(now-900))
		binary.BigEndian.PutUint64(reply[16:24], uint64(now-800))
		s.inflight = 1
		d.inflight = 1
		s.out = s.out[:0]
		d.data(s, reply, now)
	}
}

// BenchmarkRTTFrame is BenchmarkRTTReply from the wire: the reply's frame
// is decoded and handed to the driver as the engines do (core.consume),
// so what the receive path adds per frame (opcode, compression) is in it.
func BenchmarkRTTFrame(b *testing.B) {
	const size = DefaultSize
	out := make(chan *interval, 1)
	rec := newRecorder(0, out, make(chan *interval, 1))
	rec.next = 1 << 62
	p := &plan{kind: WorkloadRTT, size: size, sched: rttSchedule{n: 1, rate: 1e9}, pad: make([]byte, size)}
	d := newDriver(p, rec, 1)
	d.loading, d.t0, d.end, d.rate = true, 0, 1<<62, 1e9
	c := &core{d: d, rec: rec}
	s := &session{}
	payload := make([]byte, size)
	wire := make([]byte, 0, 2*size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := int64(i+1) * 1000
		binary.BigEndian.PutUint64(payload[0:8], uint64(i))
		binary.BigEndian.PutUint64(payload[8:16], uint64(now-900))
		binary.BigEndian.PutUint64(payload[16:24], uint64(now-800))
		wire = frame.AppendFrame(wire[:0], ws.OpBinary, payload, nil)
		s.inflight = 1
		d.inflight = 1
		s.out = s.out[:0]
		c.consume(s, wire, now)
	}
}

// BenchmarkRunRTT is a whole rtt run on loopback against the in-process
// echo backend: 50 connections, 10,000 messages/s, 1 s. It reports the
// load generator's CPU per message (the process's, so the echo server's
// is in it too) and the response-time p50.
func BenchmarkRunRTT(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := echo.New(echo.Config{})
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	var cpu, p50, msgs float64
	for i := 0; i < b.N; i++ {
		run, err := Run(context.Background(), Options{
			URL: "ws://" + ln.Addr().String() + "/echo", Conns: 50, Rate: 10_000,
			Duration: time.Second, Drain: 100 * time.Millisecond,
		}, Progress{})
		if err != nil {
			b.Fatal(err)
		}
		cpu += run.Summary.Self.CPUPerMsgUS
		p50 += float64(run.Summary.Histograms["rtt"].P50)
		msgs += run.Summary.Rates.MsgsRecvPerSec
	}
	b.ReportMetric(cpu/float64(b.N), "cpu-µs/msg")
	b.ReportMetric(p50/float64(b.N), "p50-µs")
	b.ReportMetric(msgs/float64(b.N), "msgs/s")
}

// BenchmarkClockNow is the clock read every engine wake-up makes.
func BenchmarkClockNow(b *testing.B) {
	c := clock{base: time.Now()}
	var sum int64
	for i := 0; i < b.N; i++ {
		sum += c.now()
	}
	if sum == 0 {
		b.Fatal("the clock did not move")
	}
}
