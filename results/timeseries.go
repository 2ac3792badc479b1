package results

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// timeseriesHeader is timeseries.csv's first row; the names match
// Interval's JSON fields. The resource columns came later: a file without
// them (timeseriesHeaderV1) still reads, with no resources measured.
var timeseriesHeader = append(append([]string(nil), timeseriesHeaderV1...), resourceColumns...)

var timeseriesHeaderV1 = []string{
	"t_sec", "open", "msgs_sent", "msgs_recv", "bytes_sent", "bytes_recv", "errors", "p50_us", "p99_us",
}

// WriteTimeseries writes rows as CSV: the header row
// t_sec,open,msgs_sent,msgs_recv,bytes_sent,bytes_recv,errors,p50_us,p99_us,rss_bytes,fds,goroutines
// then one row per interval. T is written in the shortest form that reads
// back to the same float64; a resource not measured (0) is an empty cell.
func WriteTimeseries(w io.Writer, rows []Interval) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(timeseriesHeader); err != nil {
		return fmt.Errorf("timeseries: %w", err)
	}
	rec := make([]string, len(timeseriesHeader))
	for _, r := range rows {
		rec[0] = strconv.FormatFloat(r.T, 'f', -1, 64)
		for i, v := range r.counters() {
			rec[i+1] = strconv.FormatInt(*v, 10)
		}
		r.Resources.format(rec[len(timeseriesHeaderV1):])
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("timeseries: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("timeseries: %w", err)
	}
	return nil
}

// counters lists the integer columns in header order.
func (r *Interval) counters() []*int64 {
	return []*int64{&r.Open, &r.MsgsSent, &r.MsgsRecv, &r.BytesSent, &r.BytesRecv, &r.Errors, &r.P50, &r.P99}
}

// ReadTimeseries reads what WriteTimeseries writes, and files written
// before the resource columns existed. The header must match one of the
// two exactly; every value must be a finite, non-negative number (t_sec)
// or a whole number ≥ 0 (resources: or empty). Errors name the line and
// the column.
func ReadTimeseries(r io.Reader) ([]Interval, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 0 // every row as long as the header
	cr.ReuseRecord = true
	var rows []Interval
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			if first {
				return nil, fmt.Errorf("timeseries: line 1: empty file, want the header %q", strings.Join(timeseriesHeader, ","))
			}
			return rows, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("timeseries: line %d: %w", pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("timeseries: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			got := strings.Join(rec, ",")
			if got != strings.Join(timeseriesHeader, ",") && got != strings.Join(timeseriesHeaderV1, ",") {
				return nil, fmt.Errorf("timeseries: line 1: header %q, want %q",
					clip(got), strings.Join(timeseriesHeader, ","))
			}
			continue
		}
		row, err := parseTimeseriesRow(rec)
		if err != nil {
			return nil, fmt.Errorf("timeseries: line %d: %w", line, err)
		}
		rows = append(rows, row)
	}
}

func parseTimeseriesRow(rec []string) (Interval, error) {
	var row Interval
	t, err := strconv.ParseFloat(rec[0], 64)
	if err != nil || math.IsNaN(t) || math.IsInf(t, 0) || t < 0 {
		return row, fmt.Errorf("t_sec %q: want a finite number of seconds ≥ 0", clip(rec[0]))
	}
	row.T = t
	for i, dst := range row.counters() {
		v, err := strconv.ParseInt(rec[i+1], 10, 64)
		if err != nil || v < 0 {
			return row, fmt.Errorf("%s %q: want a whole number ≥ 0", timeseriesHeader[i+1], clip(rec[i+1]))
		}
		*dst = v
	}
	if len(rec) > len(timeseriesHeaderV1) {
		if err := row.Resources.parse(rec[len(timeseriesHeaderV1):]); err != nil {
			return row, err
		}
	}
	return row, nil
}
