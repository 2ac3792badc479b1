package loadgen

import (
	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/frame"
)

// Churn (Options.Churn) closes connections and opens them again at a
// fixed rate while a hold runs, as real clients come and go: a soak run
// that holds the same sockets for ten minutes would never exercise a
// proxy's teardown and set-up paths, where leaks live.
//
// The schedule is open-model, like the connect phase: the run's k-th
// churn event is due at k/Churn after the load phase starts, whatever
// happened to the earlier ones. Events are dealt round-robin to the
// engines (engine i takes i, i+n, i+2n, …: an rttSchedule with one "slot"
// per engine), and each engine closes its connections in turn. A churned
// connection sends a normal close (1000), waits for the reply (at most
// closeWait), then is reopened in its place through the reconnect path.
// It is counted as churned, never as a drop.

// churnState is one engine's part of the churn schedule.
type churnState struct {
	next   int64 // monotonic ns of the next event; 0 = no churn
	j      int64 // this engine's events so far
	cursor int   // round-robin position in core.all
}

// churnStart schedules the engine's first churn event of a load phase
// starting at t0.
func (c *core) churnStart(t0 int64) {
	if c.d.p.churn.rate <= 0 {
		return
	}
	c.churn = churnState{}
	c.churn.next = t0 + c.churnAt(0)
}

// churnAt is the offset from the load phase's start of this engine's
// event j. The first event comes one interval after the start.
func (c *core) churnAt(j int64) int64 {
	return c.d.p.churn.at(c.rec.id, j+1)
}

// churnDue runs the churn events due by now: each closes the next open
// connection of this engine. An event that finds none (every connection
// is being reopened) is skipped: the schedule does not wait.
func (c *core) churnDue(now int64) {
	for c.churn.next > 0 && c.churn.next <= now {
		if c.phase != phaseLoad || c.churn.next >= c.d.end {
			c.churn.next = 0
			return
		}
		c.churn.j++
		c.churn.next = c.d.t0 + c.churnAt(c.churn.j)
		if s := c.churnPick(); s != nil {
			c.churnClose(s, now)
		}
	}
}

// churnPick returns the next connection in turn that is open and not
// already closing, or nil.
func (c *core) churnPick() *session {
	for range c.all {
		c.churn.cursor++
		if c.churn.cursor >= len(c.all) {
			c.churn.cursor = 0
		}
		if s := c.all[c.churn.cursor]; !s.closed && !s.closing {
			return s
		}
	}
	return nil
}

// churnClose starts a normal close of s; the server's reply (or
// closeWait without one, by s's timer) ends it as churned.
func (c *core) churnClose(s *session, now int64) {
	s.closing, s.churned = true, true
	s.due.At = now + closeWait
	c.timers.Set(s, &s.due)
	s.out = frame.AppendClose(s.out, ws.StatusNormalClosure, "", ptr(c.d.mask()))
	c.flush(s, now)
}

// compact drops ended sessions from c.all once they are half of it, so
// churn and reconnections do not grow it without bound over a long run.
// Engines whose sessions nothing else refers to once ended (reuse) keep
// them for newSession. It runs only where nothing is iterating c.all.
func (c *core) compact() {
	if c.ended < 64 || 2*c.ended < len(c.all) {
		return
	}
	live, cursor := c.all[:0], 0 // cursor: live sessions before churn's turn
	for i, s := range c.all {
		switch {
		case !s.closed:
			live = append(live, s)
			if i < c.churn.cursor {
				cursor++
			}
		case c.reuse:
			c.free = append(c.free, s)
		}
	}
	clear(c.all[len(live):])
	// churnPick moves on before it looks: point at the last live one
	// before the turn.
	c.all, c.ended, c.churn.cursor = live, 0, cursor-1
}
