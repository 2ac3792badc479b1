package loadgen

import (
	"context"
	"time"
)

// clock is a run's time: monotonic nanoseconds since its base, and waits
// until such a time. The engines read it on every wake-up, so the real
// clock is a direct call behind one nil check (no indirect call, nothing
// allocated); src, set only by tests, replaces it so that pacing, the
// connect schedule and the ramp run in a time the test moves by hand.
type clock struct {
	base time.Time
	src  timeSource // nil: the real clock
}

// timeSource is a clock that is not the real one (tests).
type timeSource interface {
	now() int64
	sleepUntil(ctx context.Context, ns int64) error
}

func realClock() clock { return clock{base: time.Now()} }

func (c clock) now() int64 {
	if c.src != nil {
		return c.src.now()
	}
	return int64(time.Since(c.base))
}

// sleepUntil waits until the clock reads ns or ctx is done, whichever is
// first; the error is ctx's.
func (c clock) sleepUntil(ctx context.Context, ns int64) error {
	if c.src != nil {
		return c.src.sleepUntil(ctx, ns)
	}
	return waitUntil(ctx, c.base.Add(time.Duration(ns)))
}

// sleep waits for d on the clock.
func (c clock) sleep(ctx context.Context, d time.Duration) error {
	return c.sleepUntil(ctx, c.now()+int64(d))
}
