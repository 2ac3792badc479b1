package results

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// HGRM layout, as HdrHistogram's Java outputPercentileDistribution writes it
// (the format the HdrHistogram plotter and hdr-plot read): values scaled
// from microseconds to milliseconds, five percentile ticks per half
// distance to 100%.
const (
	hgrmValueScale = 1000.0 // µs → ms
	hgrmTicks      = 5
)

// Distribution is a parsed .hgrm file.
type Distribution struct {
	Rows       []PercentileRow
	Mean       float64 // ms
	StdDev     float64 // ms
	Max        float64 // ms
	TotalCount int64
	Buckets    int64
	SubBuckets int64
}

// PercentileRow is one line of a .hgrm: the value at or below which
// Percentile of the recorded values fall.
type PercentileRow struct {
	Value      float64 // ms
	Percentile float64 // 0 … 1
	TotalCount int64   // values recorded at or below Value
}

// WriteHGRM writes h's percentile distribution in the classic .hgrm text
// format: a "Value Percentile TotalCount 1/(1-Percentile)" header, one row
// per percentile tick with the value in milliseconds (h holds
// microseconds), and the "#[Mean …]", "#[Max …]", "#[Buckets …]" footer.
// As in the Java reference, the final 100% row has no 1/(1-Percentile)
// column, and values carry as many decimals as h has significant digits.
func WriteHGRM(w io.Writer, h *hdrhistogram.Histogram) error {
	bw := bufio.NewWriter(w)
	digits := int(h.SignificantFigures())
	fmt.Fprintf(bw, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)")
	if h.TotalCount() > 0 {
		for _, b := range h.CumulativeDistributionWithTicks(hgrmTicks) {
			v, p := float64(b.ValueAt)/hgrmValueScale, b.Quantile/100
			if b.Quantile < 100 {
				fmt.Fprintf(bw, "%12.*f %2.12f %10d %14.2f\n", digits, v, p, b.Count, 1/(1-p))
			} else {
				fmt.Fprintf(bw, "%12.*f %2.12f %10d\n", digits, v, p, b.Count)
			}
		}
	}
	buckets, subBuckets := bucketGeometry(h)
	fmt.Fprintf(bw, "#[Mean    = %12.*f, StdDeviation   = %12.*f]\n",
		digits, h.Mean()/hgrmValueScale, digits, h.StdDev()/hgrmValueScale)
	fmt.Fprintf(bw, "#[Max     = %12.*f, Total count    = %12d]\n",
		digits, float64(h.Max())/hgrmValueScale, h.TotalCount())
	fmt.Fprintf(bw, "#[Buckets = %12d, SubBuckets     = %12d]\n", buckets, subBuckets)
	return bw.Flush()
}

// bucketGeometry returns h's bucket and sub-bucket counts, which
// hdrhistogram-go keeps private: the sub-bucket count is the power of two
// that gives unit resolution up to 2×10^digits, and the counts array holds
// (buckets+1) half sub-buckets.
func bucketGeometry(h *hdrhistogram.Histogram) (buckets, subBuckets int64) {
	magnitude := int(math.Ceil(math.Log2(2 * math.Pow10(int(h.SignificantFigures())))))
	subBuckets = int64(1) << max(magnitude, 1)
	counts := int64(len(h.Export().Counts))
	return counts/(subBuckets/2) - 1, subBuckets
}

