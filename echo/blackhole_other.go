//go:build !linux

package echo

import "fmt"

// Blackhole is a TCP port that never completes a connection (Linux only).
type Blackhole struct{}

// ListenBlackhole is not available on this system.
func ListenBlackhole(addr string) (*Blackhole, error) {
	return nil, fmt.Errorf("echo: blackhole %s: needs Linux", addr)
}

// Addr is empty here.
func (b *Blackhole) Addr() string { return "" }

// Close does nothing here.
func (b *Blackhole) Close() error { return nil }
