//go:build !linux

package relay

import (
	"errors"
	"sync/atomic"
)

const epollSupported = false

// epollEngine exists only on Linux; elsewhere Config.fill picks Goroutines.
type epollEngine struct{ open, up, down atomic.Int64 }

func newEpollEngine(*Config) (*epollEngine, error) {
	return nil, errors.New("relay: the epoll engine needs Linux")
}

func (e *epollEngine) start(Tunnel) bool { return false }
func (e *epollEngine) closeAll()         {}
func (e *epollEngine) spliced() int64    { return 0 }
func (e *epollEngine) close() error      { return nil }
