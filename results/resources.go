package results

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Resources is what a process held at one moment: resident memory, open
// file descriptors, goroutines. 0 means not measured (nginx has no
// goroutines; an older file has no resource columns).
type Resources struct {
	RSS        int64 `json:"rss_bytes,omitempty"`
	FDs        int64 `json:"fds,omitempty"`
	Goroutines int64 `json:"goroutines,omitempty"`
}

// ResourceSample is one reading of the proxy under test, T seconds after
// the run's Start (the same axis as the time series).
type ResourceSample struct {
	T float64 `json:"t_sec"`
	Resources
}

// ProxyTimeseriesFile is the name of a run's proxy resource samples.
const ProxyTimeseriesFile = "proxy_timeseries.csv"

// resourceColumns are the resource columns of timeseries.csv and
// proxy_timeseries.csv, in Resources' field order.
var resourceColumns = []string{"rss_bytes", "fds", "goroutines"}

var proxySeriesHeader = append([]string{"t_sec"}, resourceColumns...)

func (r *Resources) fields() []*int64 { return []*int64{&r.RSS, &r.FDs, &r.Goroutines} }

// Values are r's resources in ResourceNames' order.
func (r Resources) Values() []int64 { return []int64{r.RSS, r.FDs, r.Goroutines} }

// format writes r into rec, one cell per resource column: empty when
// not measured.
func (r Resources) format(rec []string) {
	for i, v := range r.fields() {
		rec[i] = ""
		if *v > 0 {
			rec[i] = strconv.FormatInt(*v, 10)
		}
	}
}

// parse reads the resource cells rec into r; an empty cell is 0.
func (r *Resources) parse(rec []string) error {
	for i, dst := range r.fields() {
		if rec[i] == "" {
			*dst = 0
			continue
		}
		v, err := strconv.ParseInt(rec[i], 10, 64)
		if err != nil || v < 0 {
			return fmt.Errorf("%s %q: want a whole number ≥ 0, or nothing when not measured", resourceColumns[i], clip(rec[i]))
		}
		*dst = v
	}
	return nil
}

// add sums b into r (the load generator's workers are separate processes).
func (r *Resources) add(b Resources) {
	r.RSS += b.RSS
	r.FDs += b.FDs
	r.Goroutines += b.Goroutines
}

// WriteProxySeries writes samples as CSV: t_sec,rss_bytes,fds,goroutines,
// one row per sample; a resource not measured is an empty cell.
func WriteProxySeries(w io.Writer, samples []ResourceSample) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(proxySeriesHeader); err != nil {
		return fmt.Errorf("proxy timeseries: %w", err)
	}
	rec := make([]string, len(proxySeriesHeader))
	for _, s := range samples {
		rec[0] = strconv.FormatFloat(s.T, 'f', -1, 64)
		s.Resources.format(rec[1:])
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("proxy timeseries: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("proxy timeseries: %w", err)
	}
	return nil
}

// ReadProxySeries reads what WriteProxySeries writes. Errors name the line
// and the column.
func ReadProxySeries(r io.Reader) ([]ResourceSample, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(proxySeriesHeader)
	cr.ReuseRecord = true
	var out []ResourceSample
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			if first {
				return nil, fmt.Errorf("proxy timeseries: line 1: empty file, want the header %q", strings.Join(proxySeriesHeader, ","))
			}
			return out, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("proxy timeseries: line %d: %w", pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("proxy timeseries: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			if got := strings.Join(rec, ","); got != strings.Join(proxySeriesHeader, ",") {
				return nil, fmt.Errorf("proxy timeseries: line 1: header %q, want %q", clip(got), strings.Join(proxySeriesHeader, ","))
			}
			continue
		}
		var s ResourceSample
		t, err := strconv.ParseFloat(rec[0], 64)
		if err != nil || math.IsNaN(t) || math.IsInf(t, 0) || t < 0 {
			return nil, fmt.Errorf("proxy timeseries: line %d: t_sec %q: want a finite number of seconds ≥ 0", line, clip(rec[0]))
		}
		s.T = t
		if err := s.Resources.parse(rec[1:]); err != nil {
			return nil, fmt.Errorf("proxy timeseries: line %d: %w", line, err)
		}
		out = append(out, s)
	}
}

// writeProxySeries writes dir's proxy_timeseries.csv when r has samples.
func (r *Run) writeProxySeries(dir string) error {
	if len(r.ProxySeries) == 0 {
		return nil
	}
	return WriteFile(filepath.Join(dir, ProxyTimeseriesFile), func(w io.Writer) error {
		return WriteProxySeries(w, r.ProxySeries)
	})
}

// readProxySeries reads dir's proxy_timeseries.csv if there is one.
func (r *Run) readProxySeries(dir string) error {
	path := filepath.Join(dir, ProxyTimeseriesFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fileError(err)
	}
	defer f.Close()
	if r.ProxySeries, err = ReadProxySeries(f); err != nil {
		return fmt.Errorf("results: %s: %w", path, err)
	}
	return nil
}

