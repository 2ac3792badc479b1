package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/wsbench/wsbench/driver"
	"github.com/wsbench/wsbench/scenarios"
	"github.com/wsbench/wsbench/stack"
)

// Ports services listen on inside the stack.
const (
	backendPort = 9000
	proxyPort   = 8080
)

// Options configures a run of scenarios.
type Options struct {
	Scenarios []*scenarios.Scenario
	Dir       string     // the run directory, created
	Scale     float64    // multiplies every load duration; 0 = 1
	Spec      stack.Spec // runtime, network, CPU sets, nginx image
	// Workers is the default number of load-generator processes per
	// workload (a workload's own `workers` wins); 0 = 1.
	Workers int
	// Count repeats every workload on every target, interleaved (A B A B,
	// so drift on a shared machine hits all targets alike); each
	// repetition's results are kept and combined. 0 = 1.
	Count int
	Log   io.Writer // progress and the per-scenario tables; nil = discard
	TTY   bool      // Log is a terminal: rewrite the live line in place
}

// Run runs every scenario and returns what it measured. It returns an
// error only when nothing could run (no Docker, an unusable directory);
// failures of single targets or workloads are rows with Err set. When ctx
// is cancelled it stops, tears everything down and returns what it has,
// with Interrupted set.
func Run(ctx context.Context, o Options) (*Outcome, error) {
	if o.Scale <= 0 {
		o.Scale = 1
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("harness: run directory: %w", err)
	}
	if o.Spec.RunID == "" {
		o.Spec.RunID = stack.NewRunID()
	}
	out := &Outcome{
		RunID: o.Spec.RunID, Dir: o.Dir, Start: time.Now(),
		Runtime: or(o.Spec.Runtime, stack.RuntimeDocker), Network: or(o.Spec.Network, "bridge"), Scale: o.Scale,
	}
	h := &harness{o: o, out: out, live: newLive(o.Log, o.TTY)}
	// Build the binary once: every scenario's stack runs the same one.
	if o.Spec.Binary == "" {
		tmp, err := os.MkdirTemp("", "wsbench-run-")
		if err != nil {
			return nil, fmt.Errorf("harness: %w", err)
		}
		defer os.RemoveAll(tmp)
		spec := o.Spec
		spec.Log = h.live.lines()
		if h.o.Spec.Binary, err = stack.Binary(ctx, spec, tmp); err != nil {
			return nil, fmt.Errorf("harness: %w", err)
		}
	}
	if err := h.checkConfigs(ctx); err != nil {
		return nil, err
	}
	for i, sc := range o.Scenarios {
		if ctx.Err() != nil {
			break
		}
		h.live.printf("== %s (%d/%d): %s\n", sc.Name, i+1, len(o.Scenarios), firstLine(sc.Description))
		so, err := h.scenario(ctx, sc.Scaled(o.Scale), i)
		if fatal(err) {
			return nil, err
		}
		out.Scenarios = append(out.Scenarios, so)
		writeTable(o.Log, so)
		if err := out.write(); err != nil {
			return out, err
		}
	}
	out.End, out.Interrupted = time.Now(), ctx.Err() != nil
	if err := out.write(); err != nil {
		return out, err
	}
	return out, out.writeReports()
}

type harness struct {
	o    Options
	out  *Outcome
	live *live
}

// scenario runs one scenario. Targets share one stack, unless a workload
// kills a backend: then each target gets a fresh stack, so no target
// inherits another's dead backend.
func (h *harness) scenario(ctx context.Context, sc *scenarios.Scenario, idx int) (*ScenarioOutcome, error) {
	so := &ScenarioOutcome{Name: sc.Name, Description: sc.Description, File: sc.File}
	groups := [][]scenarios.Target{sc.Targets}
	if sc.Kills() {
		groups = nil
		for _, t := range sc.Targets {
			groups = append(groups, []scenarios.Target{t})
		}
	}
	for g, targets := range groups {
		if ctx.Err() != nil {
			break
		}
		spec := h.o.Spec
		// Each stack gets its own id; all keep the run id, so that
		// `wsbench cleanup --run` finds every one after a killed run.
		spec.StackID = fmt.Sprintf("%s-%d-%d", h.o.Spec.RunID, idx+1, g+1)
		if err := h.group(ctx, spec, sc, targets, so); err != nil {
			if fatal(err) {
				return so, err
			}
			so.Err = err.Error()
		}
	}
	return so, nil
}

