//go:build !linux

package echo

import "time"

// waiter holds a connection's ?delay replies until they are due. Without
// timerfd it is time.Sleep, which may wake late by up to a millisecond.
type waiter struct{}

func (w *waiter) sleep(d time.Duration) { time.Sleep(d) }

func (w *waiter) close() {}
