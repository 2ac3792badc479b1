// Package testwait waits, in tests, for a condition that lands some time
// after the action that causes it: a counter the server bumps after the
// reply, a reset that crosses loopback, a fail_timeout that runs out. It
// polls: a sleep of fixed length before an assertion is either slow or, on
// a loaded machine, too short.
package testwait

import (
	"testing"
	"time"
)

// Limit is how long For waits: long enough for a machine shared with other
// work to have stalled a process for a while, short of the test timeout.
const Limit = 15 * time.Second

// every is the polling interval.
const every = 5 * time.Millisecond

// For returns once cond holds, polling it every few milliseconds; if it
// does not hold within Limit, it fails t, naming what was waited for.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	poll(t, what, Limit, cond)
}

func poll(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(limit); !cond(); time.Sleep(every) {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
			return
		}
	}
}
