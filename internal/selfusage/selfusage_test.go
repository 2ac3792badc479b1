package selfusage

import (
	"os"
	"runtime"
	"testing"
)

func TestReadFollowsTheProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		if u := Read(); u.RSSBytes != 0 || u.FDs != 0 {
			t.Errorf("Read() = %+v without /proc, want 0 memory and descriptors (not measured)", u)
		}
		return
	}
	cases := []struct {
		name  string
		files int
	}{{"no extra files", 0}, {"100 more files", 100}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := Read()
			var fs []*os.File
			for range c.files {
				f, err := os.Open(os.DevNull)
				if err != nil {
					t.Fatal(err)
				}
				fs = append(fs, f)
			}
			got := Read()
			for _, f := range fs {
				f.Close()
			}
			if got.RSSBytes <= 0 || got.Goroutines <= 0 {
				t.Errorf("Read() = %+v, want resident memory and goroutines above 0", got)
			}
			if d := got.FDs - before.FDs; d != int64(c.files) {
				t.Errorf("opening %d files moved the descriptor count by %d (from %d to %d)", c.files, d, before.FDs, got.FDs)
			}
			if before.FDs < 3 {
				t.Errorf("descriptors %d before, want at least stdin, stdout, stderr", before.FDs)
			}
		})
	}
}
