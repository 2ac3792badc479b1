package relay

import (
	"sync"
	"sync/atomic"

	"github.com/wsbench/wsbench/internal/sysio"
)

// chunk is the bytes in transit in one direction: read from the source and
// not yet written to the destination. They sit in a borrowed buffer (copy
// path) or a borrowed pipe (splice path); both go back to their pool as soon
// as the chunk is empty, so an idle direction holds neither.
type chunk struct {
	buf      *[]byte // copy: bytes (*buf)[off:end] are pending
	off, end int
	pipe     *pipe // splice: inPipe bytes are pending in it
	inPipe   int
	// burst counts the bytes of the current burst: reads that each got all
	// they asked for, up to one that got less. bulk says the last burst
	// was at least bulkBuffers buffers. In splice mode a fill splices when
	// either holds (see fill).
	burst int
	bulk  bool
	// want is what the last fill asked for; spliced says it was a splice.
	// A shorter read through a buffer drained the socket; a shorter splice
	// may have stopped at the pipe's slot count instead.
	want    int
	spliced bool
}

func (c *chunk) pending() int { return c.end - c.off + c.inPipe }

// mover fills and drains chunks on raw non-blocking descriptors.
type mover struct {
	splice bool
	bulkAt int        // a burst of this many bytes is bulk: spliced
	bufs   *sync.Pool // *[]byte of the configured buffer size
	pipes  *pipePool
	// onPipeErr is told once per failure to get a pipe (the file limit, most
	// likely); the chunk then goes through a buffer instead.
	onPipeErr func(error)
	spliced   *atomic.Int64 // bytes moved by splice, for tests and tuning
}

func newMover(cfg *Config, pipes *pipePool) mover {
	size := cfg.BufferSize
	return mover{
		splice:  !cfg.Copy,
		bulkAt:  bulkBuffers * size,
		bufs:    &sync.Pool{New: func() any { b := make([]byte, size); return &b }},
		pipes:   pipes,
		spliced: new(atomic.Int64),
	}
}

// fill reads the next bytes from fd into an empty chunk. It returns 0, nil
// at end of stream and unix.EAGAIN when nothing is there; in both cases and
// on error the chunk holds nothing borrowed afterwards.
//
// In splice mode a direction reads through a buffer like the copy path,
// and splices only bulk: once the current burst of reads has brought
// bulkBuffers buffers' worth, or the previous burst did. Two splice(2)
// calls cost more than recv and send of a few bytes, and many small
// frames in a row (pipelined small messages) fill a pipe's slots before
// its pages: measured, splicing those cost 15-20 % more CPU per message
// than copying them. Large messages are spliced without being copied.
func (m *mover) fill(c *chunk, fd int) (int, error) {
	if m.splice && (c.bulk || c.burst >= m.bulkAt) {
		if c.pipe == nil {
			p, err := m.pipes.get()
			if err != nil {
				if m.onPipeErr != nil {
					m.onPipeErr(err)
				}
				return m.fillBuf(c, fd)
			}
			c.pipe = p
		}
		c.want, c.spliced = pipeSize, true
		n, err := spliceIn(fd, c.pipe)
		m.count(c, n)
		if n > 0 {
			c.inPipe += n
			m.spliced.Add(int64(n))
			return n, nil
		}
		m.release(c)
		return 0, err
	}
	return m.fillBuf(c, fd)
}

func (m *mover) fillBuf(c *chunk, fd int) (int, error) {
	if c.buf == nil {
		c.buf = m.bufs.Get().(*[]byte)
	}
	c.want, c.spliced = len(*c.buf), false
	n, err := sysio.Recv(fd, *c.buf)
	m.count(c, n)
	if n > 0 {
		c.off, c.end = 0, n
		return n, nil
	}
	m.release(c)
	return 0, err
}

// bulkBuffers buffers' worth in one burst makes a direction splice.
const bulkBuffers = 4

// count adds a read of n bytes (0 or less: none) to the current burst, and
// ends the burst when the read got less than it asked for.
func (m *mover) count(c *chunk, n int) {
	c.burst += max(n, 0)
	if n < c.want {
		c.bulk = c.burst >= m.bulkAt
		c.burst = 0
	}
}

// drain writes pending bytes to fd once; unix.EAGAIN means fd is full.
// An emptied chunk returns what it borrowed.
func (m *mover) drain(c *chunk, fd int) (int, error) {
	var n int
	var err error
	if c.pipe != nil {
		n, err = spliceOut(c.pipe, fd, c.inPipe)
		if n > 0 {
			c.inPipe -= n
		}
	} else {
		n, err = sysio.Send(fd, (*c.buf)[c.off:c.end])
		if n > 0 {
			c.off += n
		}
	}
	if c.pending() == 0 {
		m.release(c)
	}
	return max(n, 0), err
}

// release returns what the chunk borrowed. A pipe still holding bytes (a
// tunnel that ended mid-chunk) is closed rather than pooled.
func (m *mover) release(c *chunk) {
	if c.buf != nil {
		m.bufs.Put(c.buf)
		c.buf, c.off, c.end = nil, 0, 0
	}
	if c.pipe != nil {
		if c.inPipe > 0 {
			c.pipe.close()
		} else {
			m.pipes.put(c.pipe)
		}
		c.pipe, c.inPipe = nil, 0
	}
}

// pipePool keeps a few idle pipes. Pipes are file descriptors, so the pool
// is small and explicit (a sync.Pool would drop them to the garbage
// collector without closing them).
type pipePool struct {
	mu   sync.Mutex
	idle []*pipe
	max  int
}

func (pp *pipePool) get() (*pipe, error) {
	pp.mu.Lock()
	if n := len(pp.idle); n > 0 {
		p := pp.idle[n-1]
		pp.idle = pp.idle[:n-1]
		pp.mu.Unlock()
		return p, nil
	}
	pp.mu.Unlock()
	return newPipe()
}

func (pp *pipePool) put(p *pipe) {
	pp.mu.Lock()
	if len(pp.idle) < pp.max {
		pp.idle = append(pp.idle, p)
		p = nil
	}
	pp.mu.Unlock()
	if p != nil {
		p.close()
	}
}

func (pp *pipePool) closeIdle() {
	pp.mu.Lock()
	idle := pp.idle
	pp.idle = nil
	pp.mu.Unlock()
	for _, p := range idle {
		p.close()
	}
}
