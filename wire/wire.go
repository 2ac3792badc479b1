// Package wire holds what the echo backend and the load generator agree on
// beyond RFC 6455 (which package frame covers): the response headers that
// name the backend and say what it was offered, the subprotocol it speaks,
// the header at the start of every /push message, the largest push rate,
// and how a hello message starts. Both sides import these definitions, so
// neither has to import the other.
package wire

import (
	"encoding/binary"
	"strings"
)

// BackendHeader is the response header of every 101 that names the
// backend, so a client can tell which backend a proxy chose.
const BackendHeader = "X-Wsbench-Backend"

// The echo backend's 101 says what the request it got offered, so a client
// can tell whether a proxy passed its offer on (the standard response
// headers only say what was agreed, which a proxy may answer itself):
// ProtocolsSeenHeader carries every Sec-WebSocket-Protocol value the
// backend received, ExtensionsSeenHeader every Sec-WebSocket-Extensions
// value, each joined with ", " as one list. Absent when there were none.
const (
	ProtocolsSeenHeader  = "X-Wsbench-Protocols-Seen"
	ExtensionsSeenHeader = "X-Wsbench-Extensions-Seen"
)

// Subprotocol is the subprotocol the echo backend speaks unless told
// otherwise (wsbench echo --subprotocols): echoing is all it means.
const Subprotocol = "wsbench.echo"

// List splits a comma-separated header value (RFC 9110 section 5.6.1)
// into its items, trimmed, empty ones left out.
func List(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

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
