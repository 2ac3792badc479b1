// Package testenv decides what a test does when something it needs from
// the machine (Docker, nginx, haproxy, Chromium) is missing: skip on a
// developer's machine, fail where the environment says the check must run.
// CI sets WSBENCH_REQUIRE_DOCKER=1, WSBENCH_REQUIRE_NGINX=1, WSBENCH_REQUIRE_CADDY=1,
// WSBENCH_REQUIRE_HAPROXY=1 and WSBENCH_REQUIRE_CHROMIUM=1 (.ci/run), so
// it cannot go green by not running a check.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
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

// Program returns the path of a program a test needs from the machine
// (haproxy, nginx): from PATH, else /usr/sbin/<name>. Without it, t fails
// when any variable of require is "1" (CI sets WSBENCH_REQUIRE_HAPROXY=1)
// and skips otherwise.
func Program(t testing.TB, name string, require ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := "/usr/sbin/" + name
	_, err := os.Stat(p)
	if err != nil {
		err = fmt.Errorf("no %s on this machine (apt-get install %s): %w", name, name, err)
	}
	Need(t, err, require...)
	return p
}
