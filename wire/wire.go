// Package wire holds what the echo backend and the load generator agree on
// beyond RFC 6455 (which package frame covers): the response header that
// names the backend, the header at the start of every /push message, the
// largest push rate, and how a hello message starts. Both sides import
// these definitions, so neither has to import the other.
package wire

import "encoding/binary"

// BackendHeader is the response header of every 101 that names the
// backend, so a client can tell which backend a proxy chose.
const BackendHeader = "X-Wsbench-Backend"

// HelloPrefix is how the JSON of a hello message (the echo backend's
// ?hello=1 first message) starts: the backend id is its first field. The
// load generator tells hellos from echoed data by it.
const HelloPrefix = `{"backend"`

// MaxPushRate is the most /push messages per second the echo backend sends
// on one connection.
const MaxPushRate = 1_000_000

// PushHeaderSize is the size of the header at the start of every /push
// message: the send time and a per-connection sequence number.
const PushHeaderSize = 16

// PutPushHeader writes the push header into p[:16]: the send time as Unix
// nanoseconds (wall clock, so a receiver on the same host can compute a
// one-way latency) and seq, both big endian. It panics if p is shorter than
// PushHeaderSize, like binary.BigEndian does.
func PutPushHeader(p []byte, sentUnixNano int64, seq uint64) {
	binary.BigEndian.PutUint64(p[0:8], uint64(sentUnixNano))
	binary.BigEndian.PutUint64(p[8:16], seq)
}

// ParsePushHeader reads the push header from the start of p. ok is false
// when p is too short to hold one.
func ParsePushHeader(p []byte) (sentUnixNano int64, seq uint64, ok bool) {
	if len(p) < PushHeaderSize {
		return 0, 0, false
	}
	return int64(binary.BigEndian.Uint64(p[0:8])), binary.BigEndian.Uint64(p[8:16]), true
}