// mergeProxySeries puts the runs' proxy samples on the merged run's time
// axis (seconds after startMs), in time order: repetitions run one after
// another, each with its own proxy samples.
func mergeProxySeries(runs []*Run, startMs int64) []ResourceSample {
	var out []ResourceSample
	for _, r := range runs {
		shift := float64(r.Summary.Start.UnixMilli()-startMs) / 1000
		for _, s := range r.ProxySeries {
			s.T = max(0, s.T+shift)
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b ResourceSample) int { return cmpFloat(a.T, b.T) })
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Processes and resources of a ResourceTrend.
const (
	ProcessProxy   = "proxy"
	ProcessLoadgen = "loadgen"

	ResourceRSS        = "rss"
	ResourceFDs        = "fds"
	ResourceGoroutines = "goroutines"
)

// ResourceNames are the resources in Resources' field order (and Values').
var ResourceNames = []string{ResourceRSS, ResourceFDs, ResourceGoroutines}

// ResourceTrend is how one resource of one process moved over a run.
type ResourceTrend struct {
	Process  string // ProcessProxy or ProcessLoadgen
	Resource string // ResourceRSS, ResourceFDs or ResourceGoroutines
	// First, Last and Max are over the samples taken while the
	// connections were held (SteadyWindow), or every sample if none was.
	First, Last, Max int64
	// Growth is the median of the last quarter of the steady samples
	// over the median of their second quarter (see SteadyWindow): 1 is
	// flat, 1.1 is 10 % more late in the run than early. 0 when it
	// cannot be computed; Why then says why.
	Growth float64
	Why    string
}

// MinSteadySamples is the fewest steady samples a growth ratio is
// computed from: two per quarter.
const MinSteadySamples = 8

// steadyShare is the share of the most connections ever open that makes
// a second steady.
const steadyShare = 0.9

// SteadyWindow is the part of a run in which the load held: from the
// first to the last second (row end times, seconds after Start) in which
// at least 90 % of the most connections ever open were open. It leaves out
// the connect phase and the closing at the end, when memory and
// descriptors move with the connections rather than with time. ok is false
// when no connection was open.
func SteadyWindow(series []Interval) (from, to float64, ok bool) {
	var peak int64
	for _, row := range series {
		peak = max(peak, row.Open)
	}
	if peak == 0 {
		return 0, 0, false
	}
	first := -1
	for i, row := range series {
		if float64(row.Open) >= steadyShare*float64(peak) {
			if first < 0 {
				first = i
			}
			to = row.T
		}
	}
	return series[first].T, to, true
}

// GrowthRatio is the median of the last quarter of values over the
// median of their second quarter. The first quarter is left out as
// warm-up (heaps growing to their first GC target, pools filling);
// medians rather than means, so a GC cycle's spike or a burst of
// in-flight reconnections moves neither. A rise of at most slack counts
// as none (1): a goroutine count of 10 that reads 11 late in the run has
// caught a reconnection, not a leak. ok is false with fewer than
// MinSteadySamples values or a second quarter at 0.
func GrowthRatio(values []float64, slack float64) (ratio float64, ok bool) {
	n := len(values)
	if n < MinSteadySamples {
		return 0, false
	}
	early := median(values[n/4 : n/2])
	late := median(values[3*n/4:])
	if early <= 0 {
		return 0, false
	}
	if late > early && late-early <= slack {
		return 1, true
	}
	return late / early, true
}

// growthSlack is GrowthRatio's slack per resource, in ResourceNames'
// order: 4 MiB of resident memory, 2 descriptors, 2 goroutines. A Go
// process's heap grows to its next GC goal (twice the live heap) before it
// is collected, and its resident memory follows and stays: in a run of
// seconds that first climb can fall between the second and the last
// quarter, a few MiB that are no leak. A descriptor or goroutine more is
// a connection being reopened when the sample was taken.
var growthSlack = []float64{4 << 20, 2, 2}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ResourceTrends lists every resource measured in a run — the proxy's
// from its samples, then the load generator's from its time series — with
// its growth over the steady window of the time series.
func ResourceTrends(series []Interval, proxy []ResourceSample) []ResourceTrend {
	from, to, steady := SteadyWindow(series)
	var out []ResourceTrend
	add := func(process string, ts []float64, rs []Resources) {
		for k, name := range ResourceNames {
			tr := ResourceTrend{Process: process, Resource: name}
			var vals []float64
			var all []int64
			for i, res := range rs {
				v := *res.fields()[k]
				if v <= 0 {
					continue
				}
				all = append(all, v)
				if steady && ts[i] >= from && ts[i] <= to {
					vals = append(vals, float64(v))
				}
			}
			if len(all) == 0 {
				continue
			}
			if len(vals) > 0 { // the held seconds, when there are any
				all = all[:0]
				for _, v := range vals {
					all = append(all, int64(v))
				}
			}
			tr.First, tr.Last, tr.Max = all[0], all[len(all)-1], slices.Max(all)
			switch g, ok := GrowthRatio(vals, growthSlack[k]); {
			case !steady:
				tr.Why = "no connection was open"
			case !ok && len(vals) < MinSteadySamples:
				tr.Why = fmt.Sprintf("%d samples while the connections were held, want at least %d (a longer run)", len(vals), MinSteadySamples)
			case !ok:
				tr.Why = "nothing measured early in the run"
			default:
				tr.Growth = g
			}
			out = append(out, tr)
		}
	}
	ts, rs := make([]float64, len(proxy)), make([]Resources, len(proxy))
	for i, s := range proxy {
		ts[i], rs[i] = s.T, s.Resources
	}
	add(ProcessProxy, ts, rs)
	ts, rs = make([]float64, len(series)), make([]Resources, len(series))
	for i, row := range series {
		ts[i], rs[i] = row.T, row.Resources
	}
	add(ProcessLoadgen, ts, rs)
	return out
}
