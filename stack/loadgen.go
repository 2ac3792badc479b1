package stack

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// WorkerResult is what one loadgen worker left behind.
type WorkerResult struct {
	Name     string // <Loadgen.Name>-i
	Dir      string // its result directory (summary.json, *.hgrm, …)
	Log      string // its output
	ExitCode int
}

// WorkerError reports loadgen workers that did not exit 0. Their results
// (possibly partial) are still returned beside it.
type WorkerError struct {
	Failed []WorkerResult
	Tails  []string // last lines of each failed worker's output
}

func (e *WorkerError) Error() string {
	var b strings.Builder
	b.WriteString("stack: loadgen:")
	for i, w := range e.Failed {
		fmt.Fprintf(&b, " %s exited %d (want 0)", w.Name, w.ExitCode)
		if e.Tails[i] != "" {
			fmt.Fprintf(&b, ": %s", e.Tails[i])
		}
		if i < len(e.Failed)-1 {
			b.WriteString(";")
		}
	}
	return b.String()
}

// RunLoadgen runs lg.Workers load generators together on the stack's
// network, waits until all have exited and collects their result
// directories under lg.OutDir. The caller merges them (results.Merge).
// Worker errors come back as *WorkerError with the results; if ctx is
// cancelled the workers are stopped with SIGTERM (they write partial
// results) and what they wrote is still collected.
func (s *Stack) RunLoadgen(ctx context.Context, lg Loadgen) ([]WorkerResult, error) {
	if err := lg.normalize(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(lg.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("stack: loadgen out dir: %w", err)
	}
	if lg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, lg.Timeout)
		defer cancel()
	}
	at := startAt(time.Now(), lg.Workers)
	res := make([]WorkerResult, lg.Workers)
	errs := make([]error, lg.Workers)
	var wg sync.WaitGroup
	for i := range lg.Workers {
		name := lg.workerName(i)
		dst := filepath.Join(lg.OutDir, name)
		res[i] = WorkerResult{Name: name, Dir: dst, Log: dst + ".log"}
		args := func(out string) []string { return lg.workerArgs(i, out, at) }
		wg.Go(func() {
			res[i].ExitCode, errs[i] = s.be.runWorker(ctx, &lg, name, args, dst)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return res, fmt.Errorf("stack: loadgen worker %s: %w", res[i].Name, err)
		}
	}
	var we *WorkerError
	for _, r := range res {
		if r.ExitCode != 0 {
			if we == nil {
				we = &WorkerError{}
			}
			we.Failed = append(we.Failed, r)
			b, _ := os.ReadFile(r.Log)
			we.Tails = append(we.Tails, tail(b, 3))
		}
	}
	switch {
	case ctx.Err() != nil && we != nil:
		return res, fmt.Errorf("stack: loadgen interrupted (%w): %w", ctx.Err(), we)
	case ctx.Err() != nil:
		return res, fmt.Errorf("stack: loadgen interrupted: %w", ctx.Err())
	case we != nil:
		return res, we
	}
	return res, nil
}

// tail returns the last n non-empty lines of out, joined by " | ".
func tail(out []byte, n int) string {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	parts := make([]string, 0, len(lines))
	for _, l := range lines {
		if l := strings.TrimSpace(string(l)); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " | ")
}
