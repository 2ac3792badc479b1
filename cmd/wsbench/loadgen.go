package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsbench/wsbench/internal/sysio"
	"github.com/wsbench/wsbench/loadgen"
	"github.com/wsbench/wsbench/report"
	"github.com/wsbench/wsbench/results"
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

// loadgenFlagValues are the flags that are not load options.
type loadgenFlagValues struct {
	out   string
	quiet bool
}

func loadgenFlags(fs *pflag.FlagSet) func(context.Context, []string, *env) error {
	// The defaults are filled in so that --help shows them.
	o := &loadgen.Options{
		Conns: loadgen.DefaultConns, Rate: loadgen.DefaultRate, PushRate: loadgen.DefaultPushRate,
		Size: loadgen.FixedSize(loadgen.DefaultSize), Opcode: "binary", Window: loadgen.DefaultWindow, Duration: loadgen.DefaultDuration,
		HandshakeTimeout: loadgen.DefaultHandshakeTimeout, Drain: loadgen.DefaultDrain, TimerSlack: loadgen.DefaultTimerSlack,
		StepDuration: loadgen.DefaultStepDuration, SLO: loadgen.DefaultSLO, RampFactor: loadgen.DefaultRampFactor,
		MaxSteps: loadgen.DefaultMaxSteps, HoldSend: "ping", Engine: "auto",
	}
	o.RegisterFlags(fs)
	v := &loadgenFlagValues{}
	fs.StringVar(&v.out, "out", "", "results `DIR` (default runs/<run-id>)")
	fs.BoolVarP(&v.quiet, "quiet", "q", false, "no progress line and no report on stdout")
	return func(ctx context.Context, args []string, e *env) error {
		if len(args) > 0 {
			return usagef("unexpected arguments %q (flags only; did you mean --url?)", args)
		}
		if wait := time.Until(o.StartAt); !o.StartAt.IsZero() && wait > maxStartWait {
			return usagef("--start-at %s: %s from now; want at most %s ahead (a typo would hang the run)",
				fs.Lookup("start-at").Value, wait.Round(time.Second), maxStartWait)
		}
		// fs.Changed: an explicit --window 0 is checked as 0, not taken
		// for "the default" as a zero option is in the library.
		if err := o.ValidateGiven(fs.Changed); err != nil {
			return optionError(err)
		}
		return runLoadgen(ctx, *o, v, e)
	}
}

// maxStartWait bounds --start-at: load generators are started together
// seconds ahead, never a day.
const maxStartWait = time.Hour

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
