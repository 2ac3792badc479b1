package results

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/internal/golden"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestWriteHGRMGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHGRM(&buf, histOf(t, latencies()...)); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "latency.hgrm", buf.Bytes())
}

// The rows must be the library's percentile iteration, scaled to ms, and
// the footer must agree with the library's own PercentilesPrint.
func TestWriteHGRMMatchesLibrary(t *testing.T) {
	for _, g := range []struct {
		low, high int64
		digits    int
	}{{1, 3_600_000_000, 3}, {1, 1000, 1}, {1, 10_000_000, 2}, {1, math.MaxInt64 / 4, 5}} {
		t.Run(fmt.Sprintf("%d-%d-%d", g.low, g.high, g.digits), func(t *testing.T) {
			h := hdrhistogram.New(g.low, g.high, g.digits)
			for _, v := range []int64{1, 2, 3, 500, 999} {
				if err := h.RecordValue(v); err != nil {
					t.Fatal(err)
				}
			}
			var ours, lib bytes.Buffer
			if err := WriteHGRM(&ours, h); err != nil {
				t.Fatal(err)
			}
			if _, err := h.PercentilesPrint(&lib, 5, 1000); err != nil {
				t.Fatal(err)
			}
			libLines := strings.Split(strings.TrimSpace(lib.String()), "\n")
			ourLines := strings.Split(strings.TrimSpace(ours.String()), "\n")
			if a, b := fields(libLines[len(libLines)-1]), fields(ourLines[len(ourLines)-1]); a != b {
				t.Errorf("buckets footer: ours %q, library %q", b, a)
			}
			d, err := ReadHGRM(&ours)
			if err != nil {
				t.Fatal(err)
			}
			brackets := h.CumulativeDistributionWithTicks(5)
			if len(d.Rows) != len(brackets) {
				t.Fatalf("%d rows, library iterates %d", len(d.Rows), len(brackets))
			}
			for i, b := range brackets {
				r := d.Rows[i]
				if math.Abs(r.Value-float64(b.ValueAt)/1000) > 0.5*math.Pow10(-g.digits) ||
					math.Abs(r.Percentile-b.Quantile/100) > 1e-12 || r.TotalCount != b.Count {
					t.Errorf("row %d = %+v, library bracket %+v", i, r, b)
				}
			}
		})
	}
}

func fields(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestReadHGRMRoundTrip(t *testing.T) {
	h := histOf(t, latencies()...)
	var buf bytes.Buffer
	if err := WriteHGRM(&buf, h); err != nil {
		t.Fatal(err)
	}
	d, err := ReadHGRM(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if d.TotalCount != h.TotalCount() || d.Max != float64(h.Max())/1000 || d.SubBuckets != 2048 || d.Buckets != 22 {
		t.Errorf("footer = %+v, want total %d, max %v ms, 22 buckets of 2048", d, h.TotalCount(), float64(h.Max())/1000)
	}
	if math.Abs(d.Mean-h.Mean()/1000) > 0.0005 || math.Abs(d.StdDev-h.StdDev()/1000) > 0.0005 {
		t.Errorf("mean/stddev = %v/%v ms, want %v/%v", d.Mean, d.StdDev, h.Mean()/1000, h.StdDev()/1000)
	}
	last := d.Rows[len(d.Rows)-1]
	if last.Percentile != 1 || last.TotalCount != h.TotalCount() || last.Value != float64(h.Max())/1000 {
		t.Errorf("last row = %+v, want 100%% at max %v ms", last, float64(h.Max())/1000)
	}
	for _, r := range d.Rows {
		if r.Percentile == 0.5 && r.Value != float64(h.ValueAtQuantile(50))/1000 {
			t.Errorf("p50 row %v ms, histogram p50 %d µs", r.Value, h.ValueAtQuantile(50))
		}
	}
}

func TestWriteHGRMEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHGRM(&buf, NewHistogram()); err != nil {
		t.Fatal(err)
	}
	d, err := ReadHGRM(&buf)
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if len(d.Rows) != 0 || d.TotalCount != 0 {
		t.Errorf("empty histogram read back as %+v", d)
	}
}

// The Go library's PercentilesPrint uses tabs in its header and "inf" on
// its last row; those files must read too.
func TestReadHGRMFromLibraryPrint(t *testing.T) {
	h := histOf(t, latencies()...)
	var buf bytes.Buffer
	if _, err := h.PercentilesPrint(&buf, 5, 1000); err != nil {
		t.Fatal(err)
	}
	d, err := ReadHGRM(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if d.TotalCount != h.TotalCount() || d.Rows[len(d.Rows)-1].Percentile != 1 {
		t.Errorf("read %d values ending at %v, want %d ending at 1", d.TotalCount, d.Rows[len(d.Rows)-1].Percentile, h.TotalCount())
	}
}

func TestReadHGRMErrors(t *testing.T) {
	var good bytes.Buffer
	if err := WriteHGRM(&good, histOf(t, 100, 200, 300)); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(good.String(), "\n")
	n := len(lines) - 1 // the last element is empty after the final newline
	join := func(ls ...string) string { return strings.Join(ls, "") }
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", "line 0: empty file"},
		{"bad header", "Value Percentile\n", "line 1: got \"Value Percentile\", want the header"},
		{"truncated before footer", join(lines[:n-3]...), fmt.Sprintf("line %d: file ends before the footer line #[Mean", n-3)},
		{"truncated in footer", join(lines[:n-1]...), fmt.Sprintf("line %d: file ends before the footer line #[Buckets", n-1)},
		{"bad value", join(lines[0], lines[1], "   abc 0.0 1 1.00\n"), "line 3: value \"abc\": want a finite number"},
		{"negative count", join(lines[0], lines[1], "   0.100 0.0 -1 1.00\n"), "line 3: total count \"-1\""},
		{"percentile above 1", join(lines[0], lines[1], "   0.100 1.5 1 1.00\n"), "line 3: percentile 1.5"},
		{"too many fields", join(lines[0], lines[1], "1 0 1 1 1\n"), "line 3: row \"1 0 1 1 1\" has 5 fields"},
		{"decreasing", join(lines[0], lines[1], "0.2 0.5 2 2.00\n0.1 0.6 3 2.50\n"), "line 4: row \"0.1 0.6 3 2.50\" goes below the previous row"},
		{"footer out of order", join(lines[0], lines[1], lines[n-2]), fmt.Sprintf("line 3: got %q, want #[Mean", strings.TrimSpace(lines[n-2]))},
		{"footer without brackets", join(lines[0], lines[1], "#Mean = 1, StdDeviation = 2\n"), "line 3: got \"#Mean = 1, StdDeviation = 2\", want #[Mean"},
		{"row after footer starts", join(lines[0], lines[1], lines[n-3], "0.1 0.5 1 2.0\n"), "line 4: got a row \"0.1 0.5 1 2.0\" inside the footer"},
		{"text after footer", join(good.String(), "extra\n"), fmt.Sprintf("line %d: got \"extra\" after the footer", n+1)},
		{"count mismatch", strings.Replace(good.String(), "Total count    =            3", "Total count    =            4", 1), fmt.Sprintf("line %d: last row counts 3 values, the footer's total count is 4", n)},
		{"long line", join(lines[0], strings.Repeat("1", 2<<20), "\n"), "line 2: bufio.Scanner: token too long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadHGRM(strings.NewReader(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("ReadHGRM error = %v, want it to contain %q", err, c.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "hgrm: line ") {
				t.Errorf("error %q does not start with \"hgrm: line \"", err)
			}
		})
	}
}
