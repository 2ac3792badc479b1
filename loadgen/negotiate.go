package loadgen

import (
	"bytes"
	"errors"
	"slices"
	"strings"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/wsbench/wsbench/frame"
	"github.com/wsbench/wsbench/wire"
)

// What a handshake negotiates beyond RFC 6455's own headers: the
// subprotocol (Options.Subprotocols) and per-message compression
// (Options.Compression), and what the echo backend says it was offered.

// deflateOffer is the permessage-deflate offer: with context takeover (the
// extension's default, no parameters), or without it either way.
func deflateOffer(noContextTakeover bool) httphead.Option {
	return wsflate.Parameters{
		ClientNoContextTakeover: noContextTakeover,
		ServerNoContextTakeover: noContextTakeover,
	}.Option()
}

// offerText is the offer as the parameters of a result write it.
func offerText(noContextTakeover bool) string {
	return frame.ExtensionText(deflateOffer(noContextTakeover))
}

// errDeflateResponse is a 101 whose permessage-deflate parameters the
// client cannot honour: RFC 7692 section 7.1 has the client fail the
// connection. It counts as cause bad_extensions.
var errDeflateResponse = errors.New("loadgen: permessage-deflate response with parameters not offered or not valid")

// agreement is what one handshake agreed, and what the backend saw.
type agreement struct {
	protocol  string // the subprotocol the server selected; "" = none
	extension string // Sec-WebSocket-Extensions as agreed, rewritten; "" = none
	deflate   bool   // permessage-deflate agreed
	// Context takeover agreed for what the client sends and for what it
	// receives.
	sendTakeover, recvTakeover bool
	// The backend's 101 (wire.ProtocolsSeenHeader, ExtensionsSeenHeader)
	// says it saw every subprotocol offered, and permessage-deflate.
	sawProtocols, sawDeflate bool
}

// agree reads what the handshake hs agreed. seenProtocols and
// seenExtensions are the backend's seen headers ("" when absent).
func agree(offered []string, hs ws.Handshake, seenProtocols, seenExtensions string) (agreement, error) {
	a := agreement{protocol: hs.Protocol}
	seen := wire.List(seenProtocols)
	a.sawProtocols = len(offered) > 0
	for _, p := range offered {
		a.sawProtocols = a.sawProtocols && slices.Contains(seen, p)
	}
	for _, x := range wire.List(seenExtensions) {
		name, _, _ := strings.Cut(x, ";")
		a.sawDeflate = a.sawDeflate || strings.TrimSpace(name) == wsflate.ExtensionName
	}
	for _, opt := range hs.Extensions {
		if !bytes.Equal(opt.Name, wsflate.ExtensionNameBytes) {
			continue // gobwas/ws refused names not offered; only this one is
		}
		var p wsflate.Parameters
		// Not offered, so not to be answered: client_max_window_bits. A
		// smaller server window is fine: inflating takes any window.
		if err := p.Parse(opt); err != nil || p.ClientMaxWindowBits.Defined() || a.deflate {
			return a, errDeflateResponse
		}
		a.deflate = true
		a.sendTakeover, a.recvTakeover = !p.ClientNoContextTakeover, !p.ServerNoContextTakeover
	}
	if len(hs.Extensions) > 0 {
		a.extension = frame.ExtensionText(hs.Extensions...)
	}
	return a, nil
}

// deflateState is a session's compression, when its handshake agreed it.
// The coders are made on first use: a compress/flate writer holds about a
// megabyte, and a held connection may never send.
type deflateState struct {
	sendTakeover, recvTakeover bool
	def                        *frame.Deflater
	inf                        *frame.Inflater
}

func (z *deflateState) deflater() *frame.Deflater {
	if z.def == nil {
		z.def = frame.NewDeflater(z.sendTakeover)
	}
	return z.def
}

func (z *deflateState) inflater() *frame.Inflater {
	if z.inf == nil {
		z.inf = frame.NewInflater(z.recvTakeover, MaxSize)
	}
	return z.inf
}
