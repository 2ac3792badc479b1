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
	data, err := readBounded(path, maxSummaryBytes, "summary")
	if err != nil {
		return nil, err
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
	if err := checkSchema(s.Schema, Schema, "result"); err != nil {
		return nil, err
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

// readBounded reads the file at path, at most limit bytes of it: a larger
// file is an error saying it is not a wsbench <what>. Errors name the file;
// one that does not exist satisfies errors.Is(err, fs.ErrNotExist).
func readBounded(path string, limit int, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileError(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("results: read %s: %w", path, err)
	}
	if len(data) > limit {
		return nil, fmt.Errorf("results: %s: larger than %d MiB; not a wsbench %s", path, limit>>20, what)
	}
	return data, nil
}

// checkSchema checks a file's schema field, got, against want; what names
// the kind of file in the error for a missing field (result, run).
func checkSchema(got, want, what string) error {
	switch got {
	case want:
		return nil
	case "":
		return fmt.Errorf("no \"schema\" field, want %q (not a wsbench %s?)", want, what)
	default:
		return fmt.Errorf("schema %q, want %q", clip(got), want)
	}
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
