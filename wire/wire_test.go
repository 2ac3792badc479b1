package wire

import (
	"slices"
	"testing"
)

func TestPushHeaderRoundTrip(t *testing.T) {
	p := make([]byte, PushHeaderSize+3)
	PutPushHeader(p, -42, 1<<63+7)
	sent, seq, ok := ParsePushHeader(p)
	if !ok || sent != -42 || seq != 1<<63+7 {
		t.Fatalf("got %d, %d, %v; want -42, %d, true", sent, seq, ok, uint64(1<<63+7))
	}
	if _, _, ok := ParsePushHeader(p[:PushHeaderSize-1]); ok {
		t.Fatal("a 15-byte message parsed as a push header")
	}
}

// FuzzParsePushHeader: any input parses or is refused without a panic,
// and what parses writes back to the same 16 bytes.
func FuzzParsePushHeader(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, PushHeaderSize))
	f.Add([]byte("0123456789abcdefXYZ"))
	f.Fuzz(func(t *testing.T, p []byte) {
		sent, seq, ok := ParsePushHeader(p)
		if ok != (len(p) >= PushHeaderSize) {
			t.Fatalf("ok %v for %d bytes", ok, len(p))
		}
		if !ok {
			return
		}
		q := make([]byte, PushHeaderSize)
		PutPushHeader(q, sent, seq)
		if string(q) != string(p[:PushHeaderSize]) {
			t.Fatalf("round trip %x, want %x", q, p[:PushHeaderSize])
		}
	})
}

func TestList(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{" a ,b,, permessage-deflate; client_no_context_takeover ,", []string{"a", "b", "permessage-deflate; client_no_context_takeover"}},
	} {
		if got := List(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("List(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
