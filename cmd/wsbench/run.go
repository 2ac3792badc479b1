package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/wsbench/wsbench/internal/wrap"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/wsbench/wsbench/harness"
	"github.com/wsbench/wsbench/scenarios"
	"github.com/wsbench/wsbench/stack"
)

func init() {
	register(&command{
		name:    "run",
		summary: "Run scenarios: bring up backends, the reference proxy and nginx, measure, judge",
		order:   40,
		usage:   "[SCENARIO|FILE.yaml]... [flags]",
		example: `  # Every built-in scenario, in containers (what 'make bench' does):
  wsbench run

  # Just the seed configurations and the timeouts, twice as long:
  wsbench run seed-configs hold-timeouts --scale 2

  # A scenario file of your own:
  wsbench run ./my-nginx.yaml --out runs/my-nginx

  # Without Docker: the same topology as local processes on 127.0.0.x:
  wsbench run --runtime local

  # Pin nginx to CPU 1 and the load generators to CPU 0; split load over 2 workers:
  wsbench run throughput --cpuset nginx=1 --cpuset loadgen=0 --loadgen-workers 2

  # Three interleaved repetitions of each workload, for 'wsbench compare':
  wsbench run throughput --count 3 --out runs/head

  # What is there to run? And everything about one scenario:
  wsbench run --list
  wsbench run --list hold-timeouts

Exit status: 0 when every expectation holds, 1 when one fails (or a target
could not be measured), 2 on usage or environment errors (e.g. no Docker).
Results: runs/<run-id>/run.json and <scenario>/<target>/<workload>/.`,
		flags: runFlags,
	})
}

type runFlagValues struct {
	out, runtime, network, nginxImage, install string
	scale                                      float64
	cpusets, images                            []string
	workers, count                             int
	list, quiet                                bool
}

func runFlags(fs *pflag.FlagSet) func(context.Context, []string, *env) error {
	v := &runFlagValues{scale: 1}
	fs.StringVar(&v.out, "out", "", "run `DIR` (default runs/<run-id>)")
	fs.Float64Var(&v.scale, "scale", 1, "multiply every workload's duration (e.g. 4 for steadier numbers; above 0, at most 1000)")
	fs.StringVar(&v.runtime, "runtime", stack.RuntimeDocker, "docker (containers, the default) | local (processes on 127.0.0.x)")
	fs.StringVar(&v.network, "network", "bridge", "docker: bridge (one network per scenario) | host (everything on loopback)")
	fs.StringArrayVar(&v.images, "image", nil, "docker: try `KIND=IMAGE` first for a proxy, if present or pullable (default "+defaultImages()+"); KIND= or none: the host's binary (repeatable)")
	fs.StringVar(&v.nginxImage, "nginx-image", "", "the same as --image nginx=`IMAGE`")
	fs.StringVar(&v.install, "install", stack.InstallAuto, "auto (a proxy missing from the host is installed when root, each command printed first) | never")
	fs.StringArrayVar(&v.cpusets, "cpuset", nil, "pin a role's processes: ROLE=CPUS, roles echo, refproxy, nginx, loadgen (repeatable)")
	fs.IntVar(&v.workers, "loadgen-workers", 1, "load-generator processes per workload, 1 to 64 (a scenario's own setting wins)")
	fs.IntVar(&v.count, "count", 1, "repeat every workload on every target N times, 1 to 100, interleaved (for wsbench compare's statistics)")
	fs.BoolVar(&v.list, "list", false, "list the built-in scenarios (or describe the ones named) and exit")
	fs.BoolVarP(&v.quiet, "quiet", "q", false, "only the tables and the final line")
	return func(ctx context.Context, args []string, e *env) error {
		if v.list {
			return listScenarios(e, args)
		}
		o, err := v.options(args)
		if err != nil {
			return err
		}
		o.Log, o.TTY = e.stdout, !v.quiet && isTerminal(e.stdout)
		return runScenarios(ctx, o, e)
	}
}

// maxScale bounds --scale: 1000 turns a 10s workload into almost 3 hours.
const maxScale = 1000

func (v *runFlagValues) options(args []string) (harness.Options, error) {
	var o harness.Options
	if !(v.scale > 0 && v.scale <= maxScale) { // also refuses NaN
		return o, usagef("--scale %v: want a factor above 0 and at most %d", v.scale, maxScale)
	}
	if v.count < 1 || v.count > 100 {
		return o, usagef("--count %d: want 1 to 100", v.count)
	}
	if v.workers < 1 || v.workers > scenarios.MaxWorkers {
		return o, usagef("--loadgen-workers %d: want 1 to %d", v.workers, scenarios.MaxWorkers)
	}
	switch v.runtime {
	case stack.RuntimeDocker, stack.RuntimeLocal:
	default:
		return o, usagef("--runtime %q: want docker or local", v.runtime)
	}
	network := stack.NetworkBridge
	switch v.network {
	case "bridge":
	case "host":
		network = stack.NetworkHost
	default:
		return o, usagef("--network %q: want bridge or host", v.network)
	}
	cpus := map[string]string{}
	for _, c := range v.cpusets {
		role, set, ok := strings.Cut(c, "=")
		if !ok || role == "" {
			return o, usagef("--cpuset %q: want ROLE=CPUS, e.g. nginx=1", c)
		}
		if _, err := stack.ParseCPUSet(set); err != nil {
			return o, usagef("--cpuset %q: %v", c, err)
		}
		cpus[role] = set
	}
	images, err := parseImages(v.images, v.nginxImage)
	if err != nil {
		return o, err
	}
	if v.install != stack.InstallAuto && v.install != stack.InstallNever {
		return o, usagef("--install %q: want auto or never", v.install)
	}
	scs, err := resolveScenarios(args)
	if err != nil {
		return o, err
	}
	id := stack.NewRunID()
	out := v.out
	if out == "" {
		out = filepath.Join("runs", id)
	}
	if err := checkOutDir(out); err != nil {
		return o, err
	}
	return harness.Options{
		Scenarios: scs, Dir: out, Scale: v.scale, Workers: v.workers, Count: v.count,
		Spec: stack.Spec{RunID: id, Runtime: v.runtime, Network: network, CPUSet: cpus, Images: images, Install: v.install},
	}, nil
}

