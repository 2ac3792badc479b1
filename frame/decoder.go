package frame

import (
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// DefaultMaxMessage is the message size limit of a zero Decoder.
const DefaultMaxMessage = 16 << 20

// keepFragCap is the largest reassembly buffer kept between messages.
const keepFragCap = 64 << 10

// Message is one complete data message or one control frame. Payload points
// into the buffer given to Decode (already unmasked) or into the Decoder's
// reassembly buffer; it is valid until the next call to Decode.
type Message struct {
	Op      ws.OpCode
	Payload []byte
}

// Decoder reassembles messages from frames and enforces RFC 6455's rules.
// Its zero value decodes frames sent by a server (unmasked), with a 16 MiB
// message limit.
type Decoder struct {
	// Server makes the decoder expect masked frames, as a server receives.
	Server bool
	// MaxMessage limits a message's total payload; 0 means DefaultMaxMessage.
	MaxMessage int64
	// Deflate accepts RSV1 on the first frame of a data message, which
	// marks the message compressed (RFC 7692 permessage-deflate, once the
	// handshake agreed it). Without it RSV1 is a protocol error.
	Deflate bool

	fragOp     ws.OpCode // opcode of the open fragmented message, 0 if none
	frag       []byte    // its payload so far; reused across messages
	fragZ      bool      // the open fragmented message is compressed
	compressed bool      // the last data message returned was (Compressed)
	done       bool      // frag was returned as a message and is to be cleared
	pending    int       // size of the frame Decode last found incomplete
}

// Pending reports how many bytes the frame at the start of the last buffer
// given to Decode needs in all (header and payload), once its header was
// readable; a caller grows its read buffer to at least this.
func (d *Decoder) Pending() int { return d.pending }

// Compressed reports whether the message Decode last returned came with
// RSV1 set (Deflate): its Payload is DEFLATE data, for an Inflater, and a
// compressed text message is not checked for UTF-8 (check what it
// inflates to). A control frame never is. (A field of Message would say
// the same, but makes every Decode measurably slower.)
func (d *Decoder) Compressed() bool { return d.compressed }

// Reset drops any partially reassembled message.
func (d *Decoder) Reset() {
	d.fragOp, d.fragZ, d.frag, d.done, d.pending = 0, false, d.frag[:0], false, 0
}

func (d *Decoder) limit() int64 {
	if d.MaxMessage > 0 {
		return d.MaxMessage
	}
	return DefaultMaxMessage
}

// Decode consumes the first frame in b. It returns n == 0 when b does not yet
// hold a whole frame, and msg.Op == 0 when the frame was consumed but did not
// complete a message (a non-final fragment). It unmasks payloads in place,
// so it writes to b.
func (d *Decoder) Decode(b []byte) (msg Message, n int, err error) {
	if d.done {
		d.frag, d.done = d.frag[:0], false
		if cap(d.frag) > keepFragCap {
			d.frag = nil // one large fragmented message must not pin memory for the connection's life
		}
	}
	h, hn, err := ParseHeader(b)
	if err != nil || hn == 0 {
		d.pending = 0
		return msg, 0, err
	}
	if err := d.check(h); err != nil {
		return msg, 0, err
	}
	total := hn + int(h.Length)
	if len(b) < total {
		d.pending = total
		return msg, 0, nil
	}
	d.pending = 0
	payload := b[hn:total]
	if h.Masked {
		ws.Cipher(payload, h.Mask, 0)
	}
	msg, err = d.assemble(h, payload)
	return msg, total, err
}

// check validates a header before its payload is buffered, so a peer cannot
// make the caller allocate for a frame that will be refused anyway.
func (d *Decoder) check(h ws.Header) error {
	switch {
	case h.Masked != d.Server && d.Server:
		return ErrUnmaskedClientFrame
	case h.Masked != d.Server:
		return ErrMaskedServerFrame
	case h.Rsv != 0:
		return d.checkRsv(h)
	case h.OpCode.IsReserved():
		return ErrReservedOpCode
	}
	if h.OpCode.IsControl() {
		if h.Length > 125 {
			return ErrControlTooLong
		}
		if !h.Fin {
			return ErrControlFragmented
		}
		return nil
	}
	if h.OpCode == ws.OpContinuation && d.fragOp == 0 {
		return ErrUnexpectedContinue
	}
	if h.OpCode != ws.OpContinuation && d.fragOp != 0 {
		return ErrExpectedContinue
	}
	if h.Length > d.limit() || int64(len(d.frag))+h.Length > d.limit() {
		return ErrMessageTooBig
	}
	return nil
}

// checkRsv allows RSV1 on the first frame of a data message, once
// permessage-deflate was agreed (Deflate); every other RSV bit is an error.
func (d *Decoder) checkRsv(h ws.Header) error {
	switch {
	case h.Rsv != rsv1 || !d.Deflate:
		return ErrReservedBits
	case h.OpCode != ws.OpText && h.OpCode != ws.OpBinary:
		return ErrCompressedBit
	}
	return nil
}

func (d *Decoder) assemble(h ws.Header, payload []byte) (Message, error) {
	switch {
	case h.OpCode == ws.OpClose:
		d.compressed = false
		return Message{Op: ws.OpClose, Payload: payload}, checkClose(payload)
	case h.OpCode.IsControl():
		d.compressed = false
		return Message{Op: h.OpCode, Payload: payload}, nil
	case h.OpCode != ws.OpContinuation && h.Fin && h.Rsv != 0: // compressed (check allowed only RSV1)
		d.compressed = true
		return Message{Op: h.OpCode, Payload: payload}, nil
	case h.OpCode != ws.OpContinuation && h.Fin:
		d.compressed = false
		return complete(h.OpCode, payload)
	case h.OpCode != ws.OpContinuation:
		d.fragOp, d.fragZ = h.OpCode, h.Rsv == rsv1
		d.frag = append(d.frag[:0], payload...)
		return Message{}, nil
	}
	d.frag = append(d.frag, payload...)
	if !h.Fin {
		return Message{}, nil
	}
	op := d.fragOp
	d.fragOp, d.done = 0, true
	if d.fragZ {
		d.compressed = true
		return Message{Op: op, Payload: d.frag}, nil
	}
	d.compressed = false
	return complete(op, d.frag)
}

// rsv1 is the Rsv of a header with only RSV1 set, as ParseHeader reads it.
const rsv1 = 4

// complete is an uncompressed message, its text checked for UTF-8 (a
// compressed one is checked once inflated). Small enough to be inlined.
func complete(op ws.OpCode, payload []byte) (Message, error) {
	if op == ws.OpText && !utf8.Valid(payload) {
		return Message{}, ErrTextUTF8
	}
	return Message{Op: op, Payload: payload}, nil
}

func checkClose(p []byte) error {
	switch {
	case len(p) == 0:
		return nil
	case len(p) == 1:
		return ErrCloseLength
	}
	code, reason := ParseClose(p)
	if !ValidCloseCode(code) {
		return ErrCloseCode
	}
	if !utf8.Valid(reason) {
		return ErrCloseReasonUTF8
	}
	return nil
}

// ValidCloseCode reports whether an endpoint may send code in a close
// frame: the RFC 6455 codes (7.4.1), the IANA-registered 1012-1014, and the
// 3000-4999 ranges (7.4.2). 1004-1006 and 1015 are reserved and never valid
// on the wire.
func ValidCloseCode(c ws.StatusCode) bool {
	switch {
	case c >= 3000 && c <= 4999:
		return true
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014:
		return true
	}
	return false
}
