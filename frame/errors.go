package frame

import "github.com/gobwas/ws"

// Error is a protocol violation found while decoding. Code is the close
// status the receiving endpoint must send (RFC 6455 section 7.4.1).
type Error struct {
	Code   ws.StatusCode
	Reason string
}

func (e *Error) Error() string { return "frame: " + e.Reason }

// Protocol errors, each with the close code RFC 6455 assigns to it.
var (
	ErrUnmaskedClientFrame = &Error{ws.StatusProtocolError, "client frame is not masked"}
	ErrMaskedServerFrame   = &Error{ws.StatusProtocolError, "server frame is masked"}
	ErrReservedBits        = &Error{ws.StatusProtocolError, "reserved bits set without a negotiated extension"}
	ErrReservedOpCode      = &Error{ws.StatusProtocolError, "reserved opcode"}
	ErrControlTooLong      = &Error{ws.StatusProtocolError, "control frame payload longer than 125 bytes"}
	ErrControlFragmented   = &Error{ws.StatusProtocolError, "control frame is fragmented"}
	ErrLengthMSB           = &Error{ws.StatusProtocolError, "64-bit payload length has its most significant bit set"}
	ErrUnexpectedContinue  = &Error{ws.StatusProtocolError, "continuation frame without a message to continue"}
	ErrExpectedContinue    = &Error{ws.StatusProtocolError, "new data frame while a fragmented message is open"}
	ErrCloseLength         = &Error{ws.StatusProtocolError, "close frame payload of 1 byte"}
	ErrCloseCode           = &Error{ws.StatusProtocolError, "close frame with an invalid status code"}
	ErrCloseReasonUTF8     = &Error{ws.StatusInvalidFramePayloadData, "close reason is not valid UTF-8"}
	ErrTextUTF8            = &Error{ws.StatusInvalidFramePayloadData, "text message is not valid UTF-8"}
	ErrMessageTooBig       = &Error{ws.StatusMessageTooBig, "message larger than the limit"}
	// RFC 7692 section 6: RSV1 only on the first frame of a data message,
	// and compressed data that does not inflate, fail the connection.
	ErrCompressedBit = &Error{ws.StatusProtocolError, "RSV1 (compressed) on a control frame or a continuation"}
	ErrBadDeflate    = &Error{ws.StatusProtocolError, "compressed message does not inflate"}
)
