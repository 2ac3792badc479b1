package sysio

import (
	"errors"
	"fmt"
	"syscall"
)

// IsFileLimit reports whether err is the process's or the system's file
// limit (EMFILE or ENFILE).
func IsFileLimit(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// LimitErr explains EMFILE and ENFILE with the limit that was hit, so a
// connection count that reaches it says so plainly; other errors pass
// through.
func LimitErr(err error) error {
	if !IsFileLimit(err) {
		return err
	}
	if n := FileLimit(); n > 0 {
		return fmt.Errorf("too many open files (limit %d): %w", n, err)
	}
	return fmt.Errorf("too many open files: %w", err)
}
