package scenarios

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsbench/wsbench/driver"
	"github.com/wsbench/wsbench/loadgen"
)

// Limits on what a scenario may ask for.
const (
	MaxBackends   = 64
	MaxBlackholes = 8
	MaxWorkers    = 64
	// ConnsPerWorker is the most connections one load-generator process
	// is given: a process may open at most 20,000 files here, and it needs
	// a few for itself.
	ConnsPerWorker = 19_000
)

// nameRE is what names a results directory: target and workload names.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

var seedRE = regexp.MustCompile(`^S([1-9]|1[01])$`)

// validate checks what decoding cannot: names, references between parts of
// the file, and values that only make sense together. It fills defaults
// (one backend; a workload without targets runs on every target).
func validate(s *Scenario, pos positions, file string) []*Error {
	v := &validator{file: file, pos: pos}
	v.scenario(s)
	return v.errs
}

type validator struct {
	file string
	pos  positions
	errs []*Error
}

// given reports whether the file sets the key at path, so that an explicit
// 0 can be told from a key left out (which takes the default).
func (v *validator) given(path string) bool {
	_, ok := v.pos[path]
	return ok
}

func (v *validator) fail(path, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Line: v.pos.line(path), Key: path, Err: fmt.Errorf(format, args...)})
}

func (v *validator) scenario(s *Scenario) {
	switch {
	case s.Name == "":
		v.fail("name", "missing: every scenario needs a name (lowercase letters, digits, '-')")
	case !nameRE.MatchString(s.Name):
		v.fail("name", "%q: want lowercase letters, digits and '-', at most 63", s.Name)
	}
	seen := map[string]bool{}
	for i, seed := range s.Seeds {
		p := fmt.Sprintf("seeds[%d]", i)
		if !seedRE.MatchString(seed) {
			v.fail(p, "%q: want a seed configuration S1 … S11 (DESIGN.md)", seed)
		} else if seen[seed] {
			v.fail(p, "%s listed twice", seed)
		}
		seen[seed] = true
	}
	v.backends(&s.Backends)
	if len(s.Targets) == 0 {
		v.fail("targets", "missing: want at least one target (%s)", strings.Join(driver.Kinds(), ", "))
	}
	first := map[string]int{}
	for i := range s.Targets {
		v.target(s, i, first)
	}
	if s.Backends.TLS {
		for _, t := range s.Targets {
			if t.Proxies() {
				v.fail("backends.tls", "target %s is %s, which speaks plain HTTP to its backends; TLS backends are for direct targets (terminate TLS at nginx with params tls: on)", t.Name, t.Kind)
				break
			}
		}
	}
	if len(s.Workloads) == 0 {
		v.fail("workloads", "missing: want at least one workload")
	}
	names := map[string]int{}
	for i := range s.Workloads {
		v.workload(s, i, names)
	}
}

func (v *validator) backends(b *Backends) {
	switch {
	case b.Count < 0 || b.Count > MaxBackends || b.Count == 0 && v.given("backends.count"):
		v.fail("backends.count", "%d: want 1 to %d echo backends", b.Count, MaxBackends)
	case b.Count == 0:
		b.Count = 1
	}
	if b.Blackhole < 0 || b.Blackhole > MaxBlackholes {
		v.fail("backends.blackhole", "%d: want 0 to %d blackholes", b.Blackhole, MaxBlackholes)
	}
	for i, a := range b.Args {
		if flag := reservedFlag(a, "--listen", "--id", "--tls-cert", "--tls-key", "--blackhole"); flag != "" {
			v.fail(fmt.Sprintf("backends.args[%d]", i), "%s is set by the stack, not the scenario", flag)
		}
	}
}

// reservedFlag returns which of flags arg sets, if any.
func reservedFlag(arg string, flags ...string) string {
	for _, f := range flags {
		if arg == f || strings.HasPrefix(arg, f+"=") {
			return f
		}
	}
	return ""
}

// name checks the name of a target or workload at key: present, well
// formed and not taken; first maps names to the line they first appeared.
func (v *validator) name(key, what, name, why string, first map[string]int) {
	switch {
	case name == "":
		v.fail(key, "missing: %s", why)
	case !nameRE.MatchString(name):
		v.fail(key, "%q: want lowercase letters, digits and '-', at most 63", name)
	case first[name] > 0:
		v.fail(key, "duplicate %s name %q (first at line %d)", what, name, first[name])
	default:
		first[name] = max(1, v.pos.line(key))
	}
}

func (v *validator) target(s *Scenario, i int, first map[string]int) {
	t := &s.Targets[i]
	p := fmt.Sprintf("targets[%d]", i)
	v.name(p+".name", "target", t.Name, "every target needs a name (it names its results directory)", first)
	if t.Seed != "" && !seedRE.MatchString(t.Seed) {
		v.fail(p+".seed", "%q: want a seed configuration S1 … S11 (DESIGN.md)", t.Seed)
	}
	v.files(t, p)
	for _, err := range driver.Check(t.Driver()) {
		var pe *driver.ParamError
		if errors.As(err, &pe) {
			v.fail(p+"."+pe.Field, "%v", pe.Err)
		}
	}
	v.upstreams(s, t, p)
}

