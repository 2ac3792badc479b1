package loadgen

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// A zero option is its default for a library caller; given by a user, it
// is checked as 0.
func TestValidateGivenOptions(t *testing.T) {
	const url = "ws://127.0.0.1:9000/echo"
	all := func(string) bool { return true }
	tests := []struct {
		name   string
		o      Options
		given  func(string) bool
		option string // the OptionError's option; "" = valid
		want   string
	}{
		{name: "zero window is the default", o: Options{URL: url}},
		{name: "explicit zero window", o: Options{URL: url}, given: func(o string) bool { return o == "window" },
			option: "window", want: "window 0: want 1 to 65536"},
		{name: "explicit zero rate", o: Options{URL: url, Window: 1}, given: func(o string) bool { return o == "rate" },
			option: "rate", want: "rate 0: want above 0"},
		{name: "explicit zero connect-rate means all at once", o: Options{URL: url}, given: func(o string) bool { return o == "connect-rate" }},
		{name: "explicit zero loops means one per CPU", o: Options{URL: url}, given: func(o string) bool { return o == "loops" }},
		{name: "explicit zero ping-interval means none", o: Options{URL: url}, given: func(o string) bool { return o == "ping-interval" }},
		{name: "everything given as zero", o: Options{URL: url}, given: all, option: "conns", want: "conns 0"},
		{name: "negative loops", o: Options{URL: url, Loops: -1}, option: "loops", want: "loops -1: want 0 (one per CPU) or more"},
		{name: "negative conns", o: Options{URL: url, Conns: -5}, option: "conns", want: "conns -5"},
		{name: "conns beyond a process", o: Options{URL: url, Conns: MaxConns + 1}, option: "conns", want: "want 1 to 16777216"},
		{name: "size above the frame limit", o: Options{URL: url, Size: FixedSize(MaxSize + 1)}, option: "size", want: "too large, want at most 16MiB"},
		{name: "size at the frame limit", o: Options{URL: url, Size: FixedSize(MaxSize)}},
		{name: "push size below its header", o: Options{URL: url, Workload: WorkloadPush, Size: FixedSize(15)}, option: "size", want: "at least 16"},
		{name: "hold size 1", o: Options{URL: url, Workload: WorkloadHold, Size: FixedSize(1)}},
		{name: "NaN rate", o: Options{URL: url, Rate: math.NaN()}, option: "rate", want: "rate NaN"},
		{name: "infinite ramp factor", o: Options{URL: url, RampFactor: math.Inf(1)}, option: "ramp-factor", want: "ramp-factor +Inf"},
		{name: "push rate above the backend's", o: Options{URL: url, Workload: WorkloadPush, PushRate: 2e6}, option: "push-rate", want: "at most 1M"},
		{name: "window beyond the bound", o: Options{URL: url, Window: MaxWindow + 1}, option: "window"},
		{name: "negative ping interval", o: Options{URL: url, PingInterval: -time.Second}, option: "ping-interval"},
		{name: "fractional step", o: Options{URL: url, StepDuration: 1500 * time.Millisecond}, option: "step-duration", want: "whole seconds"},
		{name: "port out of range", o: Options{URL: "ws://127.0.0.1:99999/echo"}, option: "url", want: "port 99999: want 1 to 65535"},
		{name: "port 0", o: Options{URL: "ws://127.0.0.1:0/echo"}, option: "url", want: "port 0"},
		{name: "no host name", o: Options{URL: "ws://:9000/echo"}, option: "url", want: "missing host"},
		{name: "default port", o: Options{URL: "wss://example.test/echo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.ValidateGiven(tt.given)
			var oe *OptionError
			switch {
			case tt.option == "" && err != nil:
				t.Fatalf("ValidateGiven = %v, want valid", err)
			case tt.option == "":
			case !errors.As(err, &oe) || oe.Option != tt.option || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("ValidateGiven = %v, want an OptionError for %s containing %q", err, tt.option, tt.want)
			}
		})
	}
}
