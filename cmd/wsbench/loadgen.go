package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsbench/wsbench/internal/sysio"
	"github.com/wsbench/wsbench/loadgen"
	"github.com/wsbench/wsbench/report"
	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/units"
)

func init() {
	register(&command{
		name:    "loadgen",
		summary: "Open WebSocket connections and measure a workload (rtt, throughput, push, hold)",
		order:   20,
		usage:   "--url ws://HOST:PORT/PATH [flags]",
		example: `  # Round trips at a constant 10k msgs/s over 50 connections (coordinated-omission free),
  # after a 1s warm-up that is not recorded:
  wsbench loadgen --url ws://127.0.0.1:9000/echo --workload rtt --conns 50 --rate 10k --warmup 1s --duration 10s

  # A target by name: resolved once before connecting (the dns histogram holds the
  # lookup, connect and handshake start at the TCP connect; connections spread over
  # every address). --resolve-each looks it up again for every connection:
  wsbench loadgen --url ws://backend-1:9000/echo --workload hold --conns 100 --resolve-each

  # Maximum echo throughput, 64-byte messages, 16 in flight per connection:
  wsbench loadgen --url ws://127.0.0.1:9000/echo --workload throughput --window 16 --size 64

  # Server push latency: 100 messages/s on each of 200 connections:
  wsbench loadgen --url ws://127.0.0.1:9000 --workload push --conns 200 --push-rate 100

  # Hold 15k idle connections for a minute, pinging every 20s, opened at 2k/s
  # from 39 source addresses:
  wsbench loadgen --url ws://127.0.0.1:9000/echo --workload hold --conns 15k \
      --connect-rate 2k --duration 1m --ping-interval 20s --source-ips 127.0.0.2-127.0.0.40

  # Soak: hold 5k connections for 10 minutes, pinging and sending a little
  # data, closing and reopening 50 of them every second:
  wsbench loadgen --url ws://127.0.0.1:9000/echo --workload hold --conns 5k --connect-rate 1k \
      --duration 10m --ping-interval 5s --hold-send data --churn 50

  # Capacity: 1k msgs/s, then ×1.5 every 5s, until p99 exceeds 5ms:
  wsbench loadgen --url ws://127.0.0.1:8080/echo --workload ramp --rate 1k --slo 5ms

  # Handshake storm through a TLS proxy with a self-signed certificate:
  wsbench loadgen --url wss://127.0.0.1:8443/echo --workload hold --conns 2000 \
      --connect-rate 500 --duration 1s --insecure

A host name that does not resolve stops the run before it starts (exit 1);
with --resolve-each each failed lookup is counted as a "dns" failure.
Results go to runs/<run-id>/ (summary.json, <metric>.hgrm, <metric>.hlog,
timeseries.csv); 'wsbench report DIR' prints them again. Ctrl-C stops early
and still writes everything measured so far, marked "interrupted".`,
		flags: loadgenFlags,
	})
}

type loadgenFlagValues struct {
	url, workload, holdSend, engine, out, sources, startAt string
	conns                                                  units.Count
	connectRate, rate, pushRate                            units.Rate
	size                                                   units.Size
	window, loops                                          int
	duration, warmup, ping, hsTimeout, drain, slack, step  units.Duration
	slo                                                    units.Duration
	rampFactor                                             float64
	maxSteps                                               int
	headers                                                []string
	insecure, quiet, noRead, reconnect, resolveEach        bool
	churn                                                  units.Rate
}