// group brings up one stack for some of a scenario's targets and measures
// every workload on each of them.
func (h *harness) group(ctx context.Context, spec stack.Spec, sc *scenarios.Scenario, targets []scenarios.Target, so *ScenarioOutcome) error {
	spec.Log = h.live.lines()
	st, err := stack.Up(ctx, spec)
	defer func() {
		if st != nil {
			_ = st.Down(context.WithoutCancel(ctx))
		}
	}()
	if err != nil {
		return fmt.Errorf("harness: %s: bringing the stack up: %w", sc.Name, err)
	}
	h.noteImages(ctx, st)
	topo := &topology{h: h, st: st, sc: sc, dir: filepath.Join(h.o.Dir, sc.Name)}
	if err := topo.startBackends(ctx); err != nil {
		topo.saveFailedLogs(ctx)
		return err
	}
	started := map[string]error{}
	for _, t := range targets {
		started[t.Name] = topo.startTarget(ctx, t)
	}
	for _, w := range sc.Workloads {
		so.Rows = append(so.Rows, topo.workload(ctx, w, targets, started)...)
		if ctx.Err() != nil {
			break
		}
	}
	topo.saveFailedLogs(ctx)
	return nil
}

// workload measures w on each of its targets, Count times, interleaved.
func (t *topology) workload(ctx context.Context, w scenarios.Workload, targets []scenarios.Target, started map[string]error) []*Row {
	count := max(t.h.o.Count, 1)
	var rows []*Row
	var reps [][]rep
	for _, tg := range targets {
		if runsOn(w, tg.Name) {
			rows = append(rows, t.newRow(w, tg, started[tg.Name]))
			reps = append(reps, nil)
		}
	}
	for i := 1; i <= count && ctx.Err() == nil; i++ {
		for j, row := range rows {
			if row.Err != "" || row.Skipped != "" || ctx.Err() != nil {
				continue
			}
			tg, _ := t.sc.Target(row.Target)
			reps[j] = append(reps[j], t.measure(ctx, w, tg, i, count))
		}
	}
	for j, row := range rows {
		t.finish(ctx, row, w, reps[j])
	}
	return rows
}

func runsOn(w scenarios.Workload, target string) bool {
	return len(w.Targets) == 0 || slices.Contains(w.Targets, target)
}

// noteImages records, once, the images a run used: wsbench's and those of
// the targets' drivers. It asks only for images a target runs: asking
// builds them.
func (h *harness) noteImages(ctx context.Context, st *stack.Stack) {
	if len(h.out.Images) > 0 {
		return
	}
	kinds := []string{stack.ImageWsbench}
	for _, sc := range h.o.Scenarios {
		for _, tg := range sc.Targets {
			if d, ok := driver.Lookup(tg.Kind); ok && d.Image() != "" && !slices.Contains(kinds, d.Image()) {
				kinds = append(kinds, d.Image())
			}
		}
	}
	for _, kind := range kinds {
		img, err := st.Image(ctx, kind)
		if err != nil {
			continue
		}
		h.out.Images = append(h.out.Images, ImageInfo{Kind: img.Kind, Ref: img.Ref, ID: img.ID, Version: img.Version, Source: img.Source})
	}
}

// fatal reports whether err stops the whole run: no scenario can run
// without Docker, or without a wsbench binary its containers can run.
func fatal(err error) bool {
	return errors.Is(err, stack.ErrNoDocker) || errors.Is(err, stack.ErrNoWsbench)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