// ReadHGRM parses a .hgrm file as WriteHGRM (or HdrHistogram's Java, C and
// Go implementations) writes it. Rows must be in order; the footer must be
// complete, so a truncated file is an error. Errors name the line.
func ReadHGRM(r io.Reader) (*Distribution, error) {
	p := hgrmParser{d: &Distribution{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		p.line++
		if err := p.parseLine(sc.Text()); err != nil {
			return nil, fmt.Errorf("hgrm: line %d: %w", p.line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("hgrm: line %d: %w", p.line+1, err)
	}
	if err := p.finish(); err != nil {
		return nil, fmt.Errorf("hgrm: line %d: %w", p.line, err)
	}
	return p.d, nil
}

// hgrmParser reads a .hgrm line by line: header, rows, then the three
// footer lines in order.
type hgrmParser struct {
	d      *Distribution
	line   int
	header bool
	footer int // footer lines read so far
}

var hgrmFooters = [...]string{
	"#[Mean = …, StdDeviation = …]",
	"#[Max = …, Total count = …]",
	"#[Buckets = …, SubBuckets = …]",
}

func (p *hgrmParser) parseLine(line string) error {
	text := strings.TrimSpace(line)
	switch {
	case !p.header:
		if strings.Join(strings.Fields(text), " ") != "Value Percentile TotalCount 1/(1-Percentile)" {
			return fmt.Errorf("got %q, want the header \"Value Percentile TotalCount 1/(1-Percentile)\"", clip(text))
		}
		p.header = true
		return nil
	case text == "":
		return nil
	case p.footer == len(hgrmFooters):
		return fmt.Errorf("got %q after the footer, want the end of the file", clip(text))
	case strings.HasPrefix(text, "#"):
		return p.parseFooter(text)
	case p.footer > 0:
		return fmt.Errorf("got a row %q inside the footer, want %s", clip(text), hgrmFooters[p.footer])
	}
	return p.parseRow(text)
}

func (p *hgrmParser) parseRow(text string) error {
	f := strings.Fields(text)
	if len(f) != 3 && len(f) != 4 {
		return fmt.Errorf("row %q has %d fields, want Value Percentile TotalCount [1/(1-Percentile)]", clip(text), len(f))
	}
	var row PercentileRow
	var err error
	if row.Value, err = parseNonNegative("value", f[0]); err != nil {
		return err
	}
	if row.Percentile, err = parseNonNegative("percentile", f[1]); err != nil {
		return err
	}
	if row.Percentile > 1 {
		return fmt.Errorf("percentile %s: want a fraction from 0 to 1", f[1])
	}
	if row.TotalCount, err = strconv.ParseInt(f[2], 10, 64); err != nil || row.TotalCount < 0 {
		return fmt.Errorf("total count %q: want a whole number ≥ 0", f[2])
	}
	if len(f) == 4 {
		if _, err := strconv.ParseFloat(f[3], 64); err != nil {
			return fmt.Errorf("1/(1-Percentile) %q: not a number", f[3])
		}
	}
	if n := len(p.d.Rows); n > 0 {
		prev := p.d.Rows[n-1]
		if row.Value < prev.Value || row.Percentile < prev.Percentile || row.TotalCount < prev.TotalCount {
			return fmt.Errorf("row %q goes below the previous row; rows must not decrease", clip(text))
		}
	}
	p.d.Rows = append(p.d.Rows, row)
	return nil
}

func (p *hgrmParser) parseFooter(text string) error {
	inner, ok := strings.CutPrefix(text, "#[")
	if ok {
		inner, ok = strings.CutSuffix(inner, "]")
	}
	if !ok {
		return fmt.Errorf("got %q, want %s", clip(text), hgrmFooters[p.footer])
	}
	fields, err := footerFields(inner)
	if err != nil {
		return fmt.Errorf("%q: %w", clip(text), err)
	}
	want := [][2]string{{"Mean", "StdDeviation"}, {"Max", "Total count"}, {"Buckets", "SubBuckets"}}[p.footer]
	if len(fields) != 2 || fields[0][0] != want[0] || fields[1][0] != want[1] {
		return fmt.Errorf("got %q, want %s", clip(text), hgrmFooters[p.footer])
	}
	a, b := fields[0][1], fields[1][1]
	d := p.d
	switch p.footer {
	case 0:
		if d.Mean, err = parseNonNegative("mean", a); err == nil {
			d.StdDev, err = parseNonNegative("standard deviation", b)
		}
	case 1:
		if d.Max, err = parseNonNegative("max", a); err == nil {
			d.TotalCount, err = parseCount("total count", b)
		}
	case 2:
		if d.Buckets, err = parseCount("buckets", a); err == nil {
			d.SubBuckets, err = parseCount("sub-buckets", b)
		}
	}
	p.footer++
	return err
}

// footerFields splits "Mean = 1.0, StdDeviation = 2.0" into name/value pairs.
func footerFields(s string) ([][2]string, error) {
	var out [][2]string
	for part := range strings.SplitSeq(s, ",") {
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("field %q has no '='", strings.TrimSpace(part))
		}
		out = append(out, [2]string{strings.TrimSpace(name), strings.TrimSpace(value)})
	}
	return out, nil
}

func (p *hgrmParser) finish() error {
	if !p.header {
		return fmt.Errorf("empty file, want the header \"Value Percentile TotalCount 1/(1-Percentile)\"")
	}
	if p.footer < len(hgrmFooters) {
		return fmt.Errorf("file ends before the footer line %s (truncated?)", hgrmFooters[p.footer])
	}
	if n := len(p.d.Rows); n > 0 && p.d.Rows[n-1].TotalCount != p.d.TotalCount {
		return fmt.Errorf("last row counts %d values, the footer's total count is %d", p.d.Rows[n-1].TotalCount, p.d.TotalCount)
	}
	return nil
}

func parseNonNegative(what, s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("%s %q: want a finite number ≥ 0", what, clip(s))
	}
	return v, nil
}

func parseCount(what, s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%s %q: want a whole number ≥ 0", what, clip(s))
	}
	return v, nil
}

// clip shortens hostile input before it is quoted in an error.
func clip(s string) string {
	const n = 80
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
