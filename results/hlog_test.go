package results

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 250_000_000, time.UTC)

// threeSeconds returns three tagged one-second intervals starting at t0.
func threeSeconds(t *testing.T) []*hdrhistogram.PackedHistogram {
	base := t0.UnixMilli()
	ivs := []*hdrhistogram.PackedHistogram{
		packedOf(t, base, base+1000, 100, 200, 300),
		packedOf(t, base+1000, base+2000), // an idle second stays in the log
		packedOf(t, base+2000, base+2500, 5_000_000, 7),
	}
	for _, h := range ivs {
		h.SetTag("rtt")
	}
	return ivs
}

func TestHlogRoundTrip(t *testing.T) {
	ivs := threeSeconds(t)
	var buf bytes.Buffer
	if err := WriteHlog(&buf, t0, ivs); err != nil {
		t.Fatal(err)
	}
	got, err := ReadHlog(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if len(got) != len(ivs) {
		t.Fatalf("read %d intervals, wrote %d", len(got), len(ivs))
	}
	for i := range ivs {
		if !samePacked(t, got[i], ivs[i]) {
			t.Errorf("interval %d: read %d values %d…%d ms tag %q, wrote %d values %d…%d ms tag %q", i,
				got[i].TotalCount(), got[i].StartTimeMs(), got[i].EndTimeMs(), got[i].Tag(),
				ivs[i].TotalCount(), ivs[i].StartTimeMs(), ivs[i].EndTimeMs(), ivs[i].Tag())
		}
	}
}

func TestWriteHlogFormat(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHlog(&buf, t0, threeSeconds(t)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	want := []string{
		"#[Histogram log format version 1.3]",
		"#[StartTime: 1772366400.250 (seconds since epoch), 2026-03-01T12:00:00.250Z]",
		"#[BaseTime: 1772366400.250 (seconds since epoch)]",
		`"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"`,
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], w)
		}
	}
	// Start relative to BaseTime and length in seconds, max in ms.
	for i, prefix := range []string{"Tag=rtt,0.000,1.000,0.300,HISTF", "Tag=rtt,1.000,1.000,0.000,HISTF", "Tag=rtt,2.000,0.500,5001.215,HISTF"} {
		if !strings.HasPrefix(lines[4+i], prefix) {
			t.Errorf("interval line %d = %.60q…, want prefix %q", i+1, lines[4+i], prefix)
		}
	}
}

// The library's own reader must read what we write, and we must read what
// its writer writes: both directions of compatibility.
func TestHlogLibraryCompatibility(t *testing.T) {
	t.Run("library reads ours", func(t *testing.T) {
		ivs := threeSeconds(t)
		var buf bytes.Buffer
		if err := WriteHlog(&buf, t0, ivs); err != nil {
			t.Fatal(err)
		}
		lr := hdrhistogram.NewHistogramLogReader(&buf)
		for i, want := range ivs {
			h, err := lr.NextIntervalHistogram()
			if err != nil || h == nil {
				t.Fatalf("interval %d: %v, %v", i, h, err)
			}
			if h.TotalCount() != want.TotalCount() || h.Max() != want.Max() || h.Tag() != "rtt" ||
				abs(h.StartTimeMs()-want.StartTimeMs()) > 1 {
				t.Errorf("interval %d: library read %d values, max %d, tag %q, start %d; wrote %d, %d, rtt, %d",
					i, h.TotalCount(), h.Max(), h.Tag(), h.StartTimeMs(), want.TotalCount(), want.Max(), want.StartTimeMs())
			}
		}
	})
	t.Run("we read the library's", func(t *testing.T) {
		var buf bytes.Buffer
		lw := hdrhistogram.NewHistogramLogWriter(&buf)
		base := t0.UnixMilli() - t0.UnixMilli()%1000 // its BaseTime line has whole seconds
		lw.SetBaseTime(base)
		for _, err := range []error{lw.OutputLogFormatVersion(), lw.OutputStartTime(base), lw.OutputBaseTime(base), lw.OutputLegend()} {
			if err != nil {
				t.Fatal(err)
			}
		}
		h := histOf(t, 10, 20, 30_000)
		h.SetTag("handshake")
		h.SetStartTimeMs(base + 2000)
		h.SetEndTimeMs(base + 3000)
		if err := lw.OutputIntervalHistogram(h); err != nil {
			t.Fatal(err)
		}
		got, err := ReadHlog(&buf)
		if err != nil {
			t.Fatalf("%v\n%s", err, buf.String())
		}
		if len(got) != 1 || got[0].TotalCount() != 3 || got[0].Max() != h.Max() || got[0].Tag() != "handshake" ||
			got[0].StartTimeMs() != base+2000 || got[0].EndTimeMs() != base+3000 {
			t.Errorf("read %+v from the library's log:\n%s", got, buf.String())
		}
	})
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// Without a BaseTime line, timestamps are absolute unless they lie more
// than a year before StartTime (then they are relative to it), as in Java.
func TestReadHlogTimeBase(t *testing.T) {
	payload, err := histOf(t, 5).Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, head, stamp string
		wantMs            int64
	}{
		{"relative to StartTime", "#[StartTime: 1772366400.250 (seconds since epoch), x]\n", "1.500", 1772366401750},
		{"absolute", "#[StartTime: 1772366400.250 (seconds since epoch), x]\n", "1772366401.000", 1772366401000},
		{"no header", "", "3.000", 3000},
		{"BaseTime wins", "#[StartTime: 1772366400.250]\n#[BaseTime: 100.000 (seconds since epoch)]\n", "1.000", 101000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			log := fmt.Sprintf("%s%s,1.000,0.005,%s\n", c.head, c.stamp, payload)
			got, err := ReadHlog(strings.NewReader(log))
			if err != nil {
				t.Fatal(err)
			}
			if got[0].StartTimeMs() != c.wantMs || got[0].EndTimeMs() != c.wantMs+1000 {
				t.Errorf("interval at %d…%d ms, want %d…%d", got[0].StartTimeMs(), got[0].EndTimeMs(), c.wantMs, c.wantMs+1000)
			}
		})
	}
}

