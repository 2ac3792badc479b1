// Package selfusage reads what this process holds right now: resident
// memory, open file descriptors and goroutines. The load generator
// samples it into its time series every second and the reference proxy
// serves it on its admin address, so a long run shows whether either
// process grows. Each reading is a few system calls, cheap enough for
// once a second at 20,000 open descriptors.
package selfusage

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
)

// Usage is one reading. A figure that cannot be read on this system (no
// /proc) is 0, which readers take as "not measured".
type Usage struct {
	RSSBytes   int64 `json:"rss_bytes"`
	FDs        int64 `json:"fds"`
	Goroutines int64 `json:"goroutines"`
}

// Read reads the process's usage now.
func Read() Usage {
	return Usage{RSSBytes: ResidentBytes(), FDs: openFDs(), Goroutines: int64(runtime.NumGoroutine())}
}

// ResidentBytes is the resident set from /proc/self/statm (Linux); 0
// where there is no /proc.
func ResidentBytes() int64 {
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

// openFDs counts the process's open descriptors. Since Linux 6.2 the
// size of /proc/self/fd is that count, one stat(2) whatever the number;
// older kernels report 0 there and the entries are counted instead.
func openFDs() int64 {
	const dir = "/proc/self/fd"
	if fi, err := os.Stat(dir); err != nil {
		return 0
	} else if fi.Size() > 0 {
		return fi.Size()
	}
	f, err := os.Open(dir)
	if err != nil {
		return 0
	}
	defer f.Close()
	var n int64
	for {
		names, err := f.Readdirnames(512)
		n += int64(len(names))
		if errors.Is(err, io.EOF) || len(names) == 0 {
			break
		}
		if err != nil {
			return 0
		}
	}
	return max(n-1, 0) // not the descriptor counting them
}
