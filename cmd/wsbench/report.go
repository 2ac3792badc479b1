package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"github.com/wsbench/wsbench/report"
	"github.com/wsbench/wsbench/results"
)

func init() {
	register(&command{
		name:    "report",
		summary: "Print a readable summary of results directories and write report.md and report.html into each",
		order:   50,
		usage:   "[--format text|json] [--html=false] [--md=false] [--no-files] DIR…",
		example: `  # The table for one run: target, parameters, connections, failures by cause,
  # traffic each way, latency percentiles, hold survival, backends. Also writes
  # runs/20260301T120000Z/report.md (tables, for a pull request) and report.html
  # (tables and charts; self-contained, open it from disk or print it).
  wsbench report runs/20260301T120000Z

  # Only print: leave the directory as it is (e.g. read-only results).
  wsbench report --no-files runs/20260301T120000Z

  # The Markdown report alone, e.g. to paste into a pull-request comment.
  wsbench report --html=false runs/20260301T120000Z && cat runs/20260301T120000Z/report.md

  # Every run under a tree (scenario/target subdirectories), sorted by path.
  wsbench report runs/

  # The summaries as a JSON array, in the same order, e.g. for jq.
  wsbench report --format json runs/20260301T120000Z | jq '.[0].histograms.rtt.p99_us'`,
		flags: func(fs *pflag.FlagSet) func(context.Context, []string, *env) error {
			format := fs.String("format", "text", "output format: text (a table per run) or json (the summaries as a JSON array)")
			html := fs.Bool("html", true, "write DIR/report.html: tables and inline SVG charts, self-contained")
			md := fs.Bool("md", true, "write DIR/report.md: the tables in GitHub-flavoured Markdown")
			noFiles := fs.Bool("no-files", false, "write no report files, only print (same as --html=false --md=false)")
			return func(_ context.Context, args []string, e *env) error {
				if *format != "text" && *format != "json" {
					return usagef("--format %q: want text or json", *format)
				}
				if len(args) == 0 {
					return usagef("no results directory given; want at least one DIR (e.g. runs/<run-id>)")
				}
				if err := runReport(e, *format, args); err != nil {
					return err
				}
				if *noFiles {
					return nil
				}
				return writeReports(e, args, *md, *html)
			}
		},
	})
}

func runReport(e *env, format string, dirs []string) error {
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
		if err := report.Report(e.stdout, s); err != nil {
			return err
		}
	}
	return nil
}

// writeReports writes report.md and report.html into each DIR (for a
// summary.json argument, into its directory) and says where on stderr.
func writeReports(e *env, args []string, md, html bool) error {
	if !md && !html {
		return nil
	}
	for _, arg := range args {
		dir := arg
		if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
			dir = filepath.Dir(arg)
		}
		o, err := results.LoadOverview(dir)
		if err != nil {
			return exitError{exitUsage, fmt.Errorf("report: %w", err)}
		}
		var wrote []string
		for _, f := range []struct {
			on    bool
			name  string
			write func(io.Writer, *results.Overview) error
		}{{md, "report.md", report.WriteMarkdown}, {html, "report.html", report.WriteHTML}} {
			if !f.on {
				continue
			}
			path := filepath.Join(dir, f.name)
			if err := writeReportFile(path, o, f.write); err != nil {
				return err
			}
			wrote = append(wrote, path)
		}
		fmt.Fprintf(e.stderr, "report: wrote %s\n", strings.Join(wrote, ", "))
	}
	return nil
}

// writeReportFile writes whole or not at all (results.WriteFile), so a
// browser reloading the report never shows half of it.
func writeReportFile(path string, o *results.Overview, write func(io.Writer, *results.Overview) error) error {
	if err := results.WriteFile(path, func(w io.Writer) error { return write(w, o) }); err != nil {
		return fmt.Errorf("report: %w", err)
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
