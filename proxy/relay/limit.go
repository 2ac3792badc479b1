package relay

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// IsFileLimit reports whether err is the process or system file limit
// (EMFILE or ENFILE).
func IsFileLimit(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// LimitErr explains EMFILE and ENFILE with the limit that was hit, so a
// tunnel count that reaches it says so plainly; other errors pass through.
func LimitErr(err error) error {
	if !IsFileLimit(err) {
		return err
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) != nil {
		return fmt.Errorf("too many open files: %w", err)
	}
	return fmt.Errorf("too many open files (limit %d): %w", rl.Cur, err)
}
