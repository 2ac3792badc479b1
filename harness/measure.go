package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wsbench/wsbench/driver"
	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/scenarios"
	"github.com/wsbench/wsbench/stack"
)

// rep is one repetition of a workload on a target.
type rep struct {
	run   *results.Run
	usage *results.Usage
	dir   string // where its results are, relative to the run directory
	err   error
}

// newRow starts the row of workload w on target tg; a target that did not
// start, or a workload this runtime cannot do, is settled at once.
func (t *topology) newRow(w scenarios.Workload, tg scenarios.Target, startErr error) *Row {
	row := &Row{Target: tg.Name, Kind: tg.Kind, Seed: tg.Seed, Description: firstLine(tg.Description), Workload: w.Name}
	switch _, unsupported := errors.AsType[*driver.UnsupportedError](startErr); {
	case unsupported:
		row.Skipped = startErr.Error()
	case startErr != nil:
		row.Err = startErr.Error()
	case w.Load.SourceIPs != "" && t.st.Spec().Runtime == stack.RuntimeDocker && t.st.Spec().Network != stack.NetworkHost:
		row.Skipped = "source addresses need --network host or --runtime local"
	}
	return row
}

// measure runs repetition i of count of workload w on target tg. With one
// repetition the results go straight to the workload's directory; with
// more, each goes to rep-<i>/ and finish combines them.
func (t *topology) measure(ctx context.Context, w scenarios.Workload, tg scenarios.Target, i, count int) rep {
	dir := filepath.Join(t.dir, tg.Name, w.Name)
	label := fmt.Sprintf("%s on %s", w.Name, tg.Name)
	if count > 1 {
		dir = filepath.Join(dir, results.RepetitionDirName(i))
		label += fmt.Sprintf(" (%d/%d)", i, count)
	}
	p := t.plan(w, tg)
	t.h.live.start(label, p.total())
	run, usage, err := t.drive(ctx, p, dir)
	t.h.live.stop()
	rel, _ := filepath.Rel(t.h.o.Dir, dir)
	return rep{run: run, usage: usage, dir: rel, err: err}
}

// finish combines a row's repetitions, checks the expectations on the
// combined result and writes its verdicts.
func (t *topology) finish(ctx context.Context, row *Row, w scenarios.Workload, reps []rep) {
	defer func() { row.Logs = t.saveFailedLogs(ctx) }()
	if row.Err != "" || row.Skipped != "" {
		return
	}
	var runs []*results.Run
	for _, r := range reps {
		if r.err != nil {
			row.Err = r.err.Error()
			return
		}
		runs = append(runs, r.run)
		if len(reps) > 1 {
			row.Reps = append(row.Reps, Rep{Dir: r.dir, Usage: r.usage})
		}
	}
	if len(runs) == 0 {
		row.Err = "interrupted before it ran"
		return
	}
	dir := filepath.Join(t.dir, row.Target, w.Name)
	row.Dir, _ = filepath.Rel(t.h.o.Dir, dir)
	run := runs[0]
	if len(runs) > 1 {
		var err error
		if run, err = results.Combine(runs...); err == nil {
			err = run.Write(dir)
		}
		if err != nil {
			row.Err = err.Error()
			return
		}
	}
	row.Summary, row.Usage = &run.Summary, sumUsage(reps)
	tg, _ := t.sc.Target(row.Target)
	facts := scenarios.Facts{Summary: &run.Summary, Proxy: row.Usage, Backends: t.echoUpstreams(tg)}
	facts.Series, facts.ProxySeries = run.Series, run.ProxySeries
	for _, e := range w.Expectations(row.Target) {
		row.Verdicts = append(row.Verdicts, e.Check(facts))
	}
	if err := writeVerdicts(dir, row); err != nil {
		row.Err = err.Error()
	}
}

// sumUsage adds the repetitions' proxy CPU and memory growth: the combined
// result adds their messages and connections too, so per-message and
// per-connection figures stay per repetition's worth (an average of the
// growth over summed connections would divide by the count twice).
func sumUsage(reps []rep) *results.Usage {
	if len(reps) == 0 {
		return nil
	}
	var u results.Usage
	for _, r := range reps {
		if r.usage == nil {
			return nil
		}
		u.CPU += r.usage.CPU
		u.MemoryGrowth += r.usage.MemoryGrowth
	}
	return &u
}

