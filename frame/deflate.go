package frame

import (
	"bytes"
	"compress/flate"
	"io"
	"slices"
	"strings"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// Per-message compression (RFC 7692 permessage-deflate) for one direction
// of one connection: a Deflater on the sending side, an Inflater on the
// receiving side. gobwas/ws/wsflate does the framing rules (the sync-flush
// tail stripped from each message, appended again before inflating); the
// DEFLATE coder is Go's compress/flate.
//
// Context takeover, the default of the extension, keeps the LZ77 window of
// earlier messages, so a message like the last one compresses to a few
// bytes; "no context takeover" (client_no_context_takeover,
// server_no_context_takeover) starts every message afresh. Each end keeps
// what it agreed in the handshake for the direction it sends and the one
// it receives.

// DeflateLevel is the compression level of every Deflater: the fastest,
// so that what wsbench measures is what compression costs at least.
const DeflateLevel = flate.BestSpeed

// windowSize is the LZ77 window: permessage-deflate's default
// (server_max_window_bits and client_max_window_bits 15), the only one
// compress/flate writes.
const windowSize = wsflate.MaxLZ77WindowSize

// Compressed is the Rsv of the first frame of a compressed message (RSV1),
// for AppendHeader.
var Compressed = ws.Rsv(true, false, false)

// ExtensionText renders extension options as gobwas/ws writes them into
// Sec-WebSocket-Extensions ("permessage-deflate;client_no_context_takeover"),
// for results and hello messages to quote.
func ExtensionText(opts ...httphead.Option) string {
	var b strings.Builder
	_, _ = httphead.WriteOptions(&b, opts) // a strings.Builder does not fail
	return b.String()
}

// Deflater compresses the messages one endpoint sends. Its buffers are
// reused from message to message; a compress/flate writer holds about 1 MB.
type Deflater struct {
	w   *wsflate.Writer
	c   compressor
	out appendWriter
}

// NewDeflater returns a Deflater; contextTakeover false starts every
// message with an empty window (the peer asked for no_context_takeover).
func NewDeflater(contextTakeover bool) *Deflater {
	d := &Deflater{c: compressor{takeover: contextTakeover}}
	d.c.fw, _ = flate.NewWriter((*sink)(&d.c), DeflateLevel) // errors only for a bad level
	d.w = wsflate.NewWriter(nil, func(w io.Writer) wsflate.Compressor { d.c.dst = w; return &d.c })
	return d
}

// Append appends p compressed, the payload of a message sent with RSV1
// set, to dst.
func (d *Deflater) Append(dst, p []byte) []byte {
	d.out.b = dst
	d.w.Reset(&d.out)
	_, _ = d.w.Write(p)
	// The writers are memory and the level is valid: compress/flate
	// cannot fail here, and wsflate only if flate ended its flush without
	// the sync marker, which it always writes.
	_ = d.w.Flush()
	dst, d.out.b = d.out.b, nil
	return dst
}

// compressor is the flate writer wsflate.Writer drives. wsflate resets its
// compressor before every message; under context takeover the reset only
// points the output at the new message, so the window of the earlier
// ones stays.
type compressor struct {
	fw       *flate.Writer
	dst      io.Writer
	takeover bool
}

func (c *compressor) Write(p []byte) (int, error) { return c.fw.Write(p) }
func (c *compressor) Flush() error                { return c.fw.Flush() }

// Reset implements wsflate.WriteResetter.
func (c *compressor) Reset(w io.Writer) {
	c.dst = w
	if !c.takeover {
		c.fw.Reset((*sink)(c))
	}
}

// sink is where the flate writer writes: whatever the compressor was last
// pointed at.
type sink compressor

func (s *sink) Write(p []byte) (int, error) { return s.dst.Write(p) }

type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) { a.b = append(a.b, p...); return len(p), nil }

// Inflater decompresses the messages one endpoint receives.
type Inflater struct {
	r        *wsflate.Reader
	d        decompressor
	src      bytes.Reader
	out      []byte
	max      int64
	takeover bool
	window   []byte // under context takeover: what earlier messages inflated to, the last windowSize bytes of it at the end
}

// NewInflater returns an Inflater whose messages may inflate to at most
// max bytes (0: DefaultMaxMessage); contextTakeover false expects every
// message to start with an empty window.
func NewInflater(contextTakeover bool, max int64) *Inflater {
	if max <= 0 {
		max = DefaultMaxMessage
	}
	f := &Inflater{max: max, takeover: contextTakeover}
	f.d.fr = flate.NewReader(nil)
	f.r = wsflate.NewReader(nil, func(r io.Reader) wsflate.Decompressor { f.d.Reset(r); return &f.d })
	return f
}

// Inflate returns the message whose compressed payload is p. The result
// is valid until the next call. Data that does not inflate is
// ErrBadDeflate, a message over the limit ErrMessageTooBig; after either
// the connection is to be failed with the error's code.
func (f *Inflater) Inflate(p []byte) ([]byte, error) {
	f.d.dict = nil
	if f.takeover {
		f.d.dict = f.window[max(0, len(f.window)-windowSize):]
	}
	f.src.Reset(p)
	f.r.Reset(&f.src)
	out := f.out[:0]
	for {
		if len(out) == cap(out) { // double, up to one byte past the limit
			out = slices.Grow(out, int(min(int64(max(512, cap(out))), f.max+1-int64(len(out)))))
		}
		n, err := f.r.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if int64(len(out)) > f.max {
			f.out = out[:0]
			return nil, ErrMessageTooBig
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			f.out = out[:0]
			return nil, ErrBadDeflate
		}
	}
	f.out = out
	if f.takeover {
		f.keep(out)
	}
	return out, nil
}

// keep adds what a message inflated to to the window, sliding it in
// chunks so that the bytes moved stay proportional to the bytes added.
func (f *Inflater) keep(out []byte) {
	if len(out) >= windowSize {
		f.window = append(f.window[:0], out[len(out)-windowSize:]...)
		return
	}
	if len(f.window)+len(out) > 2*windowSize {
		n := copy(f.window, f.window[len(f.window)-windowSize:])
		f.window = f.window[:n]
	}
	f.window = append(f.window, out...)
}

// decompressor is the flate reader wsflate.Reader drives: reset for each
// message onto its bytes, with the window of the earlier messages as its
// dictionary under context takeover.
type decompressor struct {
	fr   io.ReadCloser
	dict []byte
}

func (d *decompressor) Read(p []byte) (int, error) { return d.fr.Read(p) }

// Reset implements wsflate.ReadResetter.
func (d *decompressor) Reset(r io.Reader) {
	_ = d.fr.(flate.Resetter).Reset(r, d.dict) // always nil: the error is for a reader that is not a flate reader
}
