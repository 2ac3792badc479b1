package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// SummaryFile is the name of a run's summary in its directory.
const SummaryFile = "summary.json"

// maxSummaryBytes bounds what ReadSummary reads: a summary is kilobytes
// (its survival curve grows with connections, not with time).
const maxSummaryBytes = 64 << 20

// ReadSummary reads a summary.json. path is the file itself or the run
// directory holding it. The schema must be wsbench/result/v1. Errors name
// the file and, for malformed JSON, the line.
func ReadSummary(path string) (*Summary, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, SummaryFile)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fileError(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSummaryBytes+1))
	if err != nil {
		return nil, fmt.Errorf("results: read %s: %w", path, err)
	}
	if len(data) > maxSummaryBytes {
		return nil, fmt.Errorf("results: %s: larger than %d MiB; not a wsbench summary", path, maxSummaryBytes>>20)
	}
	s, err := decodeSummary(data)
	if err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	return s, nil
}

// decodeSummary parses summary.json's bytes and checks what a reader relies
// on: the schema, and metric names that are safe file names.
func decodeSummary(data []byte) (*Summary, error) {
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, jsonError(data, err)
	}
	switch s.Schema {
	case Schema:
	case "":
		return nil, fmt.Errorf("no \"schema\" field, want %q (not a wsbench result?)", Schema)
	default:
		return nil, fmt.Errorf("schema %q, want %q", clip(s.Schema), Schema)
	}
	for name := range s.Histograms {
		if err := checkMetricName(name); err != nil {
			return nil, fmt.Errorf("histograms: %w", err)
		}
	}
	if err := compactHellos(s.Hellos); err != nil {
		return nil, err
	}
	return &s, nil
}

// compactHellos rewrites each hello message as compact JSON, in place, so
// a hello reads back byte for byte however summary.json was indented.
func compactHellos(hellos []json.RawMessage) error {
	for i, h := range hellos {
		var b bytes.Buffer
		if err := json.Compact(&b, h); err != nil {
			return fmt.Errorf("hello %d: %w", i+1, err)
		}
		hellos[i] = b.Bytes()
	}
	return nil
}

// jsonError adds the line number to a JSON syntax or type error.
func jsonError(data []byte, err error) error {
	var offset int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		offset = se.Offset
	case errors.As(err, &te):
		offset = te.Offset
	}
	if offset < 0 || offset > int64(len(data)) {
		return err
	}
	line := 1 + bytes.Count(data[:offset], []byte("\n"))
	if offset == int64(len(data)) {
		return fmt.Errorf("line %d: %w (truncated?)", line, err)
	}
	return fmt.Errorf("line %d: %w", line, err)
}

// encodeSummary renders s as indented JSON with a final newline.
func encodeSummary(s *Summary) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
