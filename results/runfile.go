package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// RunFile is the name of the file `wsbench run` writes at the top of its
// run directory: every scenario, target and workload, with verdicts.
const RunFile = "run.json"

// RunSchema identifies run.json. v2 writes every field in snake_case
// (usage, verdicts); ReadRunFile still reads v1, which wrote those two
// with Go's field names.
const RunSchema = "wsbench/run/v2"

const runSchemaV1 = "wsbench/run/v1"

// maxRunFileBytes bounds what ReadRunFile reads of run.json: it lists rows,
// not samples.
const maxRunFileBytes = 64 << 20

// RunManifest is run.json: what a `wsbench run` ran, where each row's
// results are, what its proxy used and how its expectations came out.
// The harness writes it; reports and the regression gate read it.
type RunManifest struct {
	Schema      string         `json:"schema"`
	RunID       string         `json:"run_id"`
	Start       time.Time      `json:"start"`
	End         time.Time      `json:"end"`
	Interrupted bool           `json:"interrupted"`
	Runtime     string         `json:"runtime"` // docker or local
	Network     string         `json:"network"`
	Scale       float64        `json:"scale"`
	Images      []RunImage     `json:"images"`
	Scenarios   []*RunScenario `json:"scenarios"`
}

// RunImage records what ran: an image's id, the proxy's version and source.
type RunImage struct {
	Kind    string `json:"kind"`
	Ref     string `json:"ref"`
	ID      string `json:"id"`
	Version string `json:"version,omitempty"`
	// Source is where a proxy came from: "image nginx:1.22", "host
	// /usr/sbin/nginx", "installed /usr/sbin/nginx: apt-get install …".
	Source string `json:"source,omitempty"`
}

// RunScenario is one scenario's rows: one per workload and target.
type RunScenario struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	File        string    `json:"file"`
	Rows        []*RunRow `json:"rows"`
	Err         string    `json:"error,omitempty"` // the scenario could not run at all
}

// RunRow is one workload on one target.
type RunRow struct {
	Target      string       `json:"target"`
	Kind        string       `json:"kind"`
	Seed        string       `json:"seed,omitempty"`
	Description string       `json:"description,omitempty"`
	Workload    string       `json:"workload"`
	Dir         string       `json:"dir,omitempty"` // its results, relative to the run directory
	Usage       *Usage       `json:"usage,omitempty"`
	Verdicts    []RunVerdict `json:"verdicts,omitempty"`
	Err         string       `json:"error,omitempty"` // the row could not be measured
	Logs        []string     `json:"logs,omitempty"`  // saved output of services that failed
	Skipped     string       `json:"skipped,omitempty"`
	// Reps lists the repetitions (wsbench run --count N > 1); the row's
	// own Dir holds their combination.
	Reps []RunRep `json:"reps,omitempty"`
}

// RunRep is one repetition of a row.
type RunRep struct {
	Dir   string `json:"dir"`
	Usage *Usage `json:"usage,omitempty"`
}

// RunVerdict is one expectation checked against a row's result.
type RunVerdict struct {
	Expectation string `json:"expectation"` // as written in the scenario
	Pass        bool   `json:"pass"`
	Got         string `json:"got,omitempty"`    // the value with its unit; "" when it could not be computed
	Reason      string `json:"reason,omitempty"` // why it could not be computed
}

