package results

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Out of file descriptors, Write must say so and name the limit.
func TestWriteOutOfFiles(t *testing.T) {
	dir := t.TempDir()
	run := sampleRun(t)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	// The kernel hands out the lowest free descriptor and refuses any at or
	// above the limit: a limit equal to the lowest free one leaves none.
	probe, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	lowest := probe.Fd()
	probe.Close()
	tight := old
	tight.Cur = uint64(lowest)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &tight); err != nil {
		t.Fatal(err)
	}
	err = run.Write(dir)
	if rerr := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); rerr != nil {
		t.Fatal(rerr)
	}
	want := "results: too many open files (limit " + strconv.FormatUint(tight.Cur, 10) + "): "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Write with no file descriptors left: %v, want prefix %q", err, want)
	}
}
