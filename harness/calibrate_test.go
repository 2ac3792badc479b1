package harness

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/stack"
)

// Calibration tolerances, chosen from measurement (20 runs of the
// calibrate scenario on the local runtime and in containers, on a 2-core
// machine shared with other work): a 2 ms echo delay moved the rtt p50 by
// 1.75–2.41 ms (most 2.0–2.2), direct and through the reference proxy,
// leaving out rows a stall of tens of milliseconds spoiled; the reference
// proxy's --inject-delay 1ms, which holds each chunk on a timerfd since
// issue 10 (on a Go timer, up to 1 ms late, it added 2.85–3.5 ms), added
// 2.10–2.24 ms over 6 runs; the 1 s read timeout dropped connections at
// 0.98–1.04 s, median 0.98–1.03 s.
const (
	delayTolerance = 500 * time.Microsecond
	dropTolerance  = 0.05 // of the 1 s read timeout
	// calibrateAttempts bounds the reruns: a machine shared with other
	// work can stall a process for tens of milliseconds, which spoils one
	// row of one run; a calibration off in every run is not a stall.
	calibrateAttempts = 3
)

// The calibrate built-in end to end on local processes: a known delay moves
// the measured rtt p50 by that delay, relative to the no-delay row measured
// in the same run, and a known read timeout is measured as the drop time.
// Each check must hold in one run; the scenario is run again for the
// checks a stall spoiled, at most calibrateAttempts times in all.
func TestCalibrateLocal(t *testing.T) {
	passed := map[string]bool{}
	last := map[string]string{} // check → how it was off in its last failing run
	for attempt := 1; attempt <= calibrateAttempts; attempt++ {
		out := runScenarios(t, context.Background(), stack.Spec{Runtime: stack.RuntimeLocal}, "calibrate")
		for check, problem := range calibrationChecks(t, out) {
			if problem == "" {
				passed[check] = true
			} else {
				last[check] = problem
			}
		}
		var off []string
		for check := range last {
			if !passed[check] {
				off = append(off, check)
			}
		}
		if len(off) == 0 {
			return
		}
		sort.Strings(off)
		t.Logf("run %d of %d: still off: %s", attempt, calibrateAttempts, strings.Join(off, ", "))
	}
	for check, problem := range last {
		if !passed[check] {
			t.Errorf("off in all %d runs: %s", calibrateAttempts, problem)
		}
	}
}

// calibrationChecks checks one run of the calibrate scenario, logs its
// figures and returns each check's problem ("" when it held).
func calibrationChecks(t *testing.T, out *Outcome) map[string]string {
	t.Helper()
	if len(out.Scenarios) != 1 || out.Scenarios[0].Err != "" {
		t.Fatalf("calibrate did not run: %+v", out.Scenarios)
	}
	rows := map[string]*results.Summary{}
	for _, r := range out.Scenarios[0].Rows {
		if r.Err != "" || r.Summary == nil {
			t.Fatalf("%s/%s: not measured: %s", r.Target, r.Workload, r.Err)
		}
		if c := r.Summary.Connections; c.Opened != c.Attempted {
			t.Fatalf("%s/%s: %d of %d connections opened; failures %v", r.Target, r.Workload, c.Opened, c.Attempted, r.Summary.Failures)
		}
		rows[r.Target+"/"+r.Workload] = r.Summary
	}
	row := func(name string) *results.Summary {
		s, ok := rows[name]
		if !ok {
			t.Fatalf("no row %s in the calibrate run", name)
		}
		return s
	}
	p50 := func(name string) time.Duration {
		st, ok := row(name).Histograms[results.MetricRTT]
		if !ok || st.Count == 0 {
			t.Fatalf("%s: no rtt samples", name)
		}
		return us(st.P50)
	}
	problems := map[string]string{}
	for _, c := range []struct {
		name, base, delayed string
		want, under, over   time.Duration // accepted: want − under … want + over
	}{
		{"echo ?delay=2ms, direct", "direct/rtt", "direct/rtt-echo-delay", 2 * time.Millisecond, delayTolerance, delayTolerance},
		{"echo ?delay=2ms through refproxy", "refproxy/rtt", "refproxy/rtt-echo-delay", 2 * time.Millisecond, delayTolerance, delayTolerance},
		{"refproxy --inject-delay 1ms each way", "refproxy/rtt", "refproxy-delay/rtt-proxy-delay", 2 * time.Millisecond, delayTolerance, delayTolerance},
	} {
		base, delayed := p50(c.base), p50(c.delayed)
		moved := delayed - base
		t.Logf("%-38s rtt p50 %v → %v: moved %v (want %v −%v/+%v)", c.name, base, delayed, moved, c.want, c.under, c.over)
		problems[c.name] = ""
		if moved < c.want-c.under || moved > c.want+c.over {
			problems[c.name] = fmt.Sprintf("%s moved the rtt p50 by %v (%v → %v), want %v −%v/+%v", c.name, moved, base, delayed, c.want, c.under, c.over)
		}
	}

	const dropCheck = "refproxy --read-timeout 1s"
	hold := row("refproxy-timeout/read-timeout")
	drop, ok := hold.Histograms[results.MetricDrop]
	if !ok || drop.Count != hold.Connections.Opened {
		t.Fatalf("read-timeout: %d drops of %d connections, want every one dropped", drop.Count, hold.Connections.Opened)
	}
	t.Logf("%-38s drop min %v p50 %v max %v (want the median 1s ± %.0f%%, none earlier)", dropCheck, us(drop.Min), us(drop.P50), us(drop.Max), dropTolerance*100)
	lo, hi := time.Duration((1-dropTolerance)*float64(time.Second)), time.Duration((1+dropTolerance)*float64(time.Second))
	problems[dropCheck] = ""
	if med := us(drop.P50); med < lo || med > hi || us(drop.Min) < lo {
		problems[dropCheck] = fmt.Sprintf("%s: drops at %v … %v, median %v; want the median within %v … %v and none before %v", dropCheck, us(drop.Min), us(drop.Max), med, lo, hi, lo)
	}
	return problems
}

func us(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
