package harness

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/wsbench/wsbench/report"
	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/scenarios"
)

// RunSchema identifies run.json; the results package reads it too.
const RunSchema = results.RunSchema

// Outcome is a whole `wsbench run`: run.json.
type Outcome struct {
	Schema      string             `json:"schema"`
	RunID       string             `json:"run_id"`
	Dir         string             `json:"-"`
	Start       time.Time          `json:"start"`
	End         time.Time          `json:"end"`
	Interrupted bool               `json:"interrupted"`
	Runtime     string             `json:"runtime"`
	Network     string             `json:"network"`
	Scale       float64            `json:"scale"`
	Images      []ImageInfo        `json:"images"`
	Scenarios   []*ScenarioOutcome `json:"scenarios"`
}

// ImageInfo records what ran: image ids and nginx's version.
type ImageInfo struct {
	Kind    string `json:"kind"`
	Ref     string `json:"ref"`
	ID      string `json:"id"`
	Version string `json:"version,omitempty"`
}

// ScenarioOutcome is one scenario's rows: one per workload and target.
type ScenarioOutcome struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	File        string `json:"file"`
	Rows        []*Row `json:"rows"`
	Err         string `json:"error,omitempty"` // the scenario could not run at all
}

// Row is one workload on one target.
type Row struct {
	Target      string              `json:"target"`
	Kind        string              `json:"kind"`
	Seed        string              `json:"seed,omitempty"`
	Description string              `json:"description,omitempty"`
	Workload    string              `json:"workload"`
	Dir         string              `json:"dir,omitempty"` // relative to the run directory
	Summary     *results.Summary    `json:"-"`
	Usage       *scenarios.Usage    `json:"usage,omitempty"`
	Verdicts    []scenarios.Verdict `json:"verdicts,omitempty"`
	Err         string              `json:"error,omitempty"` // the row could not be measured
	Logs        []string            `json:"logs,omitempty"`  // saved output of services that failed
	Skipped     string              `json:"skipped,omitempty"`
	// Reps lists the repetitions (wsbench run --count N > 1); the row's
	// own Dir holds their combination.
	Reps []Rep `json:"reps,omitempty"`
}

// Rep is one repetition of a row.
type Rep struct {
	Dir   string           `json:"dir"`
	Usage *scenarios.Usage `json:"usage,omitempty"`
}

// Passed reports whether every expectation of every row held and nothing
// failed to run.
func (o *Outcome) Passed() bool {
	for _, s := range o.Scenarios {
		if s.Err != "" {
			return false
		}
		for _, r := range s.Rows {
			if !r.Passed() {
				return false
			}
		}
	}
	return true
}

// Measured counts the rows that produced a measurement (a summary) and
// all rows: an interrupted run lists rows that never ran.
func (o *Outcome) Measured() (measured, rows int) {
	for _, s := range o.Scenarios {
		for _, r := range s.Rows {
			rows++
			if r.Summary != nil {
				measured++
			}
		}
	}
	return measured, rows
}

// Passed reports whether the row ran and met its expectations.
func (r *Row) Passed() bool {
	if r.Err != "" {
		return false
	}
	for _, v := range r.Verdicts {
		if !v.Pass {
			return false
		}
	}
	return true
}

// Failed counts the row's broken expectations.
func (r *Row) Failed() int {
	n := 0
	for _, v := range r.Verdicts {
		if !v.Pass {
			n++
		}
	}
	return n
}

// write saves run.json (atomically: a reader never sees half of it).
func (o *Outcome) write() error {
	b, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		return fmt.Errorf("harness: run.json: %w", err)
	}
	return writeBytes(filepath.Join(o.Dir, results.RunFile), append(b, '\n'))
}

// writeReports renders report.md and report.html from what the run wrote.
func (o *Outcome) writeReports() error {
	ov, err := results.LoadOverview(o.Dir)
	if err != nil {
		return fmt.Errorf("harness: report: %w", err)
	}
	for name, write := range map[string]func(io.Writer, *results.Overview) error{
		"report.md":   report.WriteMarkdown,
		"report.html": report.WriteHTML,
	} {
		err := results.WriteFile(filepath.Join(o.Dir, name), func(w io.Writer) error { return write(w, ov) })
		if err != nil {
			return fmt.Errorf("harness: %s: %w", name, err)
		}
	}
	return nil
}

// writeBytes writes a result file whole or not at all (results.WriteFile).
func writeBytes(path string, b []byte) error {
	err := results.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	return nil
}

// ReadOutcome reads a run directory's run.json and the summaries its rows
// point to.
func ReadOutcome(dir string) (*Outcome, error) {
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	var o Outcome
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("harness: %s: %w", filepath.Join(dir, "run.json"), err)
	}
	if o.Schema != RunSchema {
		return nil, fmt.Errorf("harness: %s: schema %q, want %q", filepath.Join(dir, "run.json"), o.Schema, RunSchema)
	}
	o.Dir = dir
	for _, s := range o.Scenarios {
		for _, r := range s.Rows {
			if r.Dir == "" || r.Err != "" {
				continue
			}
			if r.Summary, err = results.ReadSummary(filepath.Join(dir, r.Dir)); err != nil {
				return nil, err
			}
		}
	}
	return &o, nil
}
