package echo

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/frame"
	"github.com/wsbench/wsbench/wire"
)

// The backend selects the first subprotocol the client offers that it
// speaks (in the client's order, over repeated header lines), accepts
// permessage-deflate with the client's context-takeover parameters and
// declines what it cannot do; the 101 says what it was offered, and the
// hello says that and what was agreed.
func TestNegotiate(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		offer     []string // request header lines
		protocol  string   // Sec-WebSocket-Protocol of the 101
		extension string   // Sec-WebSocket-Extensions of the 101
		seenP     string   // wire.ProtocolsSeenHeader
		seenX     string   // wire.ExtensionsSeenHeader
	}{
		{name: "nothing offered"},
		{name: "default subprotocol", offer: []string{"Sec-WebSocket-Protocol: chat, " + wire.Subprotocol},
			protocol: wire.Subprotocol, seenP: "chat, " + wire.Subprotocol},
		{name: "first offered that is spoken, over two lines", cfg: Config{Subprotocols: []string{"b", "c"}},
			offer: []string{"Sec-WebSocket-Protocol: a", "Sec-WebSocket-Protocol: c, b"}, protocol: "c", seenP: "a, c, b"},
		{name: "none spoken", cfg: Config{Subprotocols: []string{}}, offer: []string{"Sec-WebSocket-Protocol: " + wire.Subprotocol},
			seenP: wire.Subprotocol},
		{name: "deflate with context takeover", offer: []string{"Sec-WebSocket-Extensions: permessage-deflate"},
			extension: "permessage-deflate", seenX: "permessage-deflate"},
		{name: "deflate without context takeover",
			offer:     []string{"Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover"},
			extension: "permessage-deflate;server_no_context_takeover;client_no_context_takeover",
			seenX:     "permessage-deflate; client_no_context_takeover; server_no_context_takeover"},
		{name: "a smaller server window is declined, the next offer taken",
			offer:     []string{"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10, permessage-deflate; client_max_window_bits"},
			extension: "permessage-deflate",
			seenX:     "permessage-deflate; server_max_window_bits=10, permessage-deflate; client_max_window_bits"},
		{name: "unknown extension", offer: []string{"Sec-WebSocket-Extensions: x-webkit-deflate-frame"}, seenX: "x-webkit-deflate-frame"},
		{name: "compression declined", cfg: Config{NoCompression: true}, offer: []string{"Sec-WebSocket-Extensions: permessage-deflate"},
			seenX: "permessage-deflate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, addr := startServer(t, tt.cfg)
			c := dial(t, addr, "/echo?hello=1", tt.offer...)
			for _, h := range []struct{ name, want string }{
				{"Sec-WebSocket-Protocol", tt.protocol},
				{"Sec-WebSocket-Extensions", tt.extension},
				{wire.ProtocolsSeenHeader, tt.seenP},
				{wire.ExtensionsSeenHeader, tt.seenX},
			} {
				if got := strings.Join(c.resp.Header.Values(h.name), ", "); got != h.want {
					t.Errorf("101 %s: %q, want %q", h.name, got, h.want)
				}
			}
			_, p := c.next()
			var hello Hello
			if err := json.Unmarshal(p, &hello); err != nil {
				t.Fatalf("hello %q: %v", p, err)
			}
			if hello.OfferedProtocols != tt.seenP || hello.OfferedExtensions != tt.seenX || hello.Protocol != tt.protocol || hello.Extensions != tt.extension {
				t.Errorf("hello offered %q %q, agreed %q %q; want %q %q, %q %q", hello.OfferedProtocols, hello.OfferedExtensions,
					hello.Protocol, hello.Extensions, tt.seenP, tt.seenX, tt.protocol, tt.extension)
			}
		})
	}
}

// compressedFrame is a masked client frame of a compressed message.
func compressedFrame(op ws.OpCode, z []byte) []byte {
	h := ws.Header{Fin: true, Rsv: frame.Compressed, OpCode: op, Masked: true, Mask: testMask, Length: int64(len(z))}
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, z...)
	ws.Cipher(b[start:], testMask, 0)
	return b
}

// Under permessage-deflate a compressed message comes back compressed,
// with its opcode, in the context-takeover mode agreed for each direction;
// an uncompressed one comes back as it was; compressed garbage and
// compressed text that is not UTF-8 close the connection with 1002 and
// 1007.
func TestDeflateEcho(t *testing.T) {
	for _, tt := range []struct {
		name     string
		offer    string
		takeover bool
	}{
		{"context takeover", "permessage-deflate", true},
		{"no context takeover", "permessage-deflate; client_no_context_takeover; server_no_context_takeover", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, addr := startServer(t, Config{})
			c := dial(t, addr, "/echo", "Sec-WebSocket-Extensions: "+tt.offer)
			d, f := frame.NewDeflater(tt.takeover), frame.NewInflater(tt.takeover, 0)
			msgs := []struct {
				op ws.OpCode
				p  string
			}{{ws.OpText, "héllo héllo héllo"}, {ws.OpBinary, strings.Repeat("\x00\x01", 3000)}, {ws.OpText, "héllo héllo héllo"}}
			for i, m := range msgs {
				c.write(compressedFrame(m.op, d.Append(nil, []byte(m.p))))
				h, z := c.next()
				if h.OpCode != m.op || h.Rsv != frame.Compressed {
					t.Fatalf("message %d: echo %v rsv %d, want %v compressed", i, h.OpCode, h.Rsv, m.op)
				}
				if p, err := f.Inflate(z); err != nil || string(p) != m.p {
					t.Fatalf("message %d: echo inflated to %q, %v", i, p, err)
				}
			}
			c.send(ws.OpBinary, []byte("plain"))
			if h, p := c.next(); h.Rsv != 0 || string(p) != "plain" {
				t.Fatalf("uncompressed message: echo rsv %d %q", h.Rsv, p)
			}
			if st := srv.Stats(); st.BytesIn != uint64(len(msgs[0].p)*2+len(msgs[1].p)+5) {
				t.Errorf("bytes in %d: want the inflated sizes counted", st.BytesIn)
			}
		})
	}
	for _, tt := range []struct {
		name string
		op   ws.OpCode
		z    []byte
		code ws.StatusCode
	}{
		{"garbage", ws.OpBinary, []byte{0xff, 0xff, 0xff}, ws.StatusProtocolError},
		{"text not UTF-8", ws.OpText, frame.NewDeflater(false).Append(nil, []byte{0xc3, 0x28}), ws.StatusInvalidFramePayloadData},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, addr := startServer(t, Config{})
			c := dial(t, addr, "/echo", "Sec-WebSocket-Extensions: permessage-deflate")
			c.write(compressedFrame(tt.op, tt.z))
			if code, _ := c.expectClose(); code != tt.code {
				t.Fatalf("close %d, want %d", code, tt.code)
			}
		})
	}
	// Without the extension agreed, RSV1 is a protocol error.
	_, addr := startServer(t, Config{NoCompression: true})
	c := dial(t, addr, "/echo", "Sec-WebSocket-Extensions: permessage-deflate")
	if c.resp.Header.Get("Sec-WebSocket-Extensions") != "" || c.resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("declined: %d %v", c.resp.StatusCode, c.resp.Header)
	}
	c.write(compressedFrame(ws.OpBinary, frame.NewDeflater(false).Append(nil, []byte("x"))))
	if code, _ := c.expectClose(); code != ws.StatusProtocolError {
		t.Fatalf("RSV1 without the extension: close %d, want 1002", code)
	}
}