// UnmarshalJSON reads a verdict of either schema: v1 wrote Go's field
// names and the whole expectation ({"Expectation": {"Text": …}, "Pass": …}).
func (v *RunVerdict) UnmarshalJSON(b []byte) error {
	var w struct {
		Expectation json.RawMessage `json:"expectation"` // matches v1's "Expectation" too
		Pass        bool            `json:"pass"`
		Got         string          `json:"got"`
		Reason      string          `json:"reason"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*v = RunVerdict{Pass: w.Pass, Got: w.Got, Reason: w.Reason}
	e := bytes.TrimSpace(w.Expectation)
	switch {
	case len(e) == 0 || string(e) == "null":
	case e[0] == '{':
		var v1 struct {
			Text string `json:"Text"`
		}
		if err := json.Unmarshal(e, &v1); err != nil {
			return fmt.Errorf("verdict expectation: %w", err)
		}
		v.Expectation = v1.Text
	default:
		if err := json.Unmarshal(e, &v.Expectation); err != nil {
			return fmt.Errorf("verdict expectation: %w", err)
		}
	}
	return nil
}

// usageJSON is Usage as run.json writes it.
type usageJSON struct {
	CPUNs       int64 `json:"cpu_ns"`
	MemoryBytes int64 `json:"memory_growth_bytes"`
}

// MarshalJSON writes the usage with its units in its names.
func (u Usage) MarshalJSON() ([]byte, error) {
	return json.Marshal(usageJSON{CPUNs: int64(u.CPU), MemoryBytes: u.MemoryGrowth})
}

// UnmarshalJSON reads a usage of either schema (v1: "CPU", "MemoryGrowth").
func (u *Usage) UnmarshalJSON(b []byte) error {
	var w struct {
		usageJSON
		CPU          *int64 `json:"CPU"`
		MemoryGrowth *int64 `json:"MemoryGrowth"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*u = Usage{CPU: time.Duration(w.CPUNs), MemoryGrowth: w.MemoryBytes}
	if w.CPU != nil {
		u.CPU = time.Duration(*w.CPU)
	}
	if w.MemoryGrowth != nil {
		u.MemoryGrowth = *w.MemoryGrowth
	}
	return nil
}

// ReadRunFile reads dir's run.json and checks its schema and the result
// directories it names (relative, inside the run directory). Errors name
// the file; a missing one satisfies errors.Is(err, fs.ErrNotExist).
func ReadRunFile(dir string) (*RunManifest, error) {
	p := filepath.Join(dir, RunFile)
	data, err := readBounded(p, maxRunFileBytes, "run file")
	if err != nil {
		return nil, err
	}
	m, err := decodeRunFile(data)
	if err != nil {
		return nil, fmt.Errorf("results: %s: %w", p, err)
	}
	return m, nil
}

func decodeRunFile(data []byte) (*RunManifest, error) {
	var m RunManifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, jsonError(data, err)
	}
	if m.Schema != runSchemaV1 {
		if err := checkSchema(m.Schema, RunSchema, "run"); err != nil {
			return nil, err
		}
	}
	m.Schema = RunSchema // as read: the current form
	for i, s := range m.Scenarios {
		if s == nil {
			return nil, fmt.Errorf("scenario %d: null", i+1)
		}
		for j, r := range s.Rows {
			if r == nil {
				return nil, fmt.Errorf("scenario %d row %d: null", i+1, j+1)
			}
			for _, d := range append([]string{r.Dir}, repDirs(r.Reps)...) {
				if d != "" && !filepath.IsLocal(d) {
					return nil, fmt.Errorf("scenario %d row %d: dir %q: want a path inside the run directory", i+1, j+1, clip(d))
				}
			}
		}
	}
	return &m, nil
}

func repDirs(reps []RunRep) []string {
	dirs := make([]string, len(reps))
	for i, r := range reps {
		dirs[i] = r.Dir
	}
	return dirs
}

// WriteRunFile saves m as dir's run.json, whole or not at all (WriteFile).
func WriteRunFile(dir string, m *RunManifest) error {
	m.Schema = RunSchema
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("results: run.json: %w", err)
	}
	return WriteFile(filepath.Join(dir, RunFile), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// repetitionDir is the name of a repetition's directory: rep-1, rep-2, …
// as `wsbench run --count N` writes them (no leading zero, at most six
// digits).
var repetitionDir = regexp.MustCompile(`^rep-([1-9][0-9]{0,5})$`)

// RepetitionDir reports whether a directory name is a repetition's, and
// which: "rep-3" is 3.
func RepetitionDir(name string) (n int, ok bool) {
	m := repetitionDir.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	n, _ = strconv.Atoi(m[1])
	return n, true
}

// RepetitionDirName is the directory of repetition n (from 1).
func RepetitionDirName(n int) string { return "rep-" + strconv.Itoa(n) }

func isRepetitionDir(name string) bool {
	_, ok := RepetitionDir(name)
	return ok
}
