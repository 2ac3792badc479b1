package frame

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/gobwas/ws"
)

// textish makes n bytes of pseudo-text from words, as chat or JSON traffic
// looks to a compressor: repetitive, not constant.
func textish(rng *rand.Rand, n int) []byte {
	words := []string{"the ", "message ", "websocket ", `{"id":`, "42, ", `"ok":true}`, "proxy ", "frame "}
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
	}
	return b.Bytes()[:n]
}

// Messages compressed by a Deflater inflate to themselves, with and
// without context takeover, over sizes across the 128-byte and window
// boundaries; under takeover, a repeated random message compresses to far
// less than the first time (the window of earlier messages is used), and
// without it every copy costs the same.
func TestDeflateRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var msgs [][]byte
	for _, n := range []int{1, 64, 127, 128, 1000, 40 << 10, 100 << 10, 5} {
		msgs = append(msgs, textish(rng, n))
	}
	for _, takeover := range []bool{true, false} {
		t.Run(fmt.Sprintf("takeover=%v", takeover), func(t *testing.T) {
			d, f := NewDeflater(takeover), NewInflater(takeover, 0)
			for i, m := range msgs {
				z := d.Append(nil, m)
				got, err := f.Inflate(z)
				if err != nil || !bytes.Equal(got, m) {
					t.Fatalf("message %d (%d bytes): inflated to %d bytes, %v", i, len(m), len(got), err)
				}
			}
			m := make([]byte, 4000) // random: only the window of the last copy compresses it
			for i := range m {
				m[i] = byte(rng.Uint32())
			}
			var first int
			var again []byte
			for i := 0; i < 2; i++ { // the inflater sees every message, in order
				again = d.Append(nil, m)
				if got, err := f.Inflate(again); err != nil || !bytes.Equal(got, m) {
					t.Fatalf("copy %d of a message: %v", i, err)
				}
				if i == 0 {
					first = len(again)
				}
			}
			if takeover && len(again)*2 > first {
				t.Errorf("with context takeover the repeat took %d bytes, the first %d: want the window used", len(again), first)
			}
			if !takeover && len(again) != first {
				t.Errorf("without context takeover the repeat took %d bytes, the first %d: want the same", len(again), first)
			}
		})
	}
}

// What the Deflater writes is RFC 7692 on the wire: the sync-flush tail
// stripped, so appending it gives a stream any raw DEFLATE reader reads.
func TestDeflateIsRawDeflateWithoutTail(t *testing.T) {
	m := []byte("hello hello hello hello")
	z := NewDeflater(false).Append([]byte("prefix"), m)
	if !bytes.HasPrefix(z, []byte("prefix")) {
		t.Fatalf("Append overwrote dst: %q", z)
	}
	z = z[len("prefix"):]
	if bytes.HasSuffix(z, []byte{0, 0, 0xff, 0xff}) {
		t.Fatalf("the sync-flush tail was left on: % x", z)
	}
	got, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(z), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}))))
	if err != nil || !bytes.Equal(got, m) {
		t.Fatalf("raw inflate: %q, %v", got, err)
	}
}

// An Inflater refuses data that does not inflate and a message that
// inflates past its limit (a small frame that would fill memory), each
// with the error whose close code fails the connection.
func TestInflateErrors(t *testing.T) {
	bomb := NewDeflater(false).Append(nil, make([]byte, 1<<20))
	tests := []struct {
		name string
		max  int64
		in   []byte
		want *Error
	}{
		{"garbage", 0, []byte{0xff, 0xff, 0xff, 0xff, 0x00}, ErrBadDeflate},
		{"over the limit", 64 << 10, bomb, ErrMessageTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewInflater(true, tt.max)
			_, err := f.Inflate(tt.in)
			var fe *Error
			if !errors.As(err, &fe) || fe != tt.want {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if len(bomb) > 2<<10 {
				t.Fatalf("a 1 MiB run of zeros compressed to %d bytes: not a bomb", len(bomb))
			}
		})
	}
	// Within its limit the same Inflater goes on working.
	f := NewInflater(false, 2<<20)
	if got, err := f.Inflate(bomb); err != nil || len(got) != 1<<20 {
		t.Fatalf("1 MiB within a 2 MiB limit: %d bytes, %v", len(got), err)
	}
}

