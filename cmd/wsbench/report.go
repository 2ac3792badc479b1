package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/pflag"
	"github.com/wsbench/wsbench/results"
)

func init() {
	register(&command{
		name:    "report",
		summary: "Print a readable summary of results directories",
		order:   50,
		usage:   "[--format text|json] DIR…",
		example: `  # The table for one run: target, parameters, connections, failures by cause,
  # traffic each way, latency percentiles, hold survival, backends.
  wsbench report runs/20260301T120000Z

  # Every run under a tree (scenario/target subdirectories), sorted by path.
  wsbench report runs/

  # The summaries as a JSON array, in the same order, e.g. for jq.
  wsbench report --format json runs/20260301T120000Z | jq '.[0].histograms.rtt.p99_us'`,
		flags: func(fs *pflag.FlagSet) func(context.Context, []string, *env) error {
			format := fs.String("format", "text", "output format: text (a table per run) or json (the summaries as a JSON array)")
			return func(_ context.Context, args []string, e *env) error {
				if *format != "text" && *format != "json" {
					return usagef("--format %q: want text or json", *format)
				}
				if len(args) == 0 {
					return usagef("no results directory given; want at least one DIR (e.g. runs/<run-id>)")
				}
				return report(e, *format, args)
			}
		},
	})
}

func report(e *env, format string, dirs []string) error {
	var paths []string
	for _, dir := range dirs {
		found, err := findSummaries(dir)
		if err != nil {
			return err
		}
		for _, p := range found {
			if !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		}
	}
	summaries := make([]*results.Summary, len(paths))
	for i, p := range paths {
		s, err := results.ReadSummary(p)
		if err != nil {
			return exitError{exitUsage, err}
		}
		summaries[i] = s
	}
	if format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(summaries)
	}
	for i, s := range summaries {
		if len(summaries) > 1 {
			if i > 0 {
				fmt.Fprintln(e.stdout)
			}
			fmt.Fprintf(e.stdout, "# %s\n", filepath.Dir(paths[i]))
		}
		if err := results.Report(e.stdout, s); err != nil {
			return err
		}
	}
	return nil
}

// findSummaries returns every summary.json under dir, sorted by path. dir
// may also be a summary.json itself.
func findSummaries(dir string) ([]string, error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, usagef("%s does not exist; want a results directory such as runs/<run-id>", dir)
	case err != nil:
		return nil, usagef("%s: %w", dir, err)
	case !fi.IsDir() && filepath.Base(dir) == results.SummaryFile:
		return []string{dir}, nil
	case !fi.IsDir():
		return nil, usagef("%s is a file; want a results directory or a %s", dir, results.SummaryFile)
	}
	var found []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == results.SummaryFile {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		return nil, usagef("%s: %w", dir, err)
	}
	if len(found) == 0 {
		return nil, usagef("no %s under %s; is it a wsbench results directory?", results.SummaryFile, dir)
	}
	slices.Sort(found)
	return found, nil
}
