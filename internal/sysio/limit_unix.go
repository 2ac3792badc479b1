//go:build unix

package sysio

import "golang.org/x/sys/unix"

// FileLimit is the process's soft limit on open files (ulimit -n), 0 if
// unknown.
func FileLimit() uint64 {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) != nil {
		return 0
	}
	return rl.Cur
}