func TestWriteHlogErrors(t *testing.T) {
	base := t0.UnixMilli()
	cases := []struct {
		name string
		iv   *hdrhistogram.PackedHistogram
		tag  string
		want string
	}{
		{"before start", packedOf(t, base-1, base+1000), "", "hlog: interval 1: starts at 1772366400249 ms, before the log's start time 1772366400250 ms"},
		{"ends before it starts", packedOf(t, base+1000, base+999), "", "ends at 1772366401249 ms, before it starts"},
		{"tag with comma", packedOf(t, base, base+1000), "a,b", `tag "a,b" contains a comma or white space`},
		{"tag with space", packedOf(t, base, base+1000), "a b", `tag "a b" contains a comma or white space`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.iv.SetTag(c.tag)
			err := WriteHlog(&bytes.Buffer{}, t0, []*hdrhistogram.PackedHistogram{c.iv})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("WriteHlog error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestReadHlogErrors(t *testing.T) {
	var good bytes.Buffer
	if err := WriteHlog(&good, t0, threeSeconds(t)); err != nil {
		t.Fatal(err)
	}
	text := good.String()
	lines := strings.SplitAfter(text, "\n")
	last := strings.TrimSuffix(lines[6], "\n")
	payload := last[strings.LastIndex(last, ",")+1:]
	cases := []struct {
		name, in, want string
	}{
		{"truncated payload", strings.Join(lines[:6], "") + last[:len(last)-12], "hlog: line 7: interval histogram:"},
		{"payload not base64", strings.Join(lines[:4], "") + "Tag=rtt,0.000,1.000,0.300,!!!!\n", "hlog: line 5: interval histogram: illegal base64"},
		{"missing fields", strings.Join(lines[:4], "") + "0.000,1.000\n", `hlog: line 5: "0.000,1.000": want StartTimestamp,Interval_Length,Interval_Max,Interval_Compressed_Histogram`},
		{"negative start", strings.Join(lines[:4], "") + "-1.000,1.000,0,HISTF\n", `hlog: line 5: start timestamp: "-1.000": want seconds from 0`},
		{"bad length", strings.Join(lines[:4], "") + "0.000,NaN,0,HISTF\n", `hlog: line 5: interval length: "NaN"`},
		{"bad max", strings.Join(lines[:4], "") + "0.000,1.000,x,HISTF\n", `hlog: line 5: interval max "x"`},
		{"tag without interval", "Tag=rtt\n", `hlog: line 1: "Tag=rtt": a tag without the interval after it`},
		{"bad StartTime", "#[StartTime: soon]\n", `hlog: line 1: #[StartTime: …]: "soon"`},
		{"line too long", "#" + strings.Repeat("x", hlogMaxLine+1), "hlog: line 1: line longer than"},
		{"far future", "60000000000.000,60000000000.000,0," + payload + "\n", "hlog: line 1: interval ends beyond the year 5000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadHlog(strings.NewReader(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("ReadHlog error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestReadHlogEmpty(t *testing.T) {
	for _, in := range []string{"", "#[Histogram log format version 1.3]\n" + hlogLegend + "\n"} {
		got, err := ReadHlog(strings.NewReader(in))
		if err != nil || len(got) != 0 {
			t.Errorf("ReadHlog(%q) = %d intervals, %v; want none, no error", in, len(got), err)
		}
	}
}

// Dense histograms write the same lines as packed ones with the same data.
func TestWriteHlogDense(t *testing.T) {
	packed := threeSeconds(t)
	dense := make([]*hdrhistogram.Histogram, len(packed))
	for i, p := range packed {
		dense[i] = NewHistogram()
		if dropped := p.MergeInto(dense[i]); dropped != 0 {
			t.Fatal(dropped)
		}
		dense[i].SetTag(p.Tag())
		dense[i].SetStartTimeMs(p.StartTimeMs())
		dense[i].SetEndTimeMs(p.EndTimeMs())
	}
	var a, b bytes.Buffer
	if err := WriteHlog(&a, t0, packed); err != nil {
		t.Fatal(err)
	}
	if err := WriteHlog(&b, t0, dense); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Errorf("dense log differs from packed:\n%s\n%s", b.String(), a.String())
	}
}