// files reads the files a target names, relative to the scenario file:
// config_file, mounts, and a command given as a relative path.
func (v *validator) files(t *Target, p string) {
	dir, ok := v.dir()
	read := func(key, name string) []byte {
		if !ok {
			v.fail(key, "%q: a built-in scenario names no files", name)
			return nil
		}
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		b, err := os.ReadFile(name)
		if err != nil {
			v.fail(key, "%v (a path relative to the scenario file)", err)
			return nil
		}
		return b
	}
	if t.ConfigFile != "" {
		t.ConfigText = read(p+".config_file", t.ConfigFile)
	}
	for _, c := range slices.Sorted(maps.Keys(t.Mounts)) {
		if t.MountData == nil {
			t.MountData = map[string][]byte{}
		}
		t.MountData[c] = read(p+".mounts."+c, t.Mounts[c])
	}
	if ok && strings.Contains(t.Command, "/") && !filepath.IsAbs(t.Command) {
		if abs, err := filepath.Abs(filepath.Join(dir, t.Command)); err == nil {
			t.Command = abs // with a slash, so that PATH is not searched
		}
	}
}

// dir is the directory of the scenario file, which the files it names are
// relative to; ok is false for a built-in scenario.
func (v *validator) dir() (string, bool) {
	if strings.HasPrefix(v.file, "builtin:") {
		return "", false
	}
	return filepath.Dir(v.file), true
}

func (v *validator) upstreams(s *Scenario, t *Target, p string) {
	known := append(s.BackendNames(), s.BlackholeNames()...)
	seen := map[string]bool{}
	for j, u := range t.Upstreams {
		up := fmt.Sprintf("%s.upstreams[%d]", p, j)
		switch {
		case !contains(known, u):
			v.fail(up, "%q: no such backend (the scenario has %s)", u, strings.Join(known, ", "))
		case seen[u]:
			v.fail(up, "%q listed twice", u)
		}
		seen[u] = true
	}
	if !t.Proxies() && len(t.Upstreams) > 1 {
		v.fail(p+".upstreams", "a direct target dials one backend, got %d", len(t.Upstreams))
	}
}

func (v *validator) workload(s *Scenario, i int, first map[string]int) {
	w := &s.Workloads[i]
	p := fmt.Sprintf("workloads[%d]", i)
	v.name(p+".name", "workload", w.Name, "every workload needs a name", first)
	seen := map[string]bool{}
	for j, name := range w.Targets {
		tp := fmt.Sprintf("%s.targets[%d]", p, j)
		if _, ok := s.Target(name); !ok {
			v.fail(tp, "%q: no such target%s", name, hint(name, targetNames(s)))
		} else if seen[name] {
			v.fail(tp, "%q listed twice", name)
		}
		seen[name] = true
	}
	if len(w.Targets) == 0 {
		w.Targets = targetNames(s)
	}
	v.load(&w.Load, p+".load")
	v.kill(s, w, p)
	v.expect(s, w, p)
}

