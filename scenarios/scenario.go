package scenarios

import (
	"strconv"
	"strings"
	"time"

	"github.com/wsbench/wsbench/driver"
	"github.com/wsbench/wsbench/loadgen"
)

// Target kinds: each is a driver (package driver), which checks its
// target's fields and starts it.
const (
	KindDirect   = driver.KindDirect   // the load generator dials backend-1 itself
	KindRefproxy = driver.KindRefproxy // `wsbench proxy`, the reference proxy
	KindNginx    = driver.KindNginx    // nginx with a rendered configuration
)

// nginx configuration variants (Target.Config).
const (
	ConfigPlain   = driver.ConfigPlain   // S1: proxy_pass only
	ConfigUpgrade = driver.ConfigUpgrade // S2: HTTP/1.1 + Upgrade + Connection "upgrade"
	ConfigMap     = driver.ConfigMap     // S3: map $http_upgrade $connection_upgrade
)

// Wildcard keys expectations that apply to every target of a workload.
const Wildcard = "*"

// Backend name prefixes: echo backends are backend-1 … backend-N,
// blackholes blackhole-1 … blackhole-M.
const (
	BackendPrefix   = "backend-"
	BlackholePrefix = "blackhole-"
)

// BackendNames returns the echo backends' names: backend-1 … backend-N.
func (s *Scenario) BackendNames() []string { return numbered(BackendPrefix, s.backendCount()) }

// BlackholeNames returns the blackholes' names: blackhole-1 … blackhole-M.
func (s *Scenario) BlackholeNames() []string { return numbered(BlackholePrefix, s.Backends.Blackhole) }

func (s *Scenario) backendCount() int {
	if s.Backends.Count <= 0 {
		return 1
	}
	return s.Backends.Count
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i+1)
	}
	return out
}

// Upstreams returns the backend names target t proxies to, in order: its
// Upstreams when set, else every echo backend and then every blackhole.
// The stack maps them to addresses (NginxEnv.Upstreams, refproxy
// --upstream). A direct target dials the first.
func (s *Scenario) Upstreams(t Target) []string {
	if len(t.Upstreams) > 0 {
		return append([]string(nil), t.Upstreams...)
	}
	return append(s.BackendNames(), s.BlackholeNames()...)
}

// Target returns the target called name.
func (s *Scenario) Target(name string) (Target, bool) {
	for _, t := range s.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}

// WorkloadTargets returns the targets workload w runs against, in the
// order the workload lists them (Parse fills an empty list with every
// target, in file order).
func (s *Scenario) WorkloadTargets(w Workload) []Target {
	names := w.Targets
	if len(names) == 0 {
		names = make([]string, len(s.Targets))
		for i, t := range s.Targets {
			names[i] = t.Name
		}
	}
	out := make([]Target, 0, len(names))
	for _, n := range names {
		if t, ok := s.Target(n); ok {
			out = append(out, t)
		}
	}
	return out
}

// Expectations returns what workload w expects of target: the wildcard
// ("*") expectations first, then the target's own, each in file order.
func (w Workload) Expectations(target string) []Expectation {
	out := append([]Expectation(nil), w.Expect[Wildcard]...)
	return append(out, w.Expect[target]...)
}

// WatchesResources reports whether w is a soak: it churns connections, or
// an expectation judges a soak.* series. Only then does the harness sample
// the proxy's resources every second: reading the reference proxy's admin
// endpoint (and counting its descriptors) costs it CPU that nginx, read
// from outside, is not charged, which would skew proxy CPU per message.
func (w Workload) WatchesResources() bool {
	if w.Load.Churn > 0 {
		return true
	}
	for _, es := range w.Expect {
		for _, e := range es {
			if strings.HasPrefix(e.Metric, "soak.") {
				return true
			}
		}
	}
	return false
}

// TLS reports whether the target terminates TLS (nginx params tls: on), so
// the load generator must dial wss:// and the stack must make a
// certificate.
func (t Target) TLS() bool {
	d, ok := driver.Lookup(t.Kind)
	return ok && d.TLS(t.Driver())
}

// Driver is the target as its driver reads it.
func (t Target) Driver() driver.Target {
	return driver.Target{Name: t.Name, Kind: t.Kind, Seed: t.Seed, Config: t.Config, Params: t.Params, Args: t.Args,
		ConfigFile: t.ConfigFile, ConfigText: t.ConfigText, Command: t.Command, Image: t.Image, Port: t.Port, Mounts: t.MountData}
}

// Proxies reports whether the target starts a proxy (every kind but
// direct).
func (t Target) Proxies() bool {
	d, ok := driver.Lookup(t.Kind)
	return ok && d.Proxies()
}

// LoadConns returns the number of connections: Load.Conns, or the load
// generator's default.
func (l Load) LoadConns() int {
	if l.Conns > 0 {
		return int(l.Conns)
	}
	return loadgen.DefaultConns
}

// LoadDuration returns the load phase's length: Load.Duration, or the load
// generator's default.
func (l Load) LoadDuration() time.Duration {
	if l.Duration > 0 {
		return time.Duration(l.Duration)
	}
	return loadgen.DefaultDuration
}

// Kills reports whether a workload kills a backend mid-run; the harness
// then gives each target backends of its own.
func (s *Scenario) Kills() bool {
	for _, w := range s.Workloads {
		if w.Kill != nil {
			return true
		}
	}
	return false
}

// Estimate is a rough wall-clock time of running every workload on each
// of its targets one after another: opening the connections, the load
// phase, the drain and close, and a fixed cost per target and per
// workload run for starting processes (with backends started once per
// target when a workload kills one, as the harness does). It lets a suite be budgeted before
// it runs (the built-ins' budget is tested); real runs are measured.
func (s *Scenario) Estimate() time.Duration {
	const (
		perTarget  = 1500 * time.Millisecond // a container or process starts, readiness probed
		perRun     = 1500 * time.Millisecond // a loadgen starts, drains, closes, writes results
		perBackend = time.Second
	)
	stacks := 1
	if s.Kills() {
		stacks = len(s.Targets) // the harness gives each target its own backends
	}
	total := time.Duration(stacks*(s.backendCount()+s.Backends.Blackhole)) * perBackend
	total += time.Duration(len(s.Targets)) * perTarget
	for _, w := range s.Workloads {
		run := perRun + time.Duration(w.Load.Warmup) + w.Load.LoadDuration() + openTime(w.Load)
		if w.Kill != nil {
			run += perBackend // the killed backend is started again
		}
		total += time.Duration(len(s.WorkloadTargets(w))) * run
	}
	return total
}

// openTime is how long opening the connections takes at the connect rate.
func openTime(l Load) time.Duration {
	conns := l.LoadConns()
	if l.ConnectRate <= 0 {
		return 200 * time.Millisecond
	}
	return time.Duration(float64(conns) / float64(l.ConnectRate) * float64(time.Second))
}
