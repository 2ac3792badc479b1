package results

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Overview is what report.md and report.html show: every result under one
// directory, grouped by scenario and workload, the targets of a workload
// side by side. LoadOverview builds it; WriteMarkdown and WriteHTML render
// it.
type Overview struct {
	Dir         string // the directory the report is about
	RunID       string // run.json's run id, or the directory's name
	Start, End  time.Time
	Interrupted bool
	Runtime     string // docker or local, from run.json
	Network     string
	Images      []RunImage
	// FromRunFile is true when the grouping came from run.json; false
	// when it was read from the directory layout.
	FromRunFile bool
	Scenarios   []*OverviewScenario
}

// OverviewScenario is one scenario: its workloads in the order they ran.
type OverviewScenario struct {
	Name        string
	Description string
	Err         string // the scenario could not run at all
	Workloads   []*OverviewWorkload
}

// OverviewWorkload is one workload of a scenario on every target. Its
// targets are the series overlaid on each chart.
type OverviewWorkload struct {
	Name    string // as named in the scenario (the directory name)
	Targets []*OverviewTarget
}

// OverviewTarget is one workload's result on one target.
type OverviewTarget struct {
	Target      string // the target's name (direct, refproxy, nginx-map…)
	Kind        string // direct, refproxy, nginx…; empty without run.json
	Seed        string // the seed configuration it stands for (S1…S11)
	Description string
	Dir         string // result directory, relative to Overview.Dir ("" if none)
	Run         *Run   // nil when the row has no results (error, skipped)
	Reps        int    // rep-<i> directories: the run merges this many repetitions
	Usage       *Usage
	Verdicts    []RunVerdict
	Err         string // the row could not be measured
	Skipped     string
	Logs        []string // saved output of services that failed
}

// Passed reports whether the row ran and met its expectations.
func (t *OverviewTarget) Passed() bool {
	if t.Err != "" {
		return false
	}
	for _, v := range t.Verdicts {
		if !v.Pass {
			return false
		}
	}
	return true
}

// Tally counts the expectations that held and failed, and the rows and
// scenarios that could not run.
func (o *Overview) Tally() (passed, failed, broken int) {
	for _, s := range o.Scenarios {
		if s.Err != "" {
			broken++
		}
		for _, w := range s.Workloads {
			for _, t := range w.Targets {
				if t.Err != "" {
					broken++
				}
				for _, v := range t.Verdicts {
					if v.Pass {
						passed++
					} else {
						failed++
					}
				}
			}
		}
	}
	return passed, failed, broken
}

// LoadOverview reads every result under dir. With a run.json (a `wsbench
// run` directory) its scenarios, rows and verdicts give the grouping;
// without one, every summary.json under dir is read and grouped by its
// path: <scenario…>/<target>/<workload>/summary.json (a single level is a
// target, dir itself a single run). Repetition directories (rep-<i>) are
// counted, not shown: their parent holds the merge. Each result is read
// whole (histograms and time series) for the charts; an unreadable one is
// an error naming its file.
func LoadOverview(dir string) (*Overview, error) {
	o := &Overview{Dir: dir, RunID: filepath.Base(filepath.Clean(dir))}
	rf, err := ReadRunFile(dir)
	switch {
	case err == nil:
		o.FromRunFile = true
		if err := o.fromRunFile(rf); err != nil {
			return nil, err // names the result's file
		}
	case errors.Is(err, fs.ErrNotExist):
		if err := o.fromLayout(); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	o.fillTimes()
	return o, nil
}

func (o *Overview) fromRunFile(rf *RunManifest) error {
	if rf.RunID != "" {
		o.RunID = rf.RunID
	}
	o.Start, o.End, o.Interrupted = rf.Start, rf.End, rf.Interrupted
	o.Runtime, o.Network, o.Images = rf.Runtime, rf.Network, rf.Images
	for _, s := range rf.Scenarios {
		sc := &OverviewScenario{Name: s.Name, Description: strings.TrimSpace(s.Description), Err: s.Err}
		o.Scenarios = append(o.Scenarios, sc)
		for _, r := range s.Rows {
			t := &OverviewTarget{
				Target: r.Target, Kind: r.Kind, Seed: r.Seed, Description: strings.TrimSpace(r.Description),
				Dir: filepath.ToSlash(r.Dir), Usage: r.Usage, Verdicts: r.Verdicts, Err: r.Err, Skipped: r.Skipped, Logs: r.Logs,
			}
			if r.Dir != "" && r.Err == "" && r.Skipped == "" {
				if err := t.load(o.Dir); err != nil {
					return err
				}
			}
			sc.workload(r.Workload).Targets = append(sc.workload(r.Workload).Targets, t)
		}
	}
	return nil
}

// workload returns the scenario's workload of that name, adding it.
func (s *OverviewScenario) workload(name string) *OverviewWorkload {
	for _, w := range s.Workloads {
		if w.Name == name {
			return w
		}
	}
	w := &OverviewWorkload{Name: name}
	s.Workloads = append(s.Workloads, w)
	return w
}

// load reads the target's result directory and counts its repetitions.
func (t *OverviewTarget) load(root string) error {
	dir := filepath.Join(root, filepath.FromSlash(t.Dir))
	run, err := Read(dir)
	if err != nil {
		return err
	}
	t.Run = run
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fileError(err)
	}
	for _, e := range entries {
		if e.IsDir() && isRepetitionDir(e.Name()) {
			t.Reps++
		}
	}
	return nil
}

