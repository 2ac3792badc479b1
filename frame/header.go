package frame

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// ParseHeader decodes the frame header at the start of b. It returns the
// header and its encoded length; n == 0 with a nil error means b holds only
// part of a header. It never allocates.
func ParseHeader(b []byte) (h ws.Header, n int, err error) {
	if len(b) < 2 {
		return h, 0, nil
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = (b[0] & 0x70) >> 4
	h.OpCode = ws.OpCode(b[0] & 0x0f)
	h.Masked = b[1]&0x80 != 0
	n = 2
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < 4 {
			return h, 0, nil
		}
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		n = 4
	case 127:
		if len(b) < 10 {
			return h, 0, nil
		}
		v := binary.BigEndian.Uint64(b[2:10])
		if v>>63 != 0 {
			return h, 0, ErrLengthMSB
		}
		h.Length = int64(v)
		n = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, nil
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	return h, n, nil
}

// HeaderLen is the encoded size of a header for a payload of length l.
func HeaderLen(l int64, masked bool) int {
	n := 2
	switch {
	case l > 0xffff:
		n += 8
	case l > 125:
		n += 2
	}
	if masked {
		n += 4
	}
	return n
}

// AppendHeader appends the wire form of h to dst.
func AppendHeader(dst []byte, h ws.Header) []byte {
	b0 := byte(h.OpCode&0x0f) | h.Rsv<<4
	if h.Fin {
		b0 |= 0x80
	}
	var m byte
	if h.Masked {
		m = 0x80
	}
	switch {
	case h.Length > 0xffff:
		dst = append(dst, b0, m|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(h.Length))
	case h.Length > 125:
		dst = append(dst, b0, m|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(h.Length))
	default:
		dst = append(dst, b0, m|byte(h.Length))
	}
	if h.Masked {
		dst = append(dst, h.Mask[:]...)
	}
	return dst
}

// AppendFrame appends one final frame with opcode op carrying payload. With
// a non-nil mask the payload is masked with it, as a client must do.
func AppendFrame(dst []byte, op ws.OpCode, payload []byte, mask *[4]byte) []byte {
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(payload))}
	if mask != nil {
		h.Masked, h.Mask = true, *mask
	}
	dst = AppendHeader(dst, h)
	start := len(dst)
	dst = append(dst, payload...)
	if mask != nil {
		ws.Cipher(dst[start:], *mask, 0)
	}
	return dst
}

// AppendClose appends a close frame with code and reason (reason is cut to
// fit the 125-byte control payload). A zero code sends an empty body.
func AppendClose(dst []byte, code ws.StatusCode, reason string, mask *[4]byte) []byte {
	var body [125]byte
	n := 0
	if code != 0 {
		binary.BigEndian.PutUint16(body[:2], uint16(code))
		n = 2 + copy(body[2:], reason)
	}
	return AppendFrame(dst, ws.OpClose, body[:n], mask)
}

// ParseClose reads the status code and reason of a close frame body that
// Decode has already validated. An empty body reports StatusNoStatusRcvd.
func ParseClose(payload []byte) (ws.StatusCode, []byte) {
	if len(payload) < 2 {
		return ws.StatusNoStatusRcvd, nil
	}
	return ws.StatusCode(binary.BigEndian.Uint16(payload)), payload[2:]
}