func loadgenFlags(fs *pflag.FlagSet) func(context.Context, []string, *env) error {
	v := &loadgenFlagValues{
		conns: loadgen.DefaultConns, rate: loadgen.DefaultRate, pushRate: loadgen.DefaultPushRate,
		size: loadgen.DefaultSize, window: loadgen.DefaultWindow,
		duration: units.Duration(loadgen.DefaultDuration), hsTimeout: units.Duration(loadgen.DefaultHandshakeTimeout),
		drain: units.Duration(loadgen.DefaultDrain), slack: units.Duration(loadgen.DefaultTimerSlack),
		step: units.Duration(loadgen.DefaultStepDuration), slo: units.Duration(loadgen.DefaultSLO),
		rampFactor: loadgen.DefaultRampFactor, maxSteps: loadgen.DefaultMaxSteps,
	}
	fs.StringVar(&v.url, "url", "", "target `URL`, ws:// or wss:// (required); path defaults to /echo, or /push for push")
	fs.StringVar(&v.workload, "workload", loadgen.WorkloadRTT, "rtt | throughput | push | hold | ramp")
	fs.Var(&v.conns, "conns", "connections to open (at least 1; each is an open file, see ulimit -n)")
	fs.Var(&v.connectRate, "connect-rate", "connections opened per second (0 = all at once)")
	fs.Var(&v.rate, "rate", "rtt: messages per second over all connections (open model)")
	fs.Var(&v.size, "size", "message size, at most 16MiB (rtt/throughput: at least 24B; push: at least 16B)")
	fs.IntVar(&v.window, "window", v.window, "throughput: messages in flight per connection")
	fs.Var(&v.pushRate, "push-rate", "push: messages per second the server sends on each connection")
	fs.Var(&v.duration, "duration", "length of the measured load phase, after the connections are opened (and the warm-up)")
	fs.Var(&v.warmup, "warmup", "rtt, throughput, push: run the load this long first, recording nothing (caches, page faults, first GCs stay out of the results)")
	fs.Var(&v.ping, "ping-interval", "hold: send a ping (or --hold-send data) on each connection this often; 0 = silent")
	fs.StringVar(&v.holdSend, "hold-send", "ping", "hold: what --ping-interval sends: ping | data")
	fs.Float64Var(&v.rampFactor, "ramp-factor", v.rampFactor, "ramp: each step offers this many times the last step's rate (starting at --rate)")
	fs.Var(&v.step, "step-duration", "ramp: length of each step (whole seconds)")
	fs.Var(&v.slo, "slo", "ramp: a step meets the SLO when its response-time p99 is at most this and nothing failed")
	fs.IntVar(&v.maxSteps, "max-steps", v.maxSteps, "ramp: stop after this many steps")
	fs.Var(&v.hsTimeout, "handshake-timeout", "give up on a connection attempt after this long")
	fs.Var(&v.drain, "drain", "at the end, wait this long for replies still in flight")
	fs.BoolVar(&v.noRead, "no-read", false, "hold: never read, like a stalled client, to test a server's send timeout (epoll engine)")
	fs.BoolVar(&v.reconnect, "reconnect", false, "reopen connections that drop during the load phase (failover); rtt resumes its schedule")
	fs.Var(&v.churn, "churn", "hold: close this many connections per second (spread over them in turn) and reopen each; counted as churned, not dropped")
	fs.StringVar(&v.sources, "source-ips", "", "bind connections round-robin to these local `ADDRS` (list or range a.b.c.d-a.b.c.e)")
	fs.BoolVar(&v.resolveEach, "resolve-each", false, "look the target's host name up before every connection (timed as dns) instead of once before the connect phase")
	fs.StringArrayVar(&v.headers, "header", nil, "extra handshake header \"Name: value\" (repeatable), e.g. Origin")
	fs.BoolVar(&v.insecure, "insecure", false, "wss: accept any server certificate (self-signed test setups)")
	fs.Var(&v.slack, "timer-slack", "rtt: let sends due this close together leave in one wake-up (less CPU; the wait is measured, see lag); 0 = exact")
	fs.StringVar(&v.engine, "engine", "auto", "I/O engine: auto | epoll (Linux, ws://) | goroutine (portable, wss://)")
	fs.IntVar(&v.loops, "loops", 0, "event loops (0 = one per CPU)")
	fs.StringVar(&v.startAt, "start-at", "", "start at this wall-clock `TIME` (Unix ms or RFC 3339), to start several load generators together")
	fs.StringVar(&v.out, "out", "", "results `DIR` (default runs/<run-id>)")
	fs.BoolVarP(&v.quiet, "quiet", "q", false, "no progress line and no report on stdout")
	return func(ctx context.Context, args []string, e *env) error {
		if len(args) > 0 {
			return usagef("unexpected arguments %q (flags only; did you mean --url?)", args)
		}
		o, err := v.options()
		if err != nil {
			return usageError{err}
		}
		// fs.Changed: an explicit --window 0 is checked as 0, not taken
		// for "the default" as a zero option is in the library.
		if err := o.ValidateGiven(fs.Changed); err != nil {
			return optionError(err)
		}
		return runLoadgen(ctx, o, v, e)
	}
}