// fromLayout groups the summaries found under o.Dir by their paths.
func (o *Overview) fromLayout() error {
	var dirs []string
	err := filepath.WalkDir(o.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fileError(err)
		}
		if d.IsDir() && path != o.Dir && isRepetitionDir(d.Name()) {
			return fs.SkipDir // counted by the parent's load
		}
		if !d.IsDir() && d.Name() == SummaryFile {
			dirs = append(dirs, filepath.Dir(path))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return fmt.Errorf("results: no %s or %s under %s; want a wsbench results directory", RunFile, SummaryFile, o.Dir)
	}
	// Sort by path components, so "a/b" comes before "a-c" as in a tree.
	slices.SortFunc(dirs, func(a, b string) int {
		return slices.Compare(strings.Split(filepath.ToSlash(a), "/"), strings.Split(filepath.ToSlash(b), "/"))
	})
	for _, d := range dirs {
		rel, err := filepath.Rel(o.Dir, d)
		if err != nil {
			return fmt.Errorf("results: %w", err)
		}
		t := &OverviewTarget{Dir: filepath.ToSlash(rel)}
		if err := t.load(o.Dir); err != nil {
			return err
		}
		scenario, target, workload := groupByPath(rel, &t.Run.Summary)
		t.Target = target
		sc := o.scenario(scenario)
		sc.workload(workload).Targets = append(sc.workload(workload).Targets, t)
	}
	return nil
}

// groupByPath reads scenario, target and workload from a result's path
// relative to the report's directory, as `wsbench run` lays them out:
// <scenario…>/<target>/<workload>. Shorter paths are read from the right
// (target/workload, then target), and the summary fills the rest.
func groupByPath(rel string, s *Summary) (scenario, target, workload string) {
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if rel == "." {
		parts = nil
	}
	switch len(parts) {
	case 0:
		return "", orDash(s.Target), orDash(s.Workload)
	case 1:
		return "", parts[0], orDash(s.Workload)
	case 2:
		return "", parts[0], parts[1]
	}
	n := len(parts)
	return strings.Join(parts[:n-2], "/"), parts[n-2], parts[n-1]
}

func (o *Overview) scenario(name string) *OverviewScenario {
	for _, s := range o.Scenarios {
		if s.Name == name {
			return s
		}
	}
	s := &OverviewScenario{Name: name}
	o.Scenarios = append(o.Scenarios, s)
	return s
}

// fillTimes takes the run's span from its results when run.json did not
// give it, and marks it interrupted when any result was.
func (o *Overview) fillTimes() {
	for _, t := range o.Targets() {
		if t.Run == nil {
			continue
		}
		s := &t.Run.Summary
		if o.Start.IsZero() || s.Start.Before(o.Start) && !o.FromRunFile {
			o.Start = s.Start
		}
		if o.End.IsZero() || s.End.After(o.End) && !o.FromRunFile {
			o.End = s.End
		}
		o.Interrupted = o.Interrupted || s.Interrupted
	}
}

// Targets lists every row of the overview in order.
func (o *Overview) Targets() []*OverviewTarget {
	var out []*OverviewTarget
	for _, s := range o.Scenarios {
		for _, w := range s.Workloads {
			out = append(out, w.Targets...)
		}
	}
	return out
}

// orDash names a group whose summary leaves the name empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
