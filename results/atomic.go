package results

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile writes the file at path through a temporary file in the same
// directory and a rename, so that a reader — or `wsbench report` after the
// writer was killed, even with SIGKILL — sees the old file, the whole new
// one or none, never part of one. The temporary name (.<name>.<random>.tmp)
// is hidden and never a result file's name; a killed writer may leave it
// behind, and nothing reads it. Every result file wsbench writes goes
// through here: summary.json, .hgrm, .hlog, timeseries.csv, run.json,
// verdicts.json, report.md, report.html.
//
// The data is not synced to disk: the files survive the process, not a
// power cut (a run is cheap to repeat; a sync per file is not free on the
// machines that run load).
func WriteFile(path string, write func(io.Writer) error) (err error) {
	dir, name := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return fileError(err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return fmt.Errorf("results: %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fileError(err)
	}
	// CreateTemp makes the file private (0600); results are for reading.
	if err := f.Chmod(0o644); err != nil {
		return fileError(err)
	}
	if err := f.Close(); err != nil {
		return fileError(err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fileError(err)
	}
	return nil
}