// plan is one workload on one target, worked out before it starts.
type plan struct {
	w       scenarios.Workload
	tg      scenarios.Target
	url     string
	workers int
	proxy   string        // the target's service, "" for direct
	connect time.Duration // estimated connect phase
	warmup  time.Duration // load before the measurement, not recorded
	dur     time.Duration
}

func (p plan) total() time.Duration { return p.connect + p.warmup + p.dur }

func (t *topology) plan(w scenarios.Workload, tg scenarios.Target) plan {
	p := plan{w: w, tg: tg, workers: max(w.Load.Workers, t.h.o.Workers, 1), dur: w.Load.LoadDuration(), warmup: time.Duration(w.Load.Warmup)}
	scheme, host := "ws", t.st.Addr(t.sc.Upstreams(tg)[0], backendPort)
	switch {
	case tg.Proxies():
		host, p.proxy = t.st.Addr(tg.Name, driver.ListenPort(tg.Driver())), tg.Name
		if tg.TLS() {
			scheme = "wss"
		}
	default:
		if t.sc.Backends.TLS {
			scheme = "wss"
		}
	}
	path := w.Load.Path
	if path == "" {
		path = "/"
	}
	p.url = scheme + "://" + host + path
	conns := w.Load.LoadConns()
	if r := float64(w.Load.ConnectRate); r > 0 {
		p.connect = time.Duration(float64(conns) / r * float64(time.Second))
	} else {
		p.connect = time.Duration(conns) * 300 * time.Microsecond
	}
	return p
}

// args is worker i's command line: its share of the connections and rates.
func (p plan) args(i int) []string {
	l := p.w.Load
	conns := l.LoadConns()
	share := conns / p.workers
	if i < conns%p.workers {
		share++
	}
	frac := float64(share) / float64(conns)
	o := l.Options(p.url)
	o.Conns = max(share, 1)
	o.ConnectRate *= frac
	o.Rate *= frac
	o.Churn *= frac
	o.Duration, o.Warmup = p.dur, p.warmup
	o.Insecure = strings.HasPrefix(p.url, "wss:") // the run's own self-signed certificate
	return append([]string{"loadgen", "--quiet"}, o.Flags()...)
}

// drive runs the load generators, kills a backend if the workload says so,
// reads the proxy's usage, and merges the workers' results into dir.
func (t *topology) drive(ctx context.Context, p plan, dir string) (*results.Run, *results.Usage, error) {
	startAt := time.Now().Add(launchMargin(t.st.Spec().Runtime, p.workers))
	// The measurement starts after the connect phase and the warm-up;
	// kill times count from it.
	loadStart := startAt.Add(p.connect + p.warmup)
	startWin := t.startWindow(ctx, p, loadStart)
	if p.warmup == 0 { // the window covers the handshakes too, as before
		if _, err := startWin(); err != nil {
			return nil, nil, err
		}
	}
	mem := t.sampleMemory(ctx, p.proxy, loadStart.Add(p.dur*8/10))
	stopKill := t.killLater(ctx, p.w.Kill, loadStart)
	workDir := filepath.Join(dir, ".workers")
	defer os.RemoveAll(workDir)
	stopSampling := t.sampleProxy(ctx, p)
	res, err := t.st.RunLoadgen(ctx, stack.Loadgen{
		Name: "lg", Workers: p.workers, OutDir: workDir,
		Args: func(i int) []string {
			return append(p.args(i), "--start-at", strconv.FormatInt(startAt.UnixMilli(), 10))
		},
	})
	stopKill()
	memGrowth := <-mem
	samples := stopSampling()
	run, rerr := mergeWorkers(res, err)
	if rerr != nil {
		return nil, nil, rerr
	}
	run.ProxySeries = proxySeries(samples, run)
	if err := run.Write(dir); err != nil {
		return nil, nil, err
	}
	keepWorkerLogs(res, dir)
	win, err := startWin()
	if err != nil {
		return nil, nil, err
	}
	if win == nil {
		return run, nil, nil
	}
	if err := win.Stop(context.WithoutCancel(ctx)); err != nil {
		return run, nil, nil
	}
	return run, &results.Usage{CPU: win.CPU(p.proxy), MemoryGrowth: memGrowth - win.Start[p.proxy].Memory}, nil
}

