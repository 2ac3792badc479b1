package frame

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/gobwas/ws"
)

var testMask = [4]byte{0x11, 0x22, 0x33, 0x44}

// clientFrame builds a masked frame as a client sends it.
func clientFrame(fin bool, op ws.OpCode, payload []byte) []byte {
	h := ws.Header{Fin: fin, OpCode: op, Masked: true, Mask: testMask, Length: int64(len(payload))}
	b := AppendHeader(nil, h)
	start := len(b)
	b = append(b, payload...)
	ws.Cipher(b[start:], testMask, 0)
	return b
}

// decodeAll feeds b to d and collects messages, stopping at the first error.
func decodeAll(d *Decoder, b []byte) ([]Message, error) {
	var out []Message
	for len(b) > 0 {
		msg, n, err := d.Decode(b)
		if err != nil {
			return out, err
		}
		if n == 0 {
			return out, errors.New("incomplete")
		}
		if msg.Op != 0 {
			msg.Payload = append([]byte(nil), msg.Payload...)
			out = append(out, msg)
		}
		b = b[n:]
	}
	return out, nil
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, l := range []int64{0, 1, 125, 126, 65535, 65536, 1 << 40} {
		for _, masked := range []bool{false, true} {
			h := ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: masked, Mask: testMask, Length: l}
			b := AppendHeader(nil, h)
			if len(b) != HeaderLen(l, masked) {
				t.Errorf("len %d masked %v: encoded %d bytes, HeaderLen says %d", l, masked, len(b), HeaderLen(l, masked))
			}
			for cut := 0; cut < len(b); cut++ {
				if _, n, err := ParseHeader(b[:cut]); n != 0 || err != nil {
					t.Fatalf("len %d: ParseHeader of %d/%d bytes = n %d, err %v; want incomplete", l, cut, len(b), n, err)
				}
			}
			got, n, err := ParseHeader(b)
			if err != nil || n != len(b) {
				t.Fatalf("len %d: ParseHeader = n %d, err %v", l, n, err)
			}
			if !masked {
				h.Mask = [4]byte{}
			}
			if got != h {
				t.Fatalf("round trip: got %+v, want %+v", got, h)
			}
		}
	}
}

func TestDecodeMessages(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 70000)
	stream := bytes.Join([][]byte{
		clientFrame(true, ws.OpText, []byte("héllo")),
		clientFrame(false, ws.OpBinary, []byte("ab")),
		clientFrame(true, ws.OpPing, []byte("p")), // control frames may interleave
		clientFrame(false, ws.OpContinuation, []byte("cd")),
		clientFrame(true, ws.OpContinuation, []byte("ef")),
		clientFrame(true, ws.OpBinary, big),
		clientFrame(false, ws.OpText, []byte("h\xc3")), // UTF-8 split across fragments
		clientFrame(true, ws.OpContinuation, []byte("\xa9!")),
		clientFrame(true, ws.OpClose, append([]byte{0x03, 0xe8}, "bye"...)),
	}, nil)
	d := Decoder{Server: true}
	got, err := decodeAll(&d, stream)
	if err != nil {
		t.Fatal(err)
	}
	want := []Message{
		{Op: ws.OpText, Payload: []byte("héllo")},
		{Op: ws.OpPing, Payload: []byte("p")},
		{Op: ws.OpBinary, Payload: []byte("abcdef")},
		{Op: ws.OpBinary, Payload: big},
		{Op: ws.OpText, Payload: []byte("hé!")},
		{Op: ws.OpClose, Payload: append([]byte{0x03, 0xe8}, "bye"...)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Op != want[i].Op || !bytes.Equal(got[i].Payload, want[i].Payload) {
			t.Errorf("message %d: got op %v %q, want op %v %q", i, got[i].Op, trim(got[i].Payload), want[i].Op, trim(want[i].Payload))
		}
	}
	code, reason := ParseClose(got[5].Payload)
	if code != ws.StatusNormalClosure || string(reason) != "bye" {
		t.Errorf("ParseClose = %d %q", code, reason)
	}
}

func trim(b []byte) []byte {
	if len(b) > 20 {
		return b[:20]
	}
	return b
}

