package results

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// TimeseriesFile is the name of a run's per-second table in its directory.
const TimeseriesFile = "timeseries.csv"

// Write creates dir (and its parents) and writes the run into it:
// <metric>.hgrm and <metric>.hlog for every metric with data,
// timeseries.csv, proxy_timeseries.csv when there are proxy samples, and
// summary.json last, so a directory with a summary.json is complete. Each
// file is written whole or not at all (WriteFile), so a writer killed
// half-way leaves the files it finished readable.
//
// Write first makes the run consistent, in place, so that Read(dir) returns
// what r holds afterwards:
//   - a metric given only as intervals gets its whole-run histogram by
//     merging them; one given only as a whole-run histogram is written as
//     a single interval spanning the run;
//   - a metric given both ways must merge to the same histogram, or Write
//     fails (its .hlog would contradict its .hgrm);
//   - metrics without any value are dropped;
//   - interval histograms are tagged with their metric name;
//   - Summary.Histograms is recomputed from the histograms, an empty
//     Summary.Schema is set to Schema, hello messages are compacted, and
//     Summary.ToolBound is set from LoadgenBound.
func (r *Run) Write(dir string) error {
	if err := r.normalize(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fileError(err)
	}
	// A directory written again loses its summary first: until the new
	// one is in place it is incomplete, not a mix of two runs.
	if err := os.Remove(filepath.Join(dir, SummaryFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fileError(err)
	}
	baseMs := r.baseMs()
	for _, m := range slices.Sorted(maps.Keys(r.Histograms)) {
		if err := WriteFile(filepath.Join(dir, m+".hgrm"), func(w io.Writer) error {
			return WriteHGRM(w, r.Histograms[m])
		}); err != nil {
			return err
		}
		entries := make([]hlogEntry, len(r.Intervals[m]))
		for i, h := range r.Intervals[m] {
			entries[i] = hlogEntry{h: h, tag: m, startMs: h.StartTimeMs(), endMs: h.EndTimeMs()}
		}
		if err := WriteFile(filepath.Join(dir, m+".hlog"), func(w io.Writer) error {
			return writeHlog(w, baseMs, entries)
		}); err != nil {
			return err
		}
	}
	if err := WriteFile(filepath.Join(dir, TimeseriesFile), func(w io.Writer) error {
		return WriteTimeseries(w, r.Series)
	}); err != nil {
		return err
	}
	if err := r.writeProxySeries(dir); err != nil {
		return err
	}
	return WriteFile(filepath.Join(dir, SummaryFile), func(w io.Writer) error {
		b, err := encodeSummary(&r.Summary)
		if err == nil {
			_, err = w.Write(b)
		}
		return err
	})
}

// normalize makes the histograms, intervals and summary agree (see Write).
func (r *Run) normalize() error {
	switch r.Summary.Schema {
	case "":
		r.Summary.Schema = Schema
	case Schema:
	default:
		return fmt.Errorf("results: summary schema %q, want %q", r.Summary.Schema, Schema)
	}
	if err := compactHellos(r.Summary.Hellos); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if r.Summary.Start.IsZero() {
		return fmt.Errorf("results: summary has no start time; the interval logs are relative to it")
	}
	if r.Histograms == nil {
		r.Histograms = map[string]*hdrhistogram.Histogram{}
	}
	if r.Intervals == nil {
		r.Intervals = map[string][]*hdrhistogram.PackedHistogram{}
	}
	names := append(slices.Sorted(maps.Keys(r.Histograms)), slices.Sorted(maps.Keys(r.Intervals))...)
	slices.Sort(names)
	r.Summary.Histograms = map[string]Stats{}
	for _, m := range slices.Compact(names) {
		if err := r.normalizeMetric(m); err != nil {
			return fmt.Errorf("results: metric %q: %w", m, err)
		}
	}
	_, r.Summary.ToolBound = r.Summary.LoadgenBound()
	return nil
}

func (r *Run) normalizeMetric(m string) error {
	if err := checkMetricName(m); err != nil {
		return err
	}
	whole, ivs := r.Histograms[m], r.Intervals[m]
	if len(ivs) > 0 {
		merged, err := mergeIntervals(ivs)
		if err != nil {
			return fmt.Errorf("intervals: %w", err)
		}
		if whole == nil {
			whole = merged
		} else if !whole.Equals(merged) {
			return fmt.Errorf("its %d intervals merge to %d values (p99 %d µs), its whole-run histogram holds %d (p99 %d µs); they must agree",
				len(ivs), merged.TotalCount(), merged.ValueAtQuantile(99), whole.TotalCount(), whole.ValueAtQuantile(99))
		}
	} else if whole != nil {
		one, err := packedCopy(whole)
		if err != nil {
			return err
		}
		one.SetStartTimeMs(r.Summary.Start.UnixMilli())
		one.SetEndTimeMs(max(r.Summary.End.UnixMilli(), one.StartTimeMs()))
		ivs = []*hdrhistogram.PackedHistogram{one}
	}
	if whole == nil || whole.TotalCount() == 0 {
		delete(r.Histograms, m)
		delete(r.Intervals, m)
		return nil
	}
	for _, h := range ivs {
		h.SetTag(m)
	}
	r.Histograms[m], r.Intervals[m] = whole, ivs
	r.Summary.Histograms[m] = Summarize(whole)
	return nil
}

// baseMs is the time the interval logs are relative to: the run's start,
// or an earlier interval's if a clock put one there.
func (r *Run) baseMs() int64 {
	base := r.Summary.Start.UnixMilli()
	for _, ivs := range r.Intervals {
		for _, h := range ivs {
			base = min(base, h.StartTimeMs())
		}
	}
	return base
}

// fileError prefixes err, and says so plainly when the process is out of
// file descriptors: a load generator holding thousands of connections may
// be when it writes its results.
func fileError(err error) error {
	if errors.Is(err, syscall.EMFILE) {
		return fmt.Errorf("results: too many open files (limit %d): %w", openFileLimit(), err)
	}
	return fmt.Errorf("results: %w", err)
}

// Read reads a run directory written by Write. Each whole-run histogram is
// rebuilt by merging its interval log, and must give exactly the stats that
// summary.json records, so a truncated or mismatched .hlog is an error.
// Interval histograms carry their metric name as tag. Errors name the file.
func Read(dir string) (*Run, error) {
	s, err := ReadSummary(dir)
	if err != nil {
		return nil, err
	}
	r := &Run{
		Summary:    *s,
		Histograms: map[string]*hdrhistogram.Histogram{},
		Intervals:  map[string][]*hdrhistogram.PackedHistogram{},
	}
	for _, m := range slices.Sorted(maps.Keys(s.Histograms)) {
		path := filepath.Join(dir, m+".hlog")
		if err := r.readMetric(m, path); err != nil {
			if errors.Is(err, syscall.EMFILE) {
				return nil, fileError(err)
			}
			return nil, fmt.Errorf("results: %s: %w", path, err)
		}
	}
	path := filepath.Join(dir, TimeseriesFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, fileError(err)
	}
	defer f.Close()
	if r.Series, err = ReadTimeseries(f); err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	if err := r.readProxySeries(dir); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Run) readMetric(m, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	ivs, err := ReadHlog(f)
	if err != nil {
		return err
	}
	if len(ivs) == 0 {
		return fmt.Errorf("no intervals, want at least one (truncated?)")
	}
	for i, h := range ivs {
		if h.Tag() != m {
			return fmt.Errorf("interval %d is tagged %q, want %q", i+1, h.Tag(), m)
		}
	}
	whole, err := mergeIntervals(ivs)
	if err != nil {
		return err
	}
	if got, want := Summarize(whole), r.Summary.Histograms[m]; got != want {
		return fmt.Errorf("intervals hold %d values (p99 %d µs), %s says %d (p99 %d µs) (truncated?)",
			got.Count, got.P99, SummaryFile, want.Count, want.P99)
	}
	r.Histograms[m], r.Intervals[m] = whole, ivs
	return nil
}
