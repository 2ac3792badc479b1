package loadgen

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"math"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/internal/tcptest"
	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/wire"
)

// countingEcho runs an echo backend whose connections count the bytes the
// server reads off the wire (frames as sent, compressed or not).
func countingEcho(t *testing.T, cfg echo.Config) (addr string, read *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	read = new(atomic.Int64)
	srv := echo.New(cfg)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go srv.ServeConn(&countingConn{Conn: c, n: read})
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), read
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// protocolRun is a short rtt run of 1 KiB messages.
func protocolRun(t *testing.T, url, engine string, o Options) *results.Run {
	t.Helper()
	o.URL, o.Engine = url, engine
	o.Conns, o.Rate, o.Duration, o.Drain = 4, 400, 500*time.Millisecond, 500*time.Millisecond
	if o.Size.IsZero() {
		o.Size = FixedSize(1024)
	}
	return mustRun(t, o)
}

// noFailures fails the test on any failure or unanswered message.
func noFailures(t *testing.T, s results.Summary) {
	t.Helper()
	if len(s.Failures) != 0 || s.Messages.Sent == 0 || s.Messages.Received != s.Messages.Sent {
		t.Fatalf("failures %v, messages %+v: want every message answered", s.Failures, s.Messages)
	}
	if s.Histograms[results.MetricRTT].Count == 0 {
		t.Fatalf("no response times: the echoed messages did not read back")
	}
}

// Against the echo backend: the first offered subprotocol it speaks is
// selected and counted, the backend's seen header is read, and the offer
// is in the parameters; one it does not speak leaves none selected, and
// the connections open as usual.
func TestSubprotocolNegotiation(t *testing.T) {
	addr := startEcho(t, echo.Config{Subprotocols: []string{"b", wire.Subprotocol}})
	for _, eng := range engines() {
		t.Run(eng, func(t *testing.T) {
			s := protocolRun(t, "ws://"+addr+"/echo", eng, Options{Subprotocols: []string{"a", wire.Subprotocol, "b"}}).Summary
			noFailures(t, s)
			n := s.Negotiation
			if n == nil || n.Protocols[wire.Subprotocol] != 4 || len(n.Protocols) != 1 || n.ProtocolsSeen != 4 || n.DeflateSeen != 0 || n.Extensions != nil {
				t.Fatalf("negotiation %+v: want %s selected on all 4, the backend seeing the offer", n, wire.Subprotocol)
			}
			if s.Params["subprotocols"] != "a, "+wire.Subprotocol+", b" {
				t.Errorf("params %v", s.Params)
			}
			s = protocolRun(t, "ws://"+addr+"/echo", eng, Options{Subprotocols: []string{"chat"}}).Summary
			noFailures(t, s)
			if n := s.Negotiation; n == nil || len(n.Protocols) != 0 || n.ProtocolsSeen != 4 {
				t.Fatalf("negotiation %+v: want none selected, the offer seen", n)
			}
		})
	}
	// Nothing offered: no negotiation in the result.
	if s := protocolRun(t, "ws://"+addr+"/echo", "auto", Options{}).Summary; s.Negotiation != nil {
		t.Fatalf("negotiation %+v with nothing offered, want none", s.Negotiation)
	}
}

// acceptingServer completes any handshake with a 101 carrying extra
// header lines, then reads and discards: a server that answers what was
// not offered.
func acceptingServer(t *testing.T, extra string) string {
	return tcptest.Serve(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		var req []byte
		for !strings.Contains(string(req), "\r\n\r\n") {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			req = append(req, buf[:n]...)
		}
		var key string
		for _, line := range strings.Split(string(req), "\r\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Sec-WebSocket-Key") {
				key = strings.TrimSpace(v)
			}
		}
		sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			base64.StdEncoding.EncodeToString(sum[:]) + "\r\n" + extra + "\r\n"))
		buf = make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	})
}

// A server that selects what was not offered fails the handshake (RFC
// 6455 4.1, RFC 7692 7.1), each with its cause.
func TestNegotiationRefusals(t *testing.T) {
	for _, tt := range []struct {
		name, extra string
		o           Options
		cause       string
	}{
		{"subprotocol not offered", "Sec-WebSocket-Protocol: other\r\n", Options{Subprotocols: []string{"chat"}}, "bad_subprotocol"},
		{"subprotocol when none offered", "Sec-WebSocket-Protocol: chat\r\n", Options{}, "bad_subprotocol"},
		{"extension not offered", "Sec-WebSocket-Extensions: permessage-deflate\r\n", Options{}, "bad_extensions"},
		{"client window not offered", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n", Options{Compression: true}, "bad_extensions"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.URL, o.Workload, o.Conns, o.Duration, o.HandshakeTimeout = "ws://"+acceptingServer(t, tt.extra)+"/echo", WorkloadHold, 2, 100*time.Millisecond, time.Second
			s := mustRun(t, o).Summary
			if s.Failures[tt.cause] != 2 || s.Connections.Opened != 0 {
				t.Fatalf("failures %v, connections %+v; want 2 × %s", s.Failures, s.Connections, tt.cause)
			}
		})
	}
}

