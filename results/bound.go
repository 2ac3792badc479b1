package results

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wsbench/wsbench/units"
)

// The loadgen-bound rule (Summary.LoadgenBound). A load generator that
// falls behind its own schedule puts its delay into every latency it
// measures — rtt counts from the intended send — and offers less load than
// asked, so the row shows wsbench's limit, not the target's.
const (
	// LagBound is the schedule lag p99 above which a paced row is
	// loadgen-bound however slow its rate: a millisecond of the tool's
	// own delay is already a sizable part of a proxy's tail.
	LagBound = time.Millisecond
	// LagShare of the time between one connection's messages lowers that
	// bound at high rates: a sender late by a tenth of its interval no
	// longer keeps the schedule's shape.
	LagShare = 0.10
	// LagSlackFactor × the timer slack is the bound's floor: timers fire
	// up to the slack late on purpose (sends due together share one
	// wake-up), and twice it leaves room for the wake-up itself.
	LagSlackFactor = 2
	// DefaultTimerSlack is the load generator's timer slack when a
	// summary does not record one (loadgen.DefaultTimerSlack).
	DefaultTimerSlack = 250 * time.Microsecond
	// LoopBusyBound is the busiest event loop's working share (Self.LoopBusy)
	// above which any row is loadgen-bound: the loop had no time left to
	// wait for the target.
	LoopBusyBound = 0.9
)

// LoadgenBound reports whether the load generator, not the target, set
// the pace of this run, and why, with the figure: "lag p99 3.20ms >
// 1.00ms". Two signs, either is enough:
//
//   - paced workloads (rtt, ramp: sends on a schedule) whose schedule lag
//     p99 (MetricLag) is above LagBound, or above LagShare of the interval
//     between one connection's messages (conns / rate; a ramp's highest
//     step) when that is lower — never below LagSlackFactor × the timer
//     slack. Closed-loop (throughput) and server-paced (push, hold) runs
//     have no schedule of their own to fall behind;
//   - any workload whose busiest loop worked more than LoopBusyBound of
//     the load phase (Self.LoopBusy; 0 means not measured).
func (s *Summary) LoadgenBound() (bool, string) {
	var why []string
	if lag, ok := s.Histograms[MetricLag]; ok && lag.Count > 0 && paced(s.Workload) {
		bound, basis := s.lagBound()
		if time.Duration(lag.P99)*time.Microsecond > bound {
			why = append(why, fmt.Sprintf("lag p99 %s > %s%s", units.Micros(float64(lag.P99)), units.Micros(float64(bound.Microseconds())), basis))
		}
	}
	if s.Self != nil && s.Self.LoopBusy > LoopBusyBound {
		why = append(why, fmt.Sprintf("busiest loop %.0f%% busy > %.0f%%", 100*s.Self.LoopBusy, 100*LoopBusyBound))
	}
	return len(why) > 0, strings.Join(why, "; ")
}

// paced says whether the load generator sends on a schedule of its own.
func paced(workload string) bool { return workload == "rtt" || workload == "ramp" }

// lagBound is the lag p99 a paced run may reach, and what set it when
// that is not LagBound itself (for the reason's text).
func (s *Summary) lagBound() (time.Duration, string) {
	bound, basis := LagBound, ""
	if iv := s.sendInterval(); iv > 0 {
		if share := time.Duration(LagShare * float64(iv)); share < bound {
			bound = share
			basis = fmt.Sprintf(" (%.0f%% of the %s between a connection's messages)", 100*LagShare, units.Micros(float64(iv.Microseconds())))
		}
	}
	slack := DefaultTimerSlack
	if d, err := time.ParseDuration(s.Params["timer_slack"]); err == nil {
		slack = d
	}
	if floor := LagSlackFactor * slack; floor > bound {
		bound = floor
		basis = fmt.Sprintf(" (%d× the %s timer slack)", LagSlackFactor, units.Micros(float64(slack.Microseconds())))
	}
	return bound, basis
}

// sendInterval is the time between one connection's messages: conns over
// the rate, a ramp's highest offered rate; 0 when unknown.
func (s *Summary) sendInterval() time.Duration {
	conns, err1 := strconv.ParseFloat(s.Params["conns"], 64)
	rate, err2 := strconv.ParseFloat(s.Params["rate"], 64)
	if s.Ramp != nil && s.Ramp.Unit == "msgs/s" {
		for _, st := range s.Ramp.Steps {
			rate = max(rate, st.Offered)
		}
	}
	if err1 != nil || err2 != nil || conns <= 0 || rate <= 0 {
		return 0
	}
	return time.Duration(conns / rate * float64(time.Second))
}
