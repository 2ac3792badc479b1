package main

import (
	"strings"
	"testing"
)

// The listing keeps one short line per scenario and target; naming a
// scenario prints all of it, wrapped; an unknown name is a usage error.
func TestRunList(t *testing.T) {
	code, out, stderr := runCLI("run", "--list")
	if code != 0 {
		t.Fatalf("run --list: exit %d: %s", code, stderr)
	}
	for _, name := range []string{"handshake", "hold-timeouts", "calibrate", "soak"} {
		if !strings.Contains(out, name+" ") {
			t.Errorf("run --list does not list %s:\n%s", name, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 400 {
			t.Errorf("run --list line of %d characters: %.80s…", len(line), line)
		}
	}
	code, out, stderr = runCLI("run", "--list", "hold-timeouts")
	if code != 0 {
		t.Fatalf("run --list hold-timeouts: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "reset_timedout_connection") {
		t.Errorf("the full description lost its last sentences:\n%s", out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if len(line) > 80 && strings.Contains(line, " ") {
			t.Errorf("line wider than 80 columns: %q", line)
		}
	}
	if code, _, stderr = runCLI("run", "--list", "nope"); code != 2 || !strings.Contains(stderr, `"nope"`) {
		t.Errorf("run --list nope: exit %d, %s; want 2 naming it", code, stderr)
	}
}
