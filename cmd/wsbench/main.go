// Command wsbench measures WebSocket reverse proxies: it runs echo backends,
// a reference proxy and a load generator, and writes HDR results.
//
// Every role is a subcommand of this one binary, so the image that runs the
// backends, the proxy and the load generator is built from the same source.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
)

// Exit codes shared by every subcommand.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and found a failure (e.g. a broken expectation)
	exitUsage   = 2 // bad flags, bad input files, or an unusable environment
)

// command is one subcommand. Each lives in its own file and registers itself
// in init, so adding a command never touches this file.
type command struct {
	name    string
	summary string
	order   int    // position in the command list
	usage   string // synopsis after "wsbench NAME"
	example string // shown under "Examples:" in --help
	// flags declares the command's flags on fs and returns the function
	// that runs it once they are parsed.
	flags func(fs *pflag.FlagSet) func(ctx context.Context, args []string, env *env) error
}

// env is what a command may touch besides its flags.
type env struct {
	stdout, stderr io.Writer
}

// usageError marks an error that should exit with code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitError carries a specific exit code with an already-printed outcome.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr})
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return runCommand(ctx, c, []string{"--help"}, e)
			}
		}
		printTopUsage(e.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "wsbench: unknown command %q; commands are: %s\nRun 'wsbench --help' for usage.\n",
			args[0], strings.Join(commandNames(), ", "))
		return exitUsage
	}
	return runCommand(ctx, c, args[1:], e)
}

func runCommand(ctx context.Context, c *command, args []string, e *env) int {
	fs := pflag.NewFlagSet("wsbench "+c.name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(io.Discard)
	runFn := c.flags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			printCommandUsage(e.stdout, c, fs)
			return exitOK
		}
		fmt.Fprintf(e.stderr, "wsbench %s: %v\nRun 'wsbench %s --help' for usage.\n", c.name, err, c.name)
		return exitUsage
	}
	err := runFn(ctx, fs.Args(), e)
	if err == nil {
		return exitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintf(e.stderr, "wsbench %s: %v\n", c.name, ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(e.stderr, "wsbench %s: %v\n", c.name, err)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(e.stderr, "Run 'wsbench %s --help' for usage.\n", c.name)
		return exitUsage
	}
	return exitFailure
}

func commandNames() []string {
	var names []string
	for _, c := range sortedCommands() {
		names = append(names, c.name)
	}
	return names
}

func sortedCommands() []*command {
	var cs []*command
	for _, c := range commands {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].order < cs[j].order })
	return cs
}

func printTopUsage(w io.Writer) {
	fmt.Fprint(w, `wsbench measures WebSocket reverse proxies: handshake latency, round-trip
time, throughput, idle-connection survival and load balance, with HDR histograms.

Usage:
  wsbench <command> [flags] [args]

Commands:
`)
	for _, c := range sortedCommands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'wsbench <command> --help' for a command's flags and examples.
`)
}

func printCommandUsage(w io.Writer, c *command, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  wsbench %s %s\n\nFlags:\n%s", c.summary, c.name, c.usage, fs.FlagUsages())
	if c.example != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(c.example, "\n"))
	}
}
