// Package frame is a zero-allocation RFC 6455 frame codec built on gobwas/ws
// types, shared by the echo backend and the load generator.
//
// Both sides read into a buffer they own and hand it to a Decoder, which
// returns one complete message or control frame at a time, pointing into that
// buffer (unmasked in place). Fragmented messages are reassembled in the
// Decoder's own buffer, which is reused from message to message. A protocol
// violation comes back as an *Error carrying the close code RFC 6455
// prescribes (1002, 1007, 1009), so the caller can answer with a close frame
// instead of just dropping the connection:
//
//	var d frame.Decoder // zero value: client role, 16 MiB message limit
//	for {
//		msg, n, err := d.Decode(buf[r:w])
//		if err != nil { /* send close err.Code, then close */ }
//		if n == 0 { /* read more bytes (d.Pending says how many a frame needs) */ }
//		r += n
//		if msg.Op != 0 { /* handle msg */ }
//	}
//
// Frames are written with AppendFrame into a caller-owned slice, so a batch
// of replies can leave in one write(2).
//
// Once a handshake agreed permessage-deflate (RFC 7692), Decoder.Deflate
// accepts the compressed bit and Decoder.Compressed reports it; a Deflater
// and an Inflater per direction compress and inflate message payloads,
// with or without context takeover.
package frame
