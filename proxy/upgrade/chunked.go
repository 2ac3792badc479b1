package upgrade

import "net/http"

// ChunkedEnd finds where a chunked body ends (RFC 9112 section 7.1) without
// decoding it, so a proxy can pass a refused handshake's body to the client
// byte for byte and then close, instead of waiting for a backend that keeps
// its connection open. Lines must end in CRLF, as net/http also insists for
// chunked framing. The zero value is ready for the first byte.
type ChunkedEnd struct {
	state  chunkState
	size   uint64 // chunk size being parsed, then data bytes left
	digits int
	line   int // bytes in the current size line, bounded like net/http's
}

type chunkState uint8

const (
	chSize chunkState = iota
	chExt
	chSizeWS
	chSizeLF
	chData
	chDataCR
	chDataLF
	chTrailerStart
	chTrailer
	chTrailerLF
	chFinalLF
	chDone
)

// maxSizeLine bounds a chunk-size line with its extensions.
const maxSizeLine = 4096

// Scan consumes the next bytes of the body. It returns how many of them
// belong to the body and whether the body is complete; once done, bytes
// after n are not part of it. A framing error is an *Error with Status 502.
func (c *ChunkedEnd) Scan(b []byte) (n int, done bool, err error) {
	for n < len(b) && c.state != chDone {
		if c.state == chData {
			k := min(uint64(len(b)-n), c.size)
			n += int(k)
			if c.size -= k; c.size == 0 {
				c.state = chDataCR
			}
			continue
		}
		if err := c.step(b[n]); err != nil {
			return n, false, err
		}
		n++
	}
	return n, c.state == chDone, nil
}

// expect moves to next if ch is want, and fails with what otherwise.
func (c *ChunkedEnd) expect(ch, want byte, next chunkState, what string) error {
	if ch != want {
		return badChunk(what)
	}
	c.state = next
	return nil
}

func (c *ChunkedEnd) step(ch byte) error {
	switch c.state {
	case chSize, chExt, chSizeWS:
		return c.sizeLine(ch)
	case chSizeLF:
		if ch != '\n' {
			return badChunk("CR without LF after the chunk size")
		}
		return c.endSizeLine()
	case chDataCR:
		return c.expect(ch, '\r', chDataLF, "chunk data longer than its size")
	case chDataLF:
		return c.expect(ch, '\n', chSize, "CR without LF after chunk data")
	case chTrailerStart:
		c.state = chTrailer
		if ch == '\r' {
			c.state = chFinalLF
		}
	case chTrailer:
		if ch == '\r' {
			c.state = chTrailerLF
		}
	case chTrailerLF:
		return c.expect(ch, '\n', chTrailerStart, "CR without LF in the trailer section")
	case chFinalLF:
		return c.expect(ch, '\n', chDone, "CR without LF after the trailer section")
	}
	return nil
}

// sizeLine consumes one byte of "HEX [; ext] CRLF" (whitespace allowed only
// before the CRLF, as net/http reads it).
func (c *ChunkedEnd) sizeLine(ch byte) error {
	if c.line++; c.line > maxSizeLine {
		return badChunk("chunk size line longer than 4096 bytes")
	}
	switch {
	case ch == '\r':
		c.state = chSizeLF
	case ch == '\n':
		return badChunk("chunk size line ends in a bare LF")
	case c.state == chExt:
	case ch == ' ' || ch == '\t':
		c.state = chSizeWS // only more whitespace may follow, as net/http reads it
	case c.state == chSizeWS:
		return badChunk("chunk size line has a character after trailing whitespace")
	case ch == ';':
		c.state = chExt
	default:
		d, ok := hexDigit(ch)
		if !ok {
			return badChunk("chunk size has a non-hex character")
		}
		if c.digits == 15 {
			return badChunk("chunk size has more than 15 hex digits")
		}
		c.size, c.digits = c.size<<4|uint64(d), c.digits+1
	}
	return nil
}

func (c *ChunkedEnd) endSizeLine() error {
	if c.digits == 0 {
		return badChunk("chunk size line without a size")
	}
	c.digits, c.line = 0, 0
	c.state = chData
	if c.size == 0 {
		c.state = chTrailerStart
	}
	return nil
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func badChunk(reason string) error {
	return errorf(http.StatusBadGateway, "backend chunked body: %s", reason)
}
