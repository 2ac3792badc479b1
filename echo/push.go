package echo

import (
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/frame"
	"github.com/wsbench/wsbench/wire"
)

// Push batching: messages that are due together leave in one write, up to
// this many messages or bytes.
const (
	maxPushBatch      = 64
	maxPushBatchBytes = 256 << 10
	// A sender further behind its schedule than this (a stalled client, a
	// descheduled process) restarts the schedule from now instead of
	// bursting the backlog.
	maxPushLag = time.Second
)

// pusher sends a connection's /push messages on a constant-rate schedule.
// Its frames are laid out once (header + zero padding); each send only
// rewrites the push headers, so steady state allocates nothing.
type pusher struct {
	c        *conn
	interval time.Duration
	size     int
	frameLen int
	batch    []byte // maxN frames, back to back
	maxN     int
	seq      uint64
}

func newPusher(c *conn, rate float64, size int) *pusher {
	frameLen := frame.HeaderLen(int64(size), false) + size
	maxN := max(1, min(maxPushBatch, maxPushBatchBytes/frameLen))
	p := &pusher{c: c, interval: time.Duration(float64(time.Second) / rate), size: size, frameLen: frameLen, maxN: maxN}
	p.batch = make([]byte, 0, maxN*frameLen)
	for range maxN {
		p.batch = frame.AppendHeader(p.batch, ws.Header{Fin: true, OpCode: ws.OpBinary, Length: int64(size)})
		p.batch = p.batch[:len(p.batch)+size] // zero padding (fresh memory)
	}
	return p
}

// run sends until stop is closed or a write fails. Messages due during a
// stall window are skipped, not sent late: the stall pauses the stream.
func (p *pusher) run(stop <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	next := time.Now()
	for {
		now := time.Now()
		if wait := next.Sub(now); wait > 0 {
			if !sleep(timer, wait, stop) {
				return
			}
			now = time.Now()
		}
		if left := stallLeft(now, p.c.opts.stall, p.c.opts.stallEvery); left > 0 {
			if !sleep(timer, left, stop) {
				return
			}
			next = time.Now()
			continue
		}
		if now.Sub(next) > maxPushLag {
			next = now
		}
		n := 0
		for n < p.maxN && !next.After(now) {
			n++
			next = next.Add(p.interval)
		}
		if !p.send(n) {
			return
		}
	}
}

// send stamps n frames with the current time and writes them at once.
func (p *pusher) send(n int) bool {
	sent := time.Now().UnixNano() // right before the write
	for i := range n {
		off := i*p.frameLen + p.frameLen - p.size
		wire.PutPushHeader(p.batch[off:], sent, p.seq)
		p.seq++
	}
	if err := p.c.write(p.batch[:n*p.frameLen], false); err != nil {
		return false
	}
	p.c.s.st.msgsOut.Add(uint64(n))
	p.c.s.st.bytesOut.Add(uint64(n * p.size))
	return true
}

// sleep waits d on t, or returns false as soon as stop is closed.
func sleep(t *time.Timer, d time.Duration, stop <-chan struct{}) bool {
	t.Reset(d)
	select {
	case <-stop:
		return false
	case <-t.C:
		return true
	}
}
