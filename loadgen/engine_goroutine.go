package loadgen

import (
	"net"
	"sync"
	"time"
)

// goroutineEngine is the portable engine, for wss:// (TLS needs Go's
// crypto/tls on a blocking connection) and for systems without epoll. A
// reader goroutine per connection only reads and timestamps bytes; all the
// protocol logic and recording stay on the engine's one goroutine, as in
// the epoll engine, so measurements never take a lock.
type goroutineEngine struct {
	core
	inbox  chan loopMsg
	chunks chan chunk
	conns  map[*session]net.Conn
	done   chan struct{}
}

// chunk is what a reader goroutine read, and when.
type chunk struct {
	s   *session
	b   *[]byte
	n   int
	err error
	at  int64
}

// writeTimeout bounds a blocking write; a peer that stops reading for this
// long is counted as a timeout instead of stalling every connection.
const writeTimeout = 5 * time.Second

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

func newGoroutineEngine(d *driver, clk clock, drain, slack int64) *goroutineEngine {
	e := &goroutineEngine{
		inbox:  make(chan loopMsg, 1024),
		chunks: make(chan chunk, 1024),
		conns:  map[*session]net.Conn{},
		done:   make(chan struct{}),
	}
	e.core = core{io: e, d: d, rec: d.rec, clk: clk, drain: drain, slack: slack}
	return e
}

func (e *goroutineEngine) adopt(d dialed) bool { return e.send(loopMsg{kind: msgAdd, dial: d}) }

// send queues m; once the engine has finished (a late reconnection), the
// connection in m is closed instead and send reports false.
func (e *goroutineEngine) send(m loopMsg) bool {
	select {
	case e.inbox <- m:
		return true
	case <-e.done:
		if m.dial.conn != nil {
			m.dial.conn.Close()
		}
		return false
	}
}

func (e *goroutineEngine) finished() <-chan struct{} { return e.done }

func (e *goroutineEngine) run() {
	defer close(e.done)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for e.phase != phaseDone {
		before := e.clk.now()
		t.Reset(time.Duration(e.timeout(before)))
		var woke int64
		// Each case hands over the seconds that ended before it records
		// anything, as the epoll loop does.
		select {
		case m := <-e.inbox:
			woke = e.clk.now()
			e.rec.tick(woke)
			e.handle(m, woke, e.register)
		case c := <-e.chunks:
			woke = e.clk.now()
			e.rec.tick(woke)
			e.chunk(c)
		case <-t.C:
			woke = e.clk.now()
		}
		// The engine goroutine's own share: its reader goroutines' reads
		// are not in it.
		e.waited(before, woke)
		now := e.clk.now()
		e.runTimers(now)
		e.rec.tick(now)
		e.advance(now)
	}
	e.rec.busy = e.busy()
	e.rec.finish()
}

func (e *goroutineEngine) chunk(c chunk) {
	defer chunkPool.Put(c.b)
	if c.s.closed {
		return
	}
	if c.n > 0 {
		e.received(c.s, (*c.b)[:c.n], c.at)
	}
	if c.err != nil && !c.s.closed {
		e.end(c.s, c.at, causeOf(c.err))
	}
}

func (e *goroutineEngine) register(m loopMsg) *session {
	s := e.newSession()
	s.fd = -1
	e.conns[s] = m.dial.conn
	go e.read(s, m.dial.conn)
	return s
}

// read runs on the connection's own goroutine until the socket fails or
// the engine closes it.
func (e *goroutineEngine) read(s *session, c net.Conn) {
	for {
		b := chunkPool.Get().(*[]byte)
		n, err := c.Read(*b)
		select {
		case e.chunks <- chunk{s: s, b: b, n: n, err: err, at: e.clk.now()}:
		case <-e.done: // the engine has finished; nobody will read this
			return
		}
		if err != nil {
			return
		}
	}
}

func (e *goroutineEngine) write(s *session, p []byte) (int, error) {
	c := e.conns[s]
	_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
	return c.Write(p)
}

func (e *goroutineEngine) again(error) bool            { return false }
func (e *goroutineEngine) waitWritable(*session, bool) {}

func (e *goroutineEngine) release(s *session) {
	if c := e.conns[s]; c != nil {
		c.Close()
	}
	delete(e.conns, s)
}
