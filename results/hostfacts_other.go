//go:build !linux

package results

// kernelVersion is unknown off Linux; wsbench measures on Linux.
func kernelVersion() string { return "" }

// openFileLimit is unknown off Linux.
func openFileLimit() int64 { return -1 }
