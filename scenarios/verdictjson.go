package scenarios

import (
	"encoding/json"

	"github.com/wsbench/wsbench/results"
)

// Wire is the verdict as result files record it (run.json, verdicts.json):
// the expectation as written, not its parsed parts.
func (v Verdict) Wire() results.RunVerdict {
	return results.RunVerdict{Expectation: v.Expectation.Text, Pass: v.Pass, Got: v.Got, Reason: v.Reason}
}

// VerdictFromWire is a verdict read back from a result file: the
// expectation is parsed again from its text (Line is lost; text that no
// longer parses keeps only Text).
func VerdictFromWire(w results.RunVerdict) Verdict {
	e, err := ParseExpectation(w.Expectation)
	if err != nil {
		e = Expectation{Text: w.Expectation}
	}
	return Verdict{Expectation: e, Pass: w.Pass, Got: w.Got, Reason: w.Reason}
}

// MarshalJSON writes the wire form, so verdicts.json and run.json agree.
func (v Verdict) MarshalJSON() ([]byte, error) { return json.Marshal(v.Wire()) }

// UnmarshalJSON reads the wire form (or the Go field names written before).
func (v *Verdict) UnmarshalJSON(b []byte) error {
	var w results.RunVerdict
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*v = VerdictFromWire(w)
	return nil
}
