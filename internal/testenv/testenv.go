// Package testenv decides what a test does when something it needs from
// the machine (Docker, nginx, Chromium) is missing: skip on a developer's
// machine, fail where the environment says the check must run. CI sets
// WSBENCH_REQUIRE_DOCKER=1 and WSBENCH_REQUIRE_CHROMIUM=1, so it cannot go
// green by not running a check.
package testenv

import (
	"os"
	"testing"
)

// Need returns when missing is nil. Otherwise it fails t when any of the
// environment variables named by require is "1", and skips t when none is.
func Need(t testing.TB, missing error, require ...string) {
	t.Helper()
	if missing == nil {
		return
	}
	for _, v := range require {
		if os.Getenv(v) == "1" {
			t.Fatalf("%v; %s=1 requires it", missing, v)
			return
		}
	}
	t.Skip(missing)
}
