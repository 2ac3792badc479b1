package testenv

import (
	"errors"
	"testing"
)

// recorder is a testing.TB that notes how Need ended the test.
type recorder struct {
	testing.TB
	failed, skipped bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Skip(...any)           { r.skipped = true }

func TestNeed(t *testing.T) {
	missing := errors.New("no widget")
	tests := []struct {
		name            string
		missing         error
		env             string
		failed, skipped bool
	}{
		{"present", nil, "1", false, false},
		{"missing, not required", missing, "", false, true},
		{"missing, required", missing, "1", true, false},
		{"missing, required off", missing, "0", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("WSBENCH_TEST_REQUIRE", tt.env)
			r := &recorder{TB: t}
			Need(r, tt.missing, "WSBENCH_OTHER_UNSET", "WSBENCH_TEST_REQUIRE")
			if r.failed != tt.failed || r.skipped != tt.skipped {
				t.Errorf("failed %v, skipped %v; want %v, %v", r.failed, r.skipped, tt.failed, tt.skipped)
			}
		})
	}
}

func TestProgram(t *testing.T) {
	t.Setenv("WSBENCH_TEST_REQUIRE", "1")
	r := &recorder{TB: t}
	Program(r, "wsbench-no-such-program", "WSBENCH_TEST_REQUIRE")
	if !r.failed {
		t.Error("a missing program that is required did not fail the test")
	}
	r = &recorder{TB: t}
	Program(r, "wsbench-no-such-program")
	if !r.skipped {
		t.Error("a missing program that is not required did not skip the test")
	}
	if p := Program(t, "sh"); p == "" {
		t.Error("sh: no path")
	}
}