// startWindow starts reading the proxy's usage: at once without a
// warm-up, at the measurement's estimated start (loadStart) with one, so
// the proxy's CPU of the warm-up, whose messages are not counted, stays
// out of its CPU per message. The returned func gives the window (nil
// without a proxy), waiting for it to have started; it may be called
// again.
func (t *topology) startWindow(ctx context.Context, p plan, loadStart time.Time) func() (*stack.Window, error) {
	if p.proxy == "" {
		return func() (*stack.Window, error) { return nil, nil }
	}
	type result struct {
		win *stack.Window
		err error
	}
	ch := make(chan result, 1)
	go func() {
		if p.warmup > 0 {
			select {
			case <-time.After(time.Until(loadStart)):
			case <-ctx.Done():
			}
		}
		win, err := t.st.StartWindow(ctx, p.proxy)
		if err != nil {
			err = fmt.Errorf("harness: reading %s's usage: %w", p.proxy, err)
		}
		ch <- result{win, err}
	}()
	var r *result
	return func() (*stack.Window, error) {
		if r == nil {
			got := <-ch
			r = &got
		}
		return r.win, r.err
	}
}

// launchMargin is how far ahead the workers are told to start, so that
// all of them are running by then.
func launchMargin(runtime string, workers int) time.Duration {
	if runtime == stack.RuntimeLocal {
		return 300*time.Millisecond + time.Duration(workers)*100*time.Millisecond
	}
	return time.Second + time.Duration(workers)*500*time.Millisecond
}

// sampleMemory reads the proxy's memory at time at, while the connections
// are held; the channel yields it (0 for no proxy or on failure).
func (t *topology) sampleMemory(ctx context.Context, name string, at time.Time) <-chan int64 {
	ch := make(chan int64, 1)
	if name == "" {
		ch <- 0
		return ch
	}
	go func() {
		select {
		case <-time.After(time.Until(at)):
		case <-ctx.Done():
			ch <- 0
			return
		}
		u, err := t.st.Usage(ctx, name)
		if err != nil {
			ch <- 0
			return
		}
		ch <- u.Memory
	}()
	return ch
}

// killLater kills k.Backend k.After into the load phase; the returned func
// cancels it if the load ended first.
func (t *topology) killLater(ctx context.Context, k *scenarios.Kill, loadStart time.Time) func() {
	if k == nil {
		return func() {}
	}
	timer := time.AfterFunc(time.Until(loadStart.Add(time.Duration(k.After))), func() {
		t.h.live.printf("   killing %s\n", k.Backend)
		if err := t.st.Kill(ctx, k.Backend); err != nil {
			t.h.live.printf("   killing %s: %v\n", k.Backend, err)
		}
	})
	return func() { timer.Stop() }
}

// mergeWorkers reads every worker's results and merges them losslessly. A
// worker that exited non-zero but wrote results (e.g. "no connection
// opened": the expected outcome of a broken config) still counts.
func mergeWorkers(res []stack.WorkerResult, runErr error) (*results.Run, error) {
	var we *stack.WorkerError
	if runErr != nil && !errors.As(runErr, &we) {
		return nil, fmt.Errorf("harness: load generators: %w", runErr)
	}
	var runs []*results.Run
	for _, r := range res {
		run, err := results.Read(r.Dir)
		if err != nil {
			if runErr != nil {
				return nil, fmt.Errorf("harness: load generator %s failed: %w", r.Name, runErr)
			}
			return nil, fmt.Errorf("harness: load generator %s: %w", r.Name, err)
		}
		runs = append(runs, run)
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("harness: no load generator wrote results")
	}
	if len(runs) == 1 {
		return runs[0], nil
	}
	return results.Merge(runs...)
}

func writeVerdicts(dir string, row *Row) error {
	b, err := json.MarshalIndent(row.Verdicts, "", "  ")
	if err != nil {
		return fmt.Errorf("harness: verdicts: %w", err)
	}
	return writeBytes(filepath.Join(dir, "verdicts.json"), append(b, '\n'))
}

// keepWorkerLogs moves the workers' output next to the merged results;
// their own result directories go (the merge kept every sample).
func keepWorkerLogs(res []stack.WorkerResult, dir string) {
	for _, r := range res {
		if r.Log != "" {
			_ = os.Rename(r.Log, filepath.Join(dir, filepath.Base(r.Log)))
		}
	}
}
