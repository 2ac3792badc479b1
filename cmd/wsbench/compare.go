package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/wsbench/wsbench/compare"
)

func init() {
	register(&command{
		name:    "compare",
		summary: "Compare two result sets and fail on significant regressions (the CI gate)",
		order:   60,
		usage:   "[--format text|markdown|json] [--policy FILE] [--max METRIC=+N%]… [--min METRIC=-N%]… BASELINE CURRENT",
		example: `  # The gate with the default policy: exit 0 pass, 1 regression, 2 incomparable
  # or loadgen-bound (the load generator fell behind: nothing to judge the code by).
  wsbench compare runs/base runs/head

  # A pull-request comment (Markdown with a collapsed details table):
  wsbench compare --format markdown runs/base runs/head > comment.md

  # Tighter limits on top of the default policy, and rtt.p50 not gated:
  wsbench compare --max rtt.p99=+10% --max handshake.p99=+15% \
      --min throughput.msgs_per_s=-5% --max proxy.cpu_us_per_msg=+10% \
      --max rtt.p50=off runs/base runs/head

  # Only what a policy file lists (YAML: alpha, max:, min:), as JSON:
  wsbench compare --policy .wsbench/gate.yaml --format json runs/base runs/head

  # Two single load-generator results:
  wsbench compare before/summary.json after/summary.json

BASELINE and CURRENT are 'wsbench run' or 'wsbench loadgen' directories (or
any tree of them, or summary.json files). Results are matched by their path;
rep-<i> directories are repetitions. A change is a regression when it is
beyond its limit and significant over the repetitions (3 or more a side) or
else the seconds of each run (one-sided Mann-Whitney U, α 0.05).
See docs/gating.md.`,
		flags: compareFlags,
	})
}

func compareFlags(fs *pflag.FlagSet) func(context.Context, []string, *env) error {
	format := fs.String("format", compare.FormatText, "output: text (a table), markdown (a pull-request comment) or json")
	policyFile := fs.String("policy", "", "YAML policy `FILE` (alpha, max:, min:) replacing the default policy")
	maxes := fs.StringArray("max", nil, "how far a latency or cost `METRIC` may rise, as METRIC=+N% (e.g. rtt.p99=+10%), or METRIC=off to drop it (repeatable)")
	mins := fs.StringArray("min", nil, "how far a throughput or success `METRIC` may fall, as METRIC=-N% (e.g. throughput.msgs_per_s=-5%), or METRIC=off (repeatable)")
	return func(_ context.Context, args []string, e *env) error {
		switch *format {
		case compare.FormatText, compare.FormatMarkdown, compare.FormatJSON:
		default:
			return usagef("--format %q: want text, markdown or json", *format)
		}
		if len(args) != 2 {
			return usagef("want two arguments, BASELINE and CURRENT (results directories or summary.json files), got %d", len(args))
		}
		policy := compare.DefaultPolicy()
		if *policyFile != "" {
			p, err := compare.ReadPolicy(*policyFile)
			if err != nil {
				return exitError{exitUsage, err}
			}
			policy = p
		}
		for _, kind := range []struct {
			name  string
			specs []string
		}{{"max", *maxes}, {"min", *mins}} {
			for _, spec := range kind.specs {
				if err := policy.Set(kind.name, spec); err != nil {
					return usagef("%v", err)
				}
			}
		}
		return runCompare(e, args[0], args[1], policy, *format)
	}
}

func runCompare(e *env, basePath, curPath string, policy compare.Policy, format string) error {
	base, err := compare.Load(basePath)
	if err != nil {
		return exitError{exitUsage, fmt.Errorf("baseline: %w", err)}
	}
	cur, err := compare.Load(curPath)
	if err != nil {
		return exitError{exitUsage, fmt.Errorf("current: %w", err)}
	}
	rep, err := compare.Compare(base, cur, policy)
	if err != nil {
		return exitError{exitUsage, err}
	}
	if err := rep.Write(e.stdout, format); err != nil {
		return err
	}
	switch {
	case rep.Regressions > 0:
		return exitError{exitFailure, fmt.Errorf("%d of %d gated metrics regressed", rep.Regressions, rep.Gated())}
	case rep.LoadgenBound > 0:
		// Nothing regressed, but the gate could not judge everything:
		// neither a pass nor a failure of the code.
		return exitError{exitUsage, fmt.Errorf("%d of %d gated metrics not judged: loadgen-bound (the load generator fell behind; see each row's note); rerun on a quieter machine, with fewer connections per load generator or more --loadgen-workers", rep.LoadgenBound, rep.Gated())}
	}
	return nil
}