func TestDecodeIncompleteReportsPending(t *testing.T) {
	f := clientFrame(true, ws.OpBinary, make([]byte, 1000))
	var d Decoder
	d.Server = true
	_, n, err := d.Decode(f[:500])
	if n != 0 || err != nil {
		t.Fatalf("Decode(partial) = n %d, err %v", n, err)
	}
	if d.Pending() != len(f) {
		t.Fatalf("Pending = %d, want %d", d.Pending(), len(f))
	}
	if _, n, err = d.Decode(f); n != len(f) || err != nil {
		t.Fatalf("Decode(whole) = n %d, err %v", n, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	tooLong := make([]byte, 126)
	tests := []struct {
		name   string
		server bool
		max    int64
		in     []byte
		want   *Error
		code   ws.StatusCode
	}{
		{name: "unmasked client frame", server: true, in: AppendFrame(nil, ws.OpText, []byte("hi"), nil), want: ErrUnmaskedClientFrame, code: 1002},
		{name: "masked server frame", server: false, in: clientFrame(true, ws.OpText, []byte("hi")), want: ErrMaskedServerFrame, code: 1002},
		{name: "rsv bits", server: true, in: func() []byte { b := clientFrame(true, ws.OpText, nil); b[0] |= 0x40; return b }(), want: ErrReservedBits, code: 1002},
		{name: "reserved opcode", server: true, in: clientFrame(true, ws.OpCode(3), nil), want: ErrReservedOpCode, code: 1002},
		{name: "long ping", server: true, in: clientFrame(true, ws.OpPing, tooLong), want: ErrControlTooLong, code: 1002},
		{name: "fragmented ping", server: true, in: clientFrame(false, ws.OpPing, nil), want: ErrControlFragmented, code: 1002},
		{name: "orphan continuation", server: true, in: clientFrame(true, ws.OpContinuation, []byte("x")), want: ErrUnexpectedContinue, code: 1002},
		{name: "data inside fragments", server: true, in: append(clientFrame(false, ws.OpText, []byte("a")), clientFrame(true, ws.OpText, []byte("b"))...), want: ErrExpectedContinue, code: 1002},
		{name: "close with 1 byte", server: true, in: clientFrame(true, ws.OpClose, []byte{3}), want: ErrCloseLength, code: 1002},
		{name: "close code 1005", server: true, in: clientFrame(true, ws.OpClose, []byte{0x03, 0xed}), want: ErrCloseCode, code: 1002},
		{name: "close code 999", server: true, in: clientFrame(true, ws.OpClose, []byte{0x03, 0xe7}), want: ErrCloseCode, code: 1002},
		{name: "close reason utf8", server: true, in: clientFrame(true, ws.OpClose, []byte{0x03, 0xe8, 0xff}), want: ErrCloseReasonUTF8, code: 1007},
		{name: "text utf8", server: true, in: clientFrame(true, ws.OpText, []byte{0xc3, 0x28}), want: ErrTextUTF8, code: 1007},
		{name: "fragmented text utf8", server: true, in: append(clientFrame(false, ws.OpText, []byte("ok")), clientFrame(true, ws.OpContinuation, []byte{0xff})...), want: ErrTextUTF8, code: 1007},
		{name: "frame over limit", server: true, max: 10, in: clientFrame(true, ws.OpBinary, make([]byte, 11)), want: ErrMessageTooBig, code: 1009},
		{name: "fragments over limit", server: true, max: 10, in: append(clientFrame(false, ws.OpBinary, make([]byte, 6)), clientFrame(true, ws.OpContinuation, make([]byte, 6))...), want: ErrMessageTooBig, code: 1009},
		{name: "header declares 2^63", server: false, in: []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, want: ErrLengthMSB, code: 1002},
		{name: "huge declared length refused before buffering", server: false, in: []byte{0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0}, want: ErrMessageTooBig, code: 1009},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decoder{Server: tt.server, MaxMessage: tt.max}
			_, err := decodeAll(&d, tt.in)
			var fe *Error
			if !errors.As(err, &fe) || fe != tt.want {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if fe.Code != tt.code {
				t.Fatalf("close code = %d, want %d", fe.Code, tt.code)
			}
		})
	}
}

func TestAppendCloseTruncatesReason(t *testing.T) {
	long := string(bytes.Repeat([]byte("r"), 300))
	b := AppendClose(nil, ws.StatusGoingAway, long, nil)
	var d Decoder
	msgs, err := decodeAll(&d, b)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("decode: %v %d", err, len(msgs))
	}
	code, reason := ParseClose(msgs[0].Payload)
	if code != ws.StatusGoingAway || len(reason) != 123 {
		t.Fatalf("code %d, reason %d bytes; want 1001 and 123 bytes", code, len(reason))
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(clientFrame(true, ws.OpText, []byte("hello")), true)
	f.Add(append(clientFrame(false, ws.OpBinary, []byte("a")), clientFrame(true, ws.OpContinuation, []byte("b"))...), true)
	f.Add(AppendFrame(nil, ws.OpBinary, []byte("srv"), nil), false)
	f.Add([]byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}, false)
	f.Fuzz(func(t *testing.T, b []byte, server bool) {
		d := Decoder{Server: server, MaxMessage: 1 << 16}
		in := append([]byte(nil), b...)
		for len(in) > 0 {
			msg, n, err := d.Decode(in)
			if err != nil {
				var fe *Error
				if !errors.As(err, &fe) || fe.Code == 0 {
					t.Fatalf("error without a close code: %v", err)
				}
				return
			}
			if n == 0 {
				return
			}
			if n > len(in) {
				t.Fatalf("consumed %d of %d bytes", n, len(in))
			}
			if msg.Op != 0 && !server {
				// A decoded server message re-encodes to the same payload.
				again, err := decodeAll(&Decoder{MaxMessage: 1 << 16}, AppendFrame(nil, msg.Op, msg.Payload, nil))
				if err != nil || len(again) != 1 || !bytes.Equal(again[0].Payload, msg.Payload) {
					t.Fatalf("re-encode round trip failed: %v", err)
				}
			}
			in = in[n:]
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	for _, size := range []int{64, 16 << 10} {
		f := clientFrame(true, ws.OpBinary, make([]byte, size))
		buf := make([]byte, len(f))
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			d := Decoder{Server: true}
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				copy(buf, f)
				if _, n, err := d.Decode(buf); n != len(f) || err != nil {
					b.Fatal(n, err)
				}
			}
		})
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	payload := make([]byte, 64)
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendFrame(dst[:0], ws.OpBinary, payload, &testMask)
	}
}

func TestDecoderReleasesLargeReassemblyBuffer(t *testing.T) {
	d := Decoder{Server: true}
	big := append(clientFrame(false, ws.OpBinary, make([]byte, 100<<10)), clientFrame(true, ws.OpContinuation, []byte("x"))...)
	if _, err := decodeAll(&d, big); err != nil {
		t.Fatal(err)
	}
	if _, err := decodeAll(&d, clientFrame(true, ws.OpBinary, []byte("small"))); err != nil {
		t.Fatal(err)
	}
	if cap(d.frag) != 0 {
		t.Fatalf("reassembly buffer of %d bytes kept after a large message", cap(d.frag))
	}
}