// With Deflate, RSV1 marks the first frame of a compressed message
// (Compressed says so after its Decode),
// fragmented or not; on a control frame or a continuation it is a protocol
// error, and without Deflate any RSV bit still is.
func TestDecodeCompressedBit(t *testing.T) {
	z := NewDeflater(false).Append(nil, []byte("héllo héllo"))
	compressed := func(fin bool, op ws.OpCode, p []byte) []byte {
		b := clientFrame(fin, op, p)
		b[0] |= 0x40
		return b
	}
	stream := bytes.Join([][]byte{
		compressed(true, ws.OpText, z),
		clientFrame(true, ws.OpPing, nil), // a control frame is never compressed
		compressed(false, ws.OpText, z[:3]),
		clientFrame(true, ws.OpContinuation, z[3:]),
		clientFrame(true, ws.OpText, []byte("plain")),
	}, nil)
	d := Decoder{Server: true, Deflate: true}
	var got []Message
	var gotZ []bool
	for b := stream; len(b) > 0; {
		msg, n, err := d.Decode(b)
		if err != nil || n == 0 {
			t.Fatalf("after %d messages: n %d, %v", len(got), n, err)
		}
		b = b[n:]
		if msg.Op != 0 {
			got, gotZ = append(got, Message{Op: msg.Op, Payload: append([]byte(nil), msg.Payload...)}), append(gotZ, d.Compressed())
		}
	}
	if len(got) != 4 {
		t.Fatalf("decoded %d messages, want 4", len(got))
	}
	f := NewInflater(false, 0)
	for i, want := range []bool{true, false, true, false} {
		if got := gotZ[i]; got != want {
			t.Errorf("message %d: Compressed %v, want %v", i, got, want)
		}
		if want && got[i].Op == ws.OpText {
			if p, err := f.Inflate(got[i].Payload); err != nil || string(p) != "héllo héllo" {
				t.Errorf("message %d inflated to %q, %v", i, p, err)
			}
		}
	}
	for _, tt := range []struct {
		name    string
		deflate bool
		in      []byte
		want    *Error
	}{
		{"compressed ping", true, compressed(true, ws.OpPing, nil), ErrCompressedBit},
		{"compressed continuation", true, append(clientFrame(false, ws.OpBinary, []byte("a")), compressed(true, ws.OpContinuation, []byte("b"))...), ErrCompressedBit},
		{"RSV1 not negotiated", false, compressed(true, ws.OpBinary, z), ErrReservedBits},
		{"RSV2 with deflate", true, func() []byte { b := clientFrame(true, ws.OpBinary, nil); b[0] |= 0x20; return b }(), ErrReservedBits},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := Decoder{Server: true, Deflate: tt.deflate}
			_, err := decodeAll(&d, tt.in)
			var fe *Error
			if !errors.As(err, &fe) || fe != tt.want || fe.Code != ws.StatusProtocolError {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// Whatever bytes come in, Inflate returns an error or a message within its
// limit, and never panics; what a Deflater made inflates back.
func FuzzInflate(f *testing.F) {
	f.Add([]byte("hello"), true)
	f.Add(NewDeflater(true).Append(nil, []byte("hello hello")), false)
	f.Fuzz(func(t *testing.T, b []byte, takeover bool) {
		in := NewInflater(takeover, 1<<16)
		if p, err := in.Inflate(b); err == nil && len(p) > 1<<16 {
			t.Fatalf("inflated to %d bytes past the limit", len(p))
		}
		if len(b) > 1<<16 {
			return
		}
		d, again := NewDeflater(takeover), NewInflater(takeover, 1<<16)
		for i := 0; i < 2; i++ {
			if p, err := again.Inflate(d.Append(nil, b)); err != nil || !bytes.Equal(p, b) {
				t.Fatalf("round trip %d: %v", i, err)
			}
		}
	})
}

// BenchmarkDeflate is what compressing and inflating one message costs at
// each end, with and without context takeover.
func BenchmarkDeflate(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{64, 1024, 16 << 10} {
		m := textish(rng, size)
		for _, takeover := range []bool{true, false} {
			b.Run(fmt.Sprintf("size=%d/takeover=%v", size, takeover), func(b *testing.B) {
				d, f := NewDeflater(takeover), NewInflater(takeover, 0)
				var z []byte
				b.ReportAllocs()
				b.SetBytes(int64(size))
				for i := 0; i < b.N; i++ {
					z = d.Append(z[:0], m)
					if _, err := f.Inflate(z); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(z))/float64(size), "ratio")
			})
		}
	}
}