// Compression end to end against the echo backend, with and without
// context takeover, on both engines, text and binary: every message comes
// back and reads (the echo inflated ours, compressed its reply, and we
// inflated that), the agreed parameters are counted, and what the backend
// read off the wire is far less than the payload (the filler compresses).
func TestCompressionRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name      string
		off       bool
		opcode    string
		extension string
	}{
		{"takeover", false, "binary", "permessage-deflate"},
		{"no takeover", true, "binary", "permessage-deflate;server_no_context_takeover;client_no_context_takeover"},
		{"text takeover", false, "text", "permessage-deflate"},
	} {
		for _, eng := range engines() {
			t.Run(tt.name+"/"+eng, func(t *testing.T) {
				addr, read := countingEcho(t, echo.Config{})
				s := protocolRun(t, "ws://"+addr+"/echo", eng, Options{Compression: true, NoContextTakeover: tt.off, Opcode: tt.opcode}).Summary
				noFailures(t, s)
				if n := s.Negotiation; n == nil || n.Extensions[tt.extension] != 4 || len(n.Extensions) != 1 || n.DeflateSeen != 4 {
					t.Fatalf("negotiation %+v: want %q agreed on all 4 and seen", s.Negotiation, tt.extension)
				}
				if s.Bytes.Sent != 1024*s.Messages.Sent {
					t.Errorf("bytes sent %d for %d messages: want the payload counted uncompressed", s.Bytes.Sent, s.Messages.Sent)
				}
				if wire := read.Load(); wire*2 > s.Bytes.Sent {
					t.Errorf("the backend read %d bytes for %d bytes of messages: want them compressed", wire, s.Bytes.Sent)
				}
			})
		}
	}
	// Offered and declined: messages go uncompressed, nothing agreed.
	addr, read := countingEcho(t, echo.Config{NoCompression: true})
	s := protocolRun(t, "ws://"+addr+"/echo", "auto", Options{Compression: true}).Summary
	noFailures(t, s)
	if n := s.Negotiation; n == nil || n.Extensions != nil || n.DeflateSeen != 4 || read.Load() < s.Bytes.Sent {
		t.Fatalf("declined: negotiation %+v, %d bytes read for %d sent", n, read.Load(), s.Bytes.Sent)
	}
}

// Text messages are valid UTF-8 (the echo backend closes 1007 otherwise),
// their numbers read back (response times), and the hello still tells
// itself apart from them.
func TestTextOpcode(t *testing.T) {
	addr := startEcho(t, echo.Config{ID: "tx"})
	for _, eng := range engines() {
		t.Run(eng, func(t *testing.T) {
			s := protocolRun(t, "ws://"+addr+"/echo?hello=1", eng, Options{Opcode: "text", Size: mustSizes(t, "24..300")}).Summary
			noFailures(t, s)
			if len(s.Hellos) == 0 || s.Params["opcode"] != "text" {
				t.Fatalf("hellos %d, params %v: want the hellos kept apart and opcode=text", len(s.Hellos), s.Params)
			}
			for _, raw := range s.Hellos {
				var h echo.Hello
				if err := json.Unmarshal(raw, &h); err != nil || h.Backend != "tx" {
					t.Fatalf("hello %s: %v", raw, err)
				}
			}
		})
	}
	d := newDriver(&plan{text: true, pad: filler(100)}, nil, 1)
	p := d.appendPayload(nil, 1<<50+3, 100, 123456789012345, 1<<55)
	if !utf8.Valid(p) || strings.ContainsFunc(string(p), func(r rune) bool { return r >= 0x80 }) {
		t.Fatalf("text payload % x is not ASCII", p[:24])
	}
	if d.stamp(p, 0) != 1<<50+3 || d.stamp(p, 1) != 123456789012345 || d.stamp(p, 2) != 1<<55 {
		t.Fatalf("stamps read back as %d %d %d", d.stamp(p, 0), d.stamp(p, 1), d.stamp(p, 2))
	}
}

// The sizes sent follow the distribution asked for: the mean payload of a
// run is the distribution's within 15% (about 2,000 messages: 4 standard
// errors for the weighted one, 28 for the range), and what came back is
// what went.
func TestObservedSizes(t *testing.T) {
	addr := startEcho(t, echo.Config{})
	for _, spec := range []string{"24..2048", "64:3,4KiB:1"} {
		t.Run(spec, func(t *testing.T) {
			d := mustSizes(t, spec)
			s := mustRun(t, Options{URL: "ws://" + addr + "/echo", Size: d, Conns: 4, Rate: 2000, Duration: time.Second}).Summary
			noFailures(t, s)
			mean := float64(s.Bytes.Sent) / float64(s.Messages.Sent)
			if math.Abs(mean-d.Mean()) > 0.15*d.Mean() || s.Bytes.Received != s.Bytes.Sent {
				t.Fatalf("mean size sent %.0f over %d messages (received %d of %d bytes), want %.0f ± 15%%",
					mean, s.Messages.Sent, s.Bytes.Received, s.Bytes.Sent, d.Mean())
			}
			if s.Params["size"] != d.String() {
				t.Errorf("params size %q, want %q", s.Params["size"], d.String())
			}
		})
	}
}
