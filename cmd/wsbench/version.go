package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func init() {
	register(&command{
		name:    "version",
		summary: "Print wsbench's version, commit and Go version",
		order:   90,
		usage:   "",
		example: "  wsbench version",
		flags: func(fs *pflag.FlagSet) func(context.Context, []string, *env) error {
			return func(_ context.Context, args []string, e *env) error {
				if len(args) > 0 {
					return usagef("version takes no arguments, got %q", args)
				}
				fmt.Fprintf(e.stdout, "wsbench %s (commit %s, %s, %s/%s)\n",
					version, commit(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
				return nil
			}
		},
	})
}

// commit reports the VCS revision embedded by the go tool, if any.
func commit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			return s.Value
		}
	}
	return "unknown"
}
