package harness

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/wsbench/wsbench/report"
	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/scenarios"
)

// Outcome is a whole `wsbench run`, as run.json (results.RunManifest)
// records it, with each row's summary and its verdicts as checked.
type Outcome struct {
	RunID       string
	Dir         string
	Start       time.Time
	End         time.Time
	Interrupted bool
	Runtime     string
	Network     string
	Scale       float64
	Images      []ImageInfo
	Scenarios   []*ScenarioOutcome
}

// ImageInfo records what ran: image ids and nginx's version.
type ImageInfo = results.RunImage

// ScenarioOutcome is one scenario's rows: one per workload and target.
type ScenarioOutcome struct {
	Name        string
	Description string
	File        string
	Rows        []*Row
	Err         string // the scenario could not run at all
}

// Row is one workload on one target.
type Row struct {
	Target      string
	Kind        string
	Seed        string
	Description string
	Workload    string
	Dir         string // relative to the run directory
	Summary     *results.Summary
	Usage       *results.Usage
	Verdicts    []scenarios.Verdict
	Err         string   // the row could not be measured
	Logs        []string // saved output of services that failed
	Skipped     string
	// Reps lists the repetitions (wsbench run --count N > 1); the row's
	// own Dir holds their combination.
	Reps []Rep
}

// Rep is one repetition of a row.
type Rep = results.RunRep

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
	if err := results.WriteRunFile(o.Dir, o.manifest()); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	return nil
}

// manifest is what run.json records of the outcome.
func (o *Outcome) manifest() *results.RunManifest {
	m := &results.RunManifest{
		Schema: results.RunSchema, RunID: o.RunID, Start: o.Start, End: o.End, Interrupted: o.Interrupted,
		Runtime: o.Runtime, Network: o.Network, Scale: o.Scale, Images: o.Images,
	}
	for _, s := range o.Scenarios {
		ms := &results.RunScenario{Name: s.Name, Description: s.Description, File: s.File, Err: s.Err}
		for _, r := range s.Rows {
			mr := &results.RunRow{
				Target: r.Target, Kind: r.Kind, Seed: r.Seed, Description: r.Description, Workload: r.Workload,
				Dir: r.Dir, Usage: r.Usage, Err: r.Err, Logs: r.Logs, Skipped: r.Skipped, Reps: r.Reps,
			}
			for _, v := range r.Verdicts {
				mr.Verdicts = append(mr.Verdicts, v.Wire())
			}
			ms.Rows = append(ms.Rows, mr)
		}
		m.Scenarios = append(m.Scenarios, ms)
	}
	return m
}

// outcomeOf is the outcome run.json records (rows without summaries).
func outcomeOf(dir string, m *results.RunManifest) *Outcome {
	o := &Outcome{
		RunID: m.RunID, Dir: dir, Start: m.Start, End: m.End, Interrupted: m.Interrupted,
		Runtime: m.Runtime, Network: m.Network, Scale: m.Scale, Images: m.Images,
	}
	for _, ms := range m.Scenarios {
		s := &ScenarioOutcome{Name: ms.Name, Description: ms.Description, File: ms.File, Err: ms.Err}
		for _, mr := range ms.Rows {
			r := &Row{
				Target: mr.Target, Kind: mr.Kind, Seed: mr.Seed, Description: mr.Description, Workload: mr.Workload,
				Dir: mr.Dir, Usage: mr.Usage, Err: mr.Err, Logs: mr.Logs, Skipped: mr.Skipped, Reps: mr.Reps,
			}
			for _, v := range mr.Verdicts {
				r.Verdicts = append(r.Verdicts, scenarios.VerdictFromWire(v))
			}
			s.Rows = append(s.Rows, r)
		}
		o.Scenarios = append(o.Scenarios, s)
	}
	return o
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
	m, err := results.ReadRunFile(dir)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	o := outcomeOf(dir, m)
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
	return o, nil
}
