package results

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// WriteFile replaces a file whole or not at all, and leaves no temporary
// file behind when the write fails.
func TestWriteFile(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		old     string // the file before; "" = none
		write   func(io.Writer) error
		want    string // the file after; "" = none
		wantErr bool
	}{
		{"new file", "", func(w io.Writer) error { _, err := io.WriteString(w, "new\n"); return err }, "new\n", false},
		{"replaces", "old\n", func(w io.Writer) error { _, err := io.WriteString(w, "new\n"); return err }, "new\n", false},
		{"failed write keeps the old file", "old\n", func(w io.Writer) error {
			io.WriteString(w, strings.Repeat("half", 100_000))
			return boom
		}, "old\n", true},
		{"failed write makes no file", "", func(w io.Writer) error { io.WriteString(w, "half"); return boom }, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, SummaryFile)
			if tt.old != "" {
				if err := os.WriteFile(path, []byte(tt.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := WriteFile(path, tt.write)
			if (err != nil) != tt.wantErr || tt.wantErr && !errors.Is(err, boom) {
				t.Fatalf("WriteFile = %v; want error %v", err, tt.wantErr)
			}
			got, rerr := os.ReadFile(path)
			if tt.want == "" {
				if !errors.Is(rerr, os.ErrNotExist) {
					t.Errorf("file after a failed write: %q, %v; want none", got, rerr)
				}
			} else if string(got) != tt.want {
				t.Errorf("file = %q, %v; want %q", got, rerr, tt.want)
			}
			entries, _ := os.ReadDir(dir)
			if n := len(entries); n != min(1, len(tt.want)) {
				t.Errorf("%d entries in the directory, want only the file: %v", n, entries)
			}
			if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() != 0o644 {
				t.Errorf("mode %v, want 0644", fi.Mode().Perm())
			}
		})
	}
}

// A directory written again is never a mix of two runs: its old summary
// goes before any new file is written.
func TestWriteRemovesOldSummaryFirst(t *testing.T) {
	dir := t.TempDir()
	run := sampleRun(t)
	if err := run.Write(dir); err != nil {
		t.Fatal(err)
	}
	// Make the rewrite fail after the histograms: timeseries.csv is a
	// directory, so it cannot be replaced.
	os.Remove(filepath.Join(dir, TimeseriesFile))
	if err := os.Mkdir(filepath.Join(dir, TimeseriesFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := run.Write(dir); err == nil {
		t.Fatal("Write over a directory named timeseries.csv succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, SummaryFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("summary.json after a failed rewrite: %v; want it gone, so nobody reads the directory as complete", err)
	}
}