func (v *loadgenFlagValues) options() (loadgen.Options, error) {
	o := loadgen.Options{
		URL: v.url, Workload: v.workload, Conns: int(v.conns), ConnectRate: float64(v.connectRate),
		Rate: float64(v.rate), Size: int(v.size), Window: v.window, PushRate: float64(v.pushRate),
		Duration: time.Duration(v.duration), Warmup: time.Duration(v.warmup), PingInterval: time.Duration(v.ping), HoldSend: v.holdSend,
		HandshakeTimeout: time.Duration(v.hsTimeout), Drain: time.Duration(v.drain), Headers: v.headers,
		Insecure: v.insecure, Engine: v.engine, Loops: v.loops, TimerSlack: time.Duration(v.slack),
		NoRead: v.noRead, Reconnect: v.reconnect, ResolveEach: v.resolveEach, Churn: float64(v.churn),
		RampFactor: v.rampFactor, StepDuration: time.Duration(v.step), SLO: time.Duration(v.slo), MaxSteps: v.maxSteps,
	}
	if v.slack == 0 {
		o.TimerSlack = -1 // exact timers
	}
	if v.sources != "" {
		ips, err := loadgen.ParseSourceIPs(v.sources)
		if err != nil {
			return o, fmt.Errorf("invalid argument %q for \"--source-ips\" flag: %w", v.sources, err)
		}
		o.SourceIPs = ips
	}
	if v.startAt != "" {
		t, err := parseStartAt(v.startAt)
		if err != nil {
			return o, fmt.Errorf("invalid argument %q for \"--start-at\" flag: %w", v.startAt, err)
		}
		if wait := time.Until(t); wait > maxStartWait {
			return o, fmt.Errorf("--start-at %s: %s from now; want at most %s ahead (a typo would hang the run)", v.startAt, wait.Round(time.Second), maxStartWait)
		}
		o.StartAt = t
	}
	return o, nil
}

// maxStartWait bounds --start-at: load generators are started together
// seconds ahead, never a day.
const maxStartWait = time.Hour

func parseStartAt(s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want Unix milliseconds or RFC 3339 (2026-01-02T15:04:05Z)")
	}
	return t, nil
}

func runLoadgen(ctx context.Context, o loadgen.Options, v *loadgenFlagValues, e *env) error {
	out := v.out
	if out == "" {
		out = filepath.Join("runs", runID())
	}
	if err := checkOutDir(out); err != nil {
		return err
	}
	warnFileLimit(e, o.Conns, sysio.FileLimit())
	var pr loadgen.Progress
	if !v.quiet {
		pr = loadgen.Progress{W: e.stderr, TTY: isTerminal(e.stderr)}
	}
	run, err := loadgen.Run(ctx, o, pr)
	if err != nil {
		return err
	}
	run.Summary.Tool = results.Tool{Name: "wsbench", Version: version, Commit: commit(), GoVersion: runtime.Version()}
	run.Summary.Host = results.HostFacts()
	if err := run.Write(out); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	if !v.quiet {
		if err := report.Report(e.stdout, &run.Summary); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "wsbench loadgen: results in %s\n", out)
	return loadgenOutcome(&run.Summary)
}

// loadgenOutcome turns a run nobody could connect in, or an interrupted
// one, into a non-zero exit with the reason.
func loadgenOutcome(s *results.Summary) error {
	if s.Interrupted {
		return exitError{code: 130, err: fmt.Errorf("interrupted; partial results were written")}
	}
	if s.Connections.Opened > 0 || s.Connections.Attempted == 0 {
		return nil
	}
	causes := make([]string, 0, len(s.Failures))
	for c := range s.Failures {
		causes = append(causes, c)
	}
	sort.Slice(causes, func(i, j int) bool { return s.Failures[causes[i]] > s.Failures[causes[j]] })
	msg := fmt.Sprintf("no connection opened (%d attempts)", s.Connections.Attempted)
	if len(causes) > 0 {
		msg += fmt.Sprintf("; most common cause: %s (%d)", causes[0], s.Failures[causes[0]])
		if hint := loadgen.CauseHint(causes[0]); hint != "" {
			msg += ": " + hint
		}
	}
	return exitError{code: exitFailure, err: fmt.Errorf("%s", msg)}
}

// warnFileLimit says, before the load, when the connections asked for do
// not fit under the open-file limit: the ones past it fail as emfile,
// which may be what a test of fd exhaustion wants, so it is no error.
// limit is the process's (0: unknown).
func warnFileLimit(e *env, conns int, limit uint64) {
	// A few files are the process's own: stdio, epoll, the results.
	const reserve = 32
	if limit > 0 && uint64(conns)+reserve > limit {
		fmt.Fprintf(e.stderr, "wsbench loadgen: warning: --conns %d needs about %d open files, above this process's limit of %d; "+
			"connections past it will fail (cause emfile): raise the limit (ulimit -n) or split them over several load generators\n",
			conns, conns+reserve, limit)
	}
}

// runID names a run directory: sortable, unique enough per second.
func runID() string {
	return time.Now().UTC().Format("20060102-150405")
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && !strings.EqualFold(os.Getenv("TERM"), "dumb")
}