func targetNames(s *Scenario) []string {
	out := make([]string, len(s.Targets))
	for i, t := range s.Targets {
		out[i] = t.Name
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// load checks the load-generator settings, each against the workloads it
// applies to, then asks the load generator itself.
func (v *validator) load(l *Load, p string) {
	before := len(v.errs)
	kind, ok := l.Kind()
	if !ok || !slices.Contains(workloads, kind) {
		names := workloadNames(workloads)
		v.fail(p+".workload", "%q: want %s%s", l.Workload, strings.Join(names, ", "), didYouMean(l.Workload, names))
		return
	}
	only := func(key string, set bool, kinds ...loadgen.Workload) {
		if set && !slices.Contains(kinds, kind) {
			v.fail(p+"."+key, "applies to the %s workload only, this one is %s", strings.Join(workloadNames(kinds), " and "), kind)
		}
	}
	only("rate", v.given(p+".rate"), loadgen.WorkloadRTT)
	only("window", v.given(p+".window"), loadgen.WorkloadThroughput)
	only("push_rate", v.given(p+".push_rate"), loadgen.WorkloadPush)
	only("hold_send", l.HoldSend != "", loadgen.WorkloadHold)
	only("no_read", l.NoRead, loadgen.WorkloadHold)
	only("warmup", l.Warmup > 0, loadgen.WorkloadRTT, loadgen.WorkloadThroughput, loadgen.WorkloadPush)
	only("churn", l.Churn > 0, loadgen.WorkloadHold)
	if l.Path != "" {
		if u, err := url.ParseRequestURI(l.Path); err != nil || !strings.HasPrefix(l.Path, "/") || strings.ContainsAny(l.Path, " \t\r\n") {
			v.fail(p+".path", "%q: want a request path and query, e.g. /echo?hello=1", l.Path)
		} else if _, err := url.ParseQuery(u.RawQuery); err != nil {
			v.fail(p+".path", "%q: query: %v", l.Path, err)
		}
	}
	if l.HoldSend != "" && l.HoldSend != "ping" && l.HoldSend != "data" {
		v.fail(p+".hold_send", "%q: want ping or data", l.HoldSend)
	}
	if l.HoldSend != "" && l.PingInterval == 0 {
		v.fail(p+".hold_send", "%q needs ping_interval: how often to send it", l.HoldSend)
	}
	for j, h := range l.Headers {
		if name, _, ok := strings.Cut(h, ":"); !ok || !validHeaderName(strings.TrimSpace(name)) {
			v.fail(fmt.Sprintf("%s.headers[%d]", p, j), "%q: want \"Name: value\"", h)
		}
	}
	if l.SourceIPs != "" {
		if _, err := loadgen.ParseSourceIPs(l.SourceIPs); err != nil {
			v.fail(p+".source_ips", "%v", err)
		}
	}
	if l.Takeover != "" {
		if _, err := loadgen.ParseContextTakeover(l.Takeover); err != nil {
			v.fail(p+".compression_context_takeover", "%v", err)
		}
	}
	v.workers(l, p)
	o := l.Options("ws://target:8080" + l.Path)
	// no_read needs the epoll engine, which the host running the
	// scenario has or not: checked when it runs, not in the file.
	o.NoRead = false
	// The load generator's own rules, ranges included, with the keys
	// this file sets checked as written: "window: 0" is an error, not
	// the default.
	err := o.ValidateGiven(func(option string) bool { return v.given(p + "." + loadKey(option)) })
	var oe *loadgen.OptionError
	switch {
	case err == nil || len(v.errs) > before:
	case errors.As(err, &oe):
		v.fail(p+"."+loadKey(oe.Option), "%s: %s", oe.Value, oe.Want)
	default:
		v.fail(p, "%v", err)
	}
}

// loadKey is the load: key of a load-generator option: its flag name with
// underscores ("connect-rate" → connect_rate); the url is made from path.
func loadKey(option string) string {
	if option == "url" {
		return "path"
	}
	return strings.ReplaceAll(option, "-", "_")
}

func (v *validator) workers(l *Load, p string) {
	if l.Workers < 0 || l.Workers > MaxWorkers || l.Workers == 0 && v.given(p+".workers") {
		v.fail(p+".workers", "%d: want 1 to %d load-generator processes", l.Workers, MaxWorkers)
		return
	}
	workers := max(1, l.Workers)
	if per := (int(l.Conns) + workers - 1) / workers; per > ConnsPerWorker {
		need := (int(l.Conns) + ConnsPerWorker - 1) / ConnsPerWorker
		v.fail(p+".conns", "%d connections over %d load generator(s) is %d each; a process may open at most 20,000 files here, so want workers: %d or more",
			l.Conns, workers, per, need)
	}
}

func (v *validator) kill(s *Scenario, w *Workload, p string) {
	if w.Kill == nil {
		return
	}
	k := w.Kill
	if !contains(s.BackendNames(), k.Backend) {
		v.fail(p+".kill.backend", "%q: want an echo backend: %s", k.Backend, strings.Join(s.BackendNames(), ", "))
	}
	d := w.Load.LoadDuration()
	if k.After <= 0 || time.Duration(k.After) >= d {
		v.fail(p+".kill.after", "%s: want a time inside the load phase, above 0 and below its duration %s", k.After, d)
	}
}

func (v *validator) expect(s *Scenario, w *Workload, p string) {
	hello := pathHasHello(w.Load.Path)
	var targets []string // the workload's targets that exist (unknown ones are reported already)
	for _, name := range w.Targets {
		if _, ok := s.Target(name); ok {
			targets = append(targets, name)
		}
	}
	for _, key := range sortedKeys(w.Expect) {
		kp := p + ".expect." + key
		applies := []string{key}
		if key == Wildcard {
			applies = targets
		} else if !contains(w.Targets, key) {
			v.fail(kp, "%q: not a target of this workload (want %s, or \"*\" for all)%s", key, strings.Join(targets, ", "), didYouMean(key, targets))
			continue
		}
		for j, e := range w.Expect[key] {
			ep := kp + "[" + strconv.Itoa(j) + "]"
			if strings.HasPrefix(e.Metric, "proxy.") {
				for _, name := range applies {
					if t, ok := s.Target(name); ok && t.Kind == KindDirect {
						v.fail(ep, "%s: target %s is direct, it has no proxy to measure (key the expectation by the proxy targets' names)", e.Metric, name)
						break
					}
				}
			}
			if strings.HasPrefix(e.Metric, "hello.") && !hello {
				v.fail(ep, "%s: backends send hello messages only when asked: add hello=1 to load.path (got %q)", e.Metric, w.Load.Path)
			}
		}
	}
}

// pathHasHello reports whether the request path asks echo for a hello.
func pathHasHello(path string) bool {
	u, err := url.ParseRequestURI(path)
	if err != nil {
		return false
	}
	on, err := strconv.ParseBool(u.Query().Get("hello"))
	return err == nil && on
}
