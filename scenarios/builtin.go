package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/wsbench/wsbench/units"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// builtinOrder is the order `wsbench run` runs the built-ins in: first
// whether each seed config carries a WebSocket at all, then what it costs,
// then how long connections live, how they spread, and what a failure does.
var builtinOrder = []string{"seed-configs", "handshake", "throughput", "hold-timeouts", "balance", "backend-failure"}

// builtinOnRequest are built-ins that `wsbench run` runs only when named:
// calibrate checks wsbench itself, not a proxy; soak is long by nature (its
// 10-minute figure is --scale 10); and the default suite's budget has no
// room left for either; proxies runs every proxy kind side by side, which
// needs them all installed, and so does protocol (subprotocol and
// compression through each, and compression's cost).
var builtinOnRequest = []string{"calibrate", "soak", "proxies", "protocol"}

// builtinAll is every built-in, for lookups and messages.
var builtinAll = append(append([]string(nil), builtinOrder...), builtinOnRequest...)

// BuiltinNames returns the built-in scenarios' names, in the order `wsbench
// run` runs them.
func BuiltinNames() []string { return append([]string(nil), builtinOrder...) }

// BuiltinOnRequest returns the built-ins `wsbench run` runs only when they
// are named (calibrate, soak, proxies, protocol).
func BuiltinOnRequest() []string { return append([]string(nil), builtinOnRequest...) }

// Builtin returns the built-in scenario called name, parsed from the
// binary's embedded copy (its File is "builtin:<name>.yaml").
func Builtin(name string) (*Scenario, error) {
	if !contains(builtinAll, name) {
		return nil, fmt.Errorf("scenarios: no built-in scenario %q%s", name, hint(name, builtinAll))
	}
	data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("scenarios: built-in %s: %w", name, err)
	}
	return Parse("builtin:"+name+".yaml", data)
}

// BuiltinSource returns the YAML of a built-in scenario, e.g. to start a
// user's own file from.
func BuiltinSource(name string) ([]byte, error) {
	if !contains(builtinAll, name) {
		return nil, fmt.Errorf("scenarios: no built-in scenario %q%s", name, hint(name, builtinAll))
	}
	return builtinFS.ReadFile("builtin/" + name + ".yaml")
}

// Resolve reads a scenario named on the command line: a built-in name, or
// else the path of a scenario file.
func Resolve(arg string) (*Scenario, error) {
	if contains(builtinAll, arg) {
		return Builtin(arg)
	}
	s, err := LoadFile(arg)
	if err == nil {
		return s, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		msg := fmt.Sprintf("scenarios: %q is neither a built-in scenario (%s) nor a file", arg, strings.Join(builtinAll, ", "))
		if s := suggest(arg, builtinAll); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", s)
		}
		return nil, fmt.Errorf("%s: %w", msg, os.ErrNotExist)
	}
	return nil, err
}

// Scaled returns a copy of s with every workload's load duration, warm-up
// and kill time multiplied by f (`wsbench run --scale`): 2 runs each load
// twice as long. Timeouts and intervals are not scaled: they are what is
// measured. A load duration left to the default is scaled from the
// default. f must be above 0; otherwise the copy is unscaled.
func (s *Scenario) Scaled(f float64) *Scenario {
	c := s.clone()
	if !(f > 0) || f == 1 {
		return c
	}
	scale := func(d time.Duration) time.Duration { return time.Duration(float64(d) * f).Round(time.Millisecond) }
	for i := range c.Workloads {
		w := &c.Workloads[i]
		w.Load.Duration = units.Duration(scale(w.Load.LoadDuration()))
		w.Load.Warmup = units.Duration(scale(time.Duration(w.Load.Warmup)))
		if w.Kill != nil {
			w.Kill.After = units.Duration(scale(time.Duration(w.Kill.After)))
		}
	}
	return c
}

// clone deep-copies s: a scaled or edited copy never shares slices or
// maps with the original.
func (s *Scenario) clone() *Scenario {
	c := *s
	c.Seeds = append([]string(nil), s.Seeds...)
	c.Backends.Args = append([]string(nil), s.Backends.Args...)
	c.Targets = make([]Target, len(s.Targets))
	for i, t := range s.Targets {
		t.Args = append([]string(nil), t.Args...)
		t.Upstreams = append([]string(nil), t.Upstreams...)
		if t.Params != nil {
			p := make(map[string]string, len(t.Params))
			for k, v := range t.Params {
				p[k] = v
			}
			t.Params = p
		}
		c.Targets[i] = t
	}
	c.Workloads = make([]Workload, len(s.Workloads))
	for i, w := range s.Workloads {
		w.Targets = append([]string(nil), w.Targets...)
		w.Load.Headers = append([]string(nil), w.Load.Headers...)
		if w.Kill != nil {
			k := *w.Kill
			w.Kill = &k
		}
		if w.Expect != nil {
			e := make(map[string][]Expectation, len(w.Expect))
			for k, v := range w.Expect {
				e[k] = append([]Expectation(nil), v...)
			}
			w.Expect = e
		}
		c.Workloads[i] = w
	}
	return &c
}
