package loadgen

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Workload is what a run does over its connections. The zero value is
// WorkloadRTT, the default.
type Workload uint8

// Workloads.
const (
	// WorkloadRTT sends messages on an open-model constant-rate schedule
	// and times each echo from its intended send time.
	WorkloadRTT Workload = iota
	// WorkloadThroughput keeps Window messages in flight on each
	// connection: the most the target echoes.
	WorkloadThroughput
	// WorkloadPush lets the server send timestamped messages and times
	// their one-way latency.
	WorkloadPush
	// WorkloadHold holds connections open (pinging, optionally) and
	// records how and when each one ended.
	WorkloadHold
	// WorkloadRamp is rtt with the rate raised step by step until the
	// response-time p99 of a step exceeds the SLO or the step has errors.
	WorkloadRamp
	numWorkloads
)

var workloadNames = [numWorkloads]string{"rtt", "throughput", "push", "hold", "ramp"}

func (w Workload) String() string {
	if w < numWorkloads {
		return workloadNames[w]
	}
	return "Workload(" + strconv.Itoa(int(w)) + ")"
}

// ParseWorkload reads a workload's name, as String writes it.
func ParseWorkload(s string) (Workload, error) {
	for i, n := range workloadNames {
		if s == n {
			return Workload(i), nil
		}
	}
	return 0, fmt.Errorf("loadgen: workload %q: %w", s, errWorkload)
}

var errWorkload = errors.New("want " + strings.Join(workloadNames[:numWorkloads-1], ", ") + " or " + workloadNames[numWorkloads-1])

// Set and Type make a *Workload a command-line flag (pflag.Value).
func (w *Workload) Set(s string) error {
	v, err := ParseWorkload(s)
	if err != nil {
		return errWorkload // the flag package names the flag and the value
	}
	*w = v
	return nil
}

func (*Workload) Type() string { return "workload" }

// MarshalText and UnmarshalText write and read the name, as in JSON.
func (w Workload) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

func (w *Workload) UnmarshalText(b []byte) error { return w.Set(string(b)) }

// warms reports whether the workload can have a warm-up: hold and ramp
// measure from the start (survival from the first connection, the ramp's
// steps from its first rate).
func (w Workload) warms() bool {
	return w == WorkloadRTT || w == WorkloadThroughput || w == WorkloadPush
}
