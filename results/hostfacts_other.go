//go:build !linux

package results

// kernelVersion is unknown off Linux; wsbench measures on Linux.
func kernelVersion() string { return "" }
