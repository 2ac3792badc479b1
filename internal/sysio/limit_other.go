//go:build !unix

package sysio

// FileLimit is the process's limit on open files: unknown (0) here.
func FileLimit() uint64 { return 0 }
