package proxy

import (
	"runtime/debug"
	"time"
)

// A burst of handshakes (a reconnect storm, a load test opening thousands
// of connections) leaves memory the tunnels no longer need: handshake
// goroutine stacks, head buffers, parsing garbage. The Go runtime returns
// it to the system only gradually, so a proxy that goes on to hold the
// tunnels idle would keep it resident for minutes. Once a burst of at least
// tidyAfter handshakes has been quiet for tidyQuiet, the proxy returns it at
// once (debug.FreeOSMemory: a collection and a scavenge, milliseconds for a
// heap of this size).
const (
	tidyAfter = 1000
	tidyQuiet = time.Second
)

// noteHandshake counts a finished handshake toward the next tidy.
func (p *Proxy) noteHandshake() {
	p.lastHandshake.Store(time.Now().UnixNano())
	if p.sinceTidy.Add(1) == tidyAfter {
		time.AfterFunc(tidyQuiet, p.tidy)
	}
}

func (p *Proxy) tidy() {
	quiet := time.Duration(time.Now().UnixNano() - p.lastHandshake.Load())
	if quiet < tidyQuiet {
		time.AfterFunc(tidyQuiet-quiet, p.tidy) // the burst goes on
		return
	}
	p.sinceTidy.Store(0)
	debug.FreeOSMemory()
}
