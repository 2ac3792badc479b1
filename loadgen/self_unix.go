//go:build unix

package loadgen

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

func readSelf() selfUsage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return selfUsage{userNS: syscall.TimevalToNsec(ru.Utime), sysNS: syscall.TimevalToNsec(ru.Stime), rss: residentBytes()}
}

// residentBytes reads the resident set from /proc/self/statm (Linux); 0
// where there is no /proc.
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
