package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/wsbench/wsbench/stack"
)

func init() {
	register(&command{
		name:    "cleanup",
		summary: "Remove containers and networks a crashed or killed run left behind",
		order:   80,
		usage:   "[--run RUN-ID] [--images]",
		example: `  # Everything any wsbench run left behind (containers and networks labelled wsbench.run):
  wsbench cleanup

  # Only one run's (every stack it brought up: each is labelled wsbench.run=<run id>,
  # its own stack wsbench.stack=<run id>-<scenario>-<group>), e.g. after it was killed:
  wsbench cleanup --run 20261122T201500Z-ab12cd

  # Also the images wsbench built (they are rebuilt, or found again, on the next run):
  wsbench cleanup --images`,
		flags: func(fs *pflag.FlagSet) func(context.Context, []string, *env) error {
			var runID string
			var images bool
			fs.StringVar(&runID, "run", "", "only this run id's containers and networks (default: every run's)")
			fs.BoolVar(&images, "images", false, "also remove the wsbench-local/* images wsbench built")
			return func(ctx context.Context, args []string, e *env) error {
				if len(args) > 0 {
					return usagef("cleanup takes no arguments, got %q (did you mean --run?)", args)
				}
				containers, networks, err := stack.Cleanup(ctx, runID)
				if err != nil {
					return exitError{code: exitUsage, err: err}
				}
				fmt.Fprintf(e.stdout, "removed %d containers and %d networks\n", containers, networks)
				if images {
					n, err := stack.RemoveImages(ctx)
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "removed %d images\n", n)
				}
				return nil
			}
		},
	})
}
