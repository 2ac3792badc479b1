package main

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/harness"
	"github.com/wsbench/wsbench/results"
)

// The last line of `wsbench run` counts as measured only the rows that
// produced a measurement: an interrupted run lists rows that never ran.
func TestRunVerdictLine(t *testing.T) {
	measured := func() *harness.Row { return &harness.Row{Target: "t", Workload: "w", Summary: &results.Summary{}} }
	notRun := func() *harness.Row { return &harness.Row{Target: "t", Workload: "w", Err: "interrupted before it ran"} }
	tests := []struct {
		name        string
		interrupted bool
		rows        []*harness.Row
		want        string
		code        int
	}{
		{"interrupted before any row", true, []*harness.Row{notRun(), notRun(), notRun(), notRun(), notRun()},
			"interrupted: 0 of 5 rows measured; partial results in runs/x\n", 130},
		{"interrupted half-way", true, []*harness.Row{measured(), measured(), notRun(), notRun(), notRun()},
			"interrupted: 2 of 5 rows measured; partial results in runs/x\n", 130},
		{"passed", false, []*harness.Row{measured(), measured()},
			"PASS: 2 rows, every expectation held; results in runs/x\n", 0},
		{"failed", false, []*harness.Row{measured(), notRun()},
			"FAIL: 1 of 2 rows broke an expectation or could not be measured; results in runs/x\n", exitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &harness.Outcome{Interrupted: tt.interrupted, Scenarios: []*harness.ScenarioOutcome{{Name: "s", Rows: tt.rows}}}
			var stdout bytes.Buffer
			err := runVerdict(out, "runs/x", &env{stdout: &stdout, stderr: io.Discard})
			code := 0
			var ee exitError
			if errors.As(err, &ee) {
				code = ee.code
			} else if err != nil {
				code = -1
			}
			if got := stdout.String(); got != tt.want || code != tt.code {
				t.Errorf("got %q, exit %d; want %q, exit %d", strings.TrimSpace(got), code, tt.want, tt.code)
			}
		})
	}
}