// defaultImages lists the pinned images as --image flags would name them.
func defaultImages() string {
	images := stack.DefaultImages()
	var list []string
	for _, kind := range slices.Sorted(maps.Keys(images)) {
		list = append(list, kind+"="+images[kind])
	}
	return strings.Join(list, ", ")
}

// parseImages reads --image KIND=IMAGE flags (and --nginx-image) into
// Spec.Images; "none" maps every proxy kind to no image.
func parseImages(flags []string, nginx string) (map[string]string, error) {
	images := map[string]string{}
	for _, f := range flags {
		if f == "none" {
			for _, k := range stack.ProxyKinds() {
				images[k] = ""
			}
			continue
		}
		kind, ref, ok := strings.Cut(f, "=")
		if !ok || !slices.Contains(stack.ProxyKinds(), kind) {
			return nil, usagef("--image %q: want KIND=IMAGE (or KIND= for the host's binary, or none) with KIND one of %s", f, strings.Join(stack.ProxyKinds(), ", "))
		}
		images[kind] = ref
	}
	if nginx != "" {
		images[stack.ImageNginx] = nginx
	}
	return images, nil
}

func resolveScenarios(args []string) ([]*scenarios.Scenario, error) {
	if len(args) == 0 {
		args = scenarios.BuiltinNames()
	}
	var out []*scenarios.Scenario
	for _, a := range args {
		sc, err := scenarios.Resolve(a)
		if err != nil {
			return nil, usageError{err}
		}
		out = append(out, sc)
	}
	return out, nil
}

// listScenarios prints one line per built-in scenario and target, or, for
// the scenarios named, their whole descriptions wrapped to the terminal's
// usual width.
func listScenarios(e *env, names []string) error {
	onRequest := scenarios.BuiltinOnRequest()
	full := len(names) > 0
	if !full {
		names = append(scenarios.BuiltinNames(), onRequest...)
	}
	for i, name := range names {
		sc, err := scenarios.Builtin(name)
		if err != nil {
			return usageError{err}
		}
		note := ""
		if slices.Contains(onRequest, name) {
			note = " (runs only when named)"
		}
		if !full {
			fmt.Fprintf(e.stdout, "%-16s %s%s\n", name, firstSentence(sc.Description), note)
			for _, t := range sc.Targets {
				fmt.Fprintf(e.stdout, "%-16s   %-18s %s\n", "", t.Name, firstSentence(t.Description))
			}
			continue
		}
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintf(e.stdout, "%s%s\n", name, note)
		writeWrapped(e.stdout, "  ", sc.Description)
		for _, t := range sc.Targets {
			fmt.Fprintf(e.stdout, "\n  %s\n", t.Name)
			writeWrapped(e.stdout, "    ", t.Description)
		}
	}
	if !full {
		fmt.Fprintln(e.stdout, "\nwsbench run --list NAME describes a scenario in full.")
	}
	return nil
}

// firstSentence is s up to its first full stop followed by a space, so a
// listing stays one short line per entry.
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

// writeWrapped writes s's words in lines of at most 80 columns, each
// starting with indent.
func writeWrapped(w io.Writer, indent, s string) {
	for _, line := range wrap.Words(strings.Fields(s), 80-len(indent)) {
		fmt.Fprintln(w, indent+line)
	}
}

func runScenarios(ctx context.Context, o harness.Options, e *env) error {
	out, err := harness.Run(ctx, o)
	if errors.Is(err, stack.ErrNoDocker) {
		return exitError{code: exitUsage, err: fmt.Errorf("%w\nStart Docker, or run the same topology as local processes: wsbench run --runtime local", err)}
	}
	if errors.Is(err, stack.ErrNoWsbench) {
		return exitError{code: exitUsage, err: err}
	}
	if _, ok := errors.AsType[*harness.ConfigError](err); ok {
		return exitError{code: exitUsage, err: err}
	}
	if err != nil {
		return err
	}
	return runVerdict(out, o.Dir, e)
}

// runVerdict prints the run's last line and returns its exit status.
func runVerdict(out *harness.Outcome, dir string, e *env) error {
	rows, failed, broken := 0, 0, 0
	for _, s := range out.Scenarios {
		if s.Err != "" {
			broken++
		}
		for _, r := range s.Rows {
			rows++
			if !r.Passed() {
				failed++
			}
		}
	}
	switch {
	case out.Interrupted:
		// Rows that were planned but never ran are listed too: count only
		// those with a measurement.
		measured, _ := out.Measured()
		fmt.Fprintf(e.stdout, "interrupted: %d of %d rows measured; partial results in %s\n", measured, rows, dir)
		return exitError{code: 130, err: fmt.Errorf("interrupted")}
	case !out.Passed():
		fmt.Fprintf(e.stdout, "FAIL: %d of %d rows broke an expectation or could not be measured", failed, rows)
		if broken > 0 {
			fmt.Fprintf(e.stdout, ", and %d scenarios could not run", broken)
		}
		fmt.Fprintf(e.stdout, "; results in %s\n", dir)
		return exitError{code: exitFailure}
	}
	fmt.Fprintf(e.stdout, "PASS: %d rows, every expectation held; results in %s\n", rows, dir)
	return nil
}
