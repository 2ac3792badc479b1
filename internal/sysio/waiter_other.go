//go:build !linux

package sysio

import "time"

// Waiter sleeps a goroutine. Without timerfd it is time.Sleep, which may
// wake late by up to a millisecond.
type Waiter struct{}

// Sleep waits for d.
func (w *Waiter) Sleep(d time.Duration) { time.Sleep(d) }

// Close does nothing here.
func (w *Waiter) Close() {}
