package compare

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/wsbench/wsbench/results"
)

// Set is one side of a comparison: every result found under one path.
type Set struct {
	Path string
	// Results maps each result's key, its directory relative to Path with
	// any rep-<i> level removed ("." for Path itself), to the result.
	Results map[string]*Result
	// Warnings says what the set lacks: rows of a run that did not run.
	Warnings []string
}

// Result is one scenario × target × workload (or one load-generator run),
// merged over its repetitions.
type Result struct {
	Key string
	Dir string // directory of its files; "" when only a summary file was given
	// Summary is the merged summary: the result's own summary.json, or,
	// when only repetitions were written, their HDR merge (Pooled).
	Summary *results.Summary
	Pooled  bool
	Usage   *results.Usage // the proxy's, over the window; nil for direct targets
	Reps    []*Rep         // in repetition order; empty for a single run

	runs    []*results.Run // its runs' files, read when per-interval samples are needed
	runsErr error
	read    bool
	// readDirs are the runs pool already read, by directory, so that
	// readRuns reads no directory twice.
	readDirs map[string]*results.Run
}

// Rep is one repetition of a result (wsbench run --count N).
type Rep struct {
	N       int
	Dir     string
	Summary *results.Summary
	Usage   *results.Usage
}

// Load reads a results tree: a `wsbench run` directory (run.json, one
// directory per scenario × target × workload, rep-<i> subdirectories for
// repetitions), a `wsbench loadgen` directory, any tree of them, or a
// single summary.json. run.json is optional: it adds the proxies' CPU and
// memory, but summaries are found by walking the tree.
func Load(p string) (*Set, error) {
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("compare: %s does not exist; want a results directory (runs/<run-id>) or a %s", p, results.SummaryFile)
	case err != nil:
		return nil, fmt.Errorf("compare: %w", err)
	}
	set := &Set{Path: p, Results: map[string]*Result{}}
	if !fi.IsDir() {
		s, err := results.ReadSummary(p)
		if err != nil {
			return nil, err
		}
		r := &Result{Key: ".", Summary: s}
		if filepath.Base(p) == results.SummaryFile {
			r.Dir = filepath.Dir(p)
		}
		set.Results["."] = r
		return set, nil
	}
	usage, err := set.readRunFile()
	if err != nil {
		return nil, err
	}
	if err := set.walk(usage); err != nil {
		return nil, err
	}
	if len(set.Results) == 0 {
		return nil, fmt.Errorf("compare: no %s under %s; is it a wsbench results directory?", results.SummaryFile, p)
	}
	for _, key := range slices.Sorted(maps.Keys(set.Results)) {
		r := set.Results[key]
		slices.SortFunc(r.Reps, func(a, b *Rep) int { return a.N - b.N })
		if r.Summary == nil {
			if r.Summary, r.Usage, err = pool(r); err != nil {
				return nil, err
			}
			r.Pooled = true
		}
	}
	return set, nil
}

// walk finds every summary.json under the set's path.
func (set *Set) walk(usage map[string]*results.Usage) error {
	return filepath.WalkDir(set.Path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("compare: %w", err)
		}
		if d.IsDir() || d.Name() != results.SummaryFile {
			return nil
		}
		dir := filepath.Dir(p)
		rel, err := filepath.Rel(set.Path, dir)
		if err != nil {
			return fmt.Errorf("compare: %w", err)
		}
		rel = filepath.ToSlash(rel)
		s, err := results.ReadSummary(p)
		if err != nil {
			return err
		}
		key, rep := splitRep(rel)
		r := set.Results[key]
		if r == nil {
			r = &Result{Key: key}
			set.Results[key] = r
		}
		if rep == 0 {
			r.Dir, r.Summary, r.Usage = dir, s, usage[rel]
			return nil
		}
		r.Reps = append(r.Reps, &Rep{N: rep, Dir: dir, Summary: s, Usage: usage[rel]})
		return nil
	})
}

// splitRep removes a rep-<i> level from a relative directory and returns
// the rest (the result's key) and i, or 0 when there is none.
func splitRep(rel string) (key string, rep int) {
	parts := splitPath(rel)
	for i, part := range parts {
		if n, ok := results.RepetitionDir(part); ok {
			rep = n
			parts = slices.Delete(parts, i, i+1)
			break
		}
	}
	if len(parts) == 0 {
		return ".", rep
	}
	return path.Join(parts...), rep
}

func splitPath(rel string) []string {
	var parts []string
	for rel != "." && rel != "" {
		dir, file := path.Split(rel)
		parts = append([]string{file}, parts...)
		rel = path.Clean(dir)
		if rel == "/" {
			break
		}
	}
	return parts
}

// readRunFile reads run.json, if there is one, and returns the proxies'
// usage by relative directory. Rows that did not run become warnings.
func (set *Set) readRunFile() (map[string]*results.Usage, error) {
	m, err := results.ReadRunFile(set.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err // names the file
	}
	usage, warnings := runFileUsage(m)
	set.Warnings = append(set.Warnings, warnings...)
	return usage, nil
}

// runFileUsage is the usage of every row and repetition of run.json by its
// directory (cleaned, relative to the run), and a warning for every
// scenario or row that did not run.
func runFileUsage(m *results.RunManifest) (usage map[string]*results.Usage, warnings []string) {
	usage = map[string]*results.Usage{}
	for _, sc := range m.Scenarios {
		if sc.Err != "" {
			warnings = append(warnings, fmt.Sprintf("scenario %s did not run: %s", sc.Name, sc.Err))
		}
		for _, row := range sc.Rows {
			switch {
			case row.Err != "":
				warnings = append(warnings, fmt.Sprintf("%s/%s/%s was not measured: %s", sc.Name, row.Target, row.Workload, row.Err))
			case row.Skipped != "":
				warnings = append(warnings, fmt.Sprintf("%s/%s/%s was skipped: %s", sc.Name, row.Target, row.Workload, row.Skipped))
			}
			if row.Dir != "" && row.Usage != nil {
				usage[path.Clean(filepath.ToSlash(row.Dir))] = row.Usage
			}
			for _, rep := range row.Reps {
				if rep.Dir != "" && rep.Usage != nil {
					usage[path.Clean(filepath.ToSlash(rep.Dir))] = rep.Usage
				}
			}
		}
	}
	return usage, warnings
}

// runs returns the result's runs as files (histograms, interval logs, time
// series): each repetition's, or its own. A run directory without a
// time series (a summary copied alone) gives none.
func (r *Result) readRuns() ([]*results.Run, error) {
	if r.read {
		return r.runs, r.runsErr
	}
	r.read = true
	dirs := []string{r.Dir}
	if len(r.Reps) > 0 {
		dirs = dirs[:0]
		for _, rep := range r.Reps {
			dirs = append(dirs, rep.Dir)
		}
	}
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		if run := r.readDirs[dir]; run != nil {
			r.runs = append(r.runs, run)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, results.TimeseriesFile)); err != nil {
			continue
		}
		run, err := results.Read(dir)
		if err != nil {
			r.runsErr = err
			return nil, err
		}
		r.runs = append(r.runs, run)
	}
	return r.runs, nil
}

// keepRun keeps a run read from dir for readRuns.
func (r *Result) keepRun(dir string, run *results.Run) {
	if r.readDirs == nil {
		r.readDirs = map[string]*results.Run{}
	}
	r.readDirs[dir] = run
}
