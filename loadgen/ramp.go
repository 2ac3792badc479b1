package loadgen

import (
	"context"
	"math"
	"time"

	"github.com/wsbench/wsbench/results"
)

// rampSteps counts a ramp's judged steps; nil (other workloads) has none.
func rampSteps(r *results.Ramp) int {
	if r == nil {
		return 0
	}
	return len(r.Steps)
}

// rampSpan is how long a ramp may run at most.
func (o Options) rampSpan() time.Duration {
	return time.Duration(o.MaxSteps) * o.StepDuration
}

// alignedT0 is the first whole second (from the run's base) at least
// 50 ms ahead: ramp steps must cover whole one-second intervals so each
// step's statistics are exact merges of them.
func alignedT0(now int64) int64 {
	const sec = int64(time.Second)
	return (now + 50*int64(time.Millisecond) + sec - 1) / sec * sec
}

// rampControl runs the ramp's steps: at the end of each step it starts
// the next one (the load never pauses), then judges the step that ended
// once its seconds are in, and stops the run at the first step that broke
// the SLO or had errors.
func (r *runner) rampControl(ctx context.Context) *results.Ramp {
	o := r.o
	out := &results.Ramp{SLOUS: o.SLO.Microseconds(), Unit: "msgs/s", Broken: "last step"}
	rate, step := o.Rate, int64(o.StepDuration)
	for k := 0; k < o.MaxSteps; k++ {
		start, end := r.t0+int64(k)*step, r.t0+int64(k+1)*step
		if r.clk.sleepUntil(ctx, end) != nil {
			out.Broken = "interrupted"
			return out
		}
		next := rate * o.RampFactor
		if k+1 < o.MaxSteps {
			r.broadcast(loopMsg{kind: msgRate, t0: end, rate: next})
		}
		st, ok := r.judgeStep(ctx, start, end, rate)
		if !ok {
			out.Broken = "interrupted"
			return out
		}
		out.Steps = append(out.Steps, st)
		if !st.OK {
			out.Broken = "p99 over SLO"
			if st.Errors > 0 {
				out.Broken = "errors"
			}
			r.broadcast(loopMsg{kind: msgStop})
			return out
		}
		out.MaxOK = rate
		rate = next
	}
	r.broadcast(loopMsg{kind: msgStop})
	return out
}

// judgeStep waits until the step's seconds are merged and measures it.
func (r *runner) judgeStep(ctx context.Context, start, end int64, rate float64) (results.RampStep, bool) {
	from, to := start/int64(time.Second), end/int64(time.Second)
	for {
		h, recv, errs, ok := r.agg.span(mRTT, from, to)
		if ok {
			secs := float64(end-start) / 1e9
			st := results.RampStep{
				Offered: math.Round(rate*100) / 100, Achieved: float64(recv) / secs,
				Start: float64(start) / 1e9, End: float64(end) / 1e9,
				P50: h.ValueAtPercentile(50), P99: h.ValueAtPercentile(99), Errors: errs,
			}
			st.OK = h.TotalCount() > 0 && errs == 0 && st.P99 <= r.o.SLO.Microseconds()
			return st, true
		}
		if r.clk.sleep(ctx, 50*time.Millisecond) != nil {
			return results.RampStep{}, false
		}
	}
}

func (r *runner) broadcast(m loopMsg) {
	for _, e := range r.engines {
		e.send(m)
	}
}
