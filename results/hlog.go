package results

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Interval log layout (HdrHistogram log format 1.3, as Java's
// HistogramLogWriter writes it). Interval_Max is in milliseconds: the
// histograms hold microseconds.
const (
	hlogVersionLine = "#[Histogram log format version 1.3]"
	hlogLegend      = `"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"`
	hlogMaxRatio    = 1000.0 // µs → ms for Interval_Max
	hlogMaxLine     = 4 << 20
	// hlogMaxSec bounds timestamps (about year 5138) so milliseconds fit
	// comfortably in an int64 and a float64 holds them exactly.
	hlogMaxSec = 1e11
)

// IntervalHistogram is what one interval log line holds. Both
// *hdrhistogram.Histogram and *hdrhistogram.PackedHistogram satisfy it.
type IntervalHistogram interface {
	Tag() string
	StartTimeMs() int64 // Unix milliseconds
	EndTimeMs() int64
	Max() int64
	EncodeV2() ([]byte, error)
}

// hlogEntry is one interval line to write.
type hlogEntry struct {
	h              IntervalHistogram
	tag            string
	startMs, endMs int64
}

// WriteHlog writes intervals as an HdrHistogram interval log, format 1.3:
// a version comment, "#[StartTime: …]" and "#[BaseTime: …]" (both start,
// to the millisecond), the legend, then one line per interval: its tag as
// "Tag=…," if it has one, its start relative to start and its length in
// seconds, its max in milliseconds, and the histogram in compressed V2
// base64. Each interval's StartTimeMs and EndTimeMs (Unix milliseconds)
// place it; an interval that starts before start, ends before it starts,
// or has a tag with a comma or white space is an error.
func WriteHlog[H IntervalHistogram](w io.Writer, start time.Time, intervals []H) error {
	entries := make([]hlogEntry, len(intervals))
	for i, h := range intervals {
		entries[i] = hlogEntry{h: h, tag: h.Tag(), startMs: h.StartTimeMs(), endMs: h.EndTimeMs()}
	}
	return writeHlog(w, start.UnixMilli(), entries)
}

func writeHlog(w io.Writer, baseMs int64, entries []hlogEntry) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, hlogVersionLine)
	fmt.Fprintf(bw, "#[StartTime: %s (seconds since epoch), %s]\n",
		fmtMillis(baseMs), time.UnixMilli(baseMs).UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	fmt.Fprintf(bw, "#[BaseTime: %s (seconds since epoch)]\n", fmtMillis(baseMs))
	fmt.Fprintln(bw, hlogLegend)
	for i, e := range entries {
		if err := checkHlogEntry(e, baseMs); err != nil {
			return fmt.Errorf("hlog: interval %d: %w", i+1, err)
		}
		payload, err := e.h.EncodeV2()
		if err != nil {
			return fmt.Errorf("hlog: interval %d: encode: %w", i+1, err)
		}
		if e.tag != "" {
			fmt.Fprintf(bw, "Tag=%s,", e.tag)
		}
		fmt.Fprintf(bw, "%s,%s,%.3f,%s\n", fmtMillis(e.startMs-baseMs), fmtMillis(e.endMs-e.startMs),
			float64(e.h.Max())/hlogMaxRatio, payload)
	}
	return bw.Flush()
}

func checkHlogEntry(e hlogEntry, baseMs int64) error {
	switch {
	case e.startMs < baseMs:
		return fmt.Errorf("starts at %d ms, before the log's start time %d ms", e.startMs, baseMs)
	case e.endMs < e.startMs:
		return fmt.Errorf("ends at %d ms, before it starts at %d ms", e.endMs, e.startMs)
	case e.endMs > hlogMaxSec*1000:
		return fmt.Errorf("ends at %d ms, beyond the year 5000", e.endMs)
	}
	return checkTag(e.tag)
}

// checkTag rejects tags that would break the line format.
func checkTag(tag string) error {
	if strings.ContainsAny(tag, ", \t\r\n") {
		return fmt.Errorf("tag %q contains a comma or white space", tag)
	}
	return nil
}

// fmtMillis renders non-negative milliseconds as seconds with exactly three
// decimals, without going through a float.
func fmtMillis(ms int64) string {
	return fmt.Sprintf("%d.%03d", ms/1000, ms%1000)
}

// ReadHlog reads an HdrHistogram interval log (format 1.3, as WriteHlog
// or HdrHistogram's Java and Go log writers write it) and returns its
// intervals in order, as sparse histograms (what Run.Intervals holds), each
// with its tag and StartTimeMs/EndTimeMs in Unix milliseconds. Timestamps are relative to "#[BaseTime: …]" when the log has
// one; without it, as in the Java reader, they are absolute unless they lie
// more than a year before "#[StartTime: …]". Errors name the line.
func ReadHlog(r io.Reader) ([]*hdrhistogram.PackedHistogram, error) {
	p := hlogParser{}
	br := bufio.NewReader(r)
	for {
		line, err := readLine(br, hlogMaxLine)
		if len(line) > 0 || err == nil {
			p.line++
			if perr := p.parseLine(line); perr != nil {
				return nil, fmt.Errorf("hlog: line %d: %w", p.line, perr)
			}
		}
		if err == io.EOF {
			return p.out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("hlog: line %d: %w", p.line+1, err)
		}
	}
}

// readLine returns the next line without its line ending, refusing lines
// longer than limit. It returns io.EOF with the last, unterminated line.
func readLine(br *bufio.Reader, limit int) (string, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > limit {
			return "", fmt.Errorf("line longer than %d bytes", limit)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		buf = bytes.TrimSuffix(bytes.TrimSuffix(buf, []byte("\n")), []byte("\r"))
		return string(buf), err
	}
}

type hlogParser struct {
	line                int
	startMs, baseMs     int64
	haveStart, haveBase bool
	out                 []*hdrhistogram.PackedHistogram
}

func (p *hlogParser) parseLine(line string) error {
	switch {
	case strings.TrimSpace(line) == "", line == hlogLegend:
		return nil
	case strings.HasPrefix(line, "#[StartTime: "):
		ms, err := parseHeaderTime(line, "#[StartTime: ")
		p.startMs, p.haveStart = ms, true
		return err
	case strings.HasPrefix(line, "#[BaseTime: "):
		ms, err := parseHeaderTime(line, "#[BaseTime: ")
		p.baseMs, p.haveBase = ms, true
		return err
	case strings.HasPrefix(line, "#"):
		return nil // other comments, including the format version
	}
	return p.parseInterval(line)
}

// parseHeaderTime reads the seconds after prefix, up to the first space or ']'.
func parseHeaderTime(line, prefix string) (int64, error) {
	rest := line[len(prefix):]
	if i := strings.IndexAny(rest, " ]"); i >= 0 {
		rest = rest[:i]
	}
	ms, err := parseSeconds(rest)
	if err != nil {
		return 0, fmt.Errorf("%s…]: %w", prefix, err)
	}
	return ms, nil
}

func (p *hlogParser) parseInterval(line string) error {
	tag := ""
	if rest, ok := strings.CutPrefix(line, "Tag="); ok {
		var found bool
		if tag, rest, found = strings.Cut(rest, ","); !found {
			return fmt.Errorf("%q: a tag without the interval after it", clip(line))
		}
		if err := checkTag(tag); err != nil {
			return err
		}
		line = rest
	}
	f := strings.SplitN(line, ",", 4)
	if len(f) != 4 {
		return fmt.Errorf("%q: want StartTimestamp,Interval_Length,Interval_Max,Interval_Compressed_Histogram", clip(line))
	}
	startMs, err := parseSeconds(f[0])
	if err != nil {
		return fmt.Errorf("start timestamp: %w", err)
	}
	lengthMs, err := parseSeconds(f[1])
	if err != nil {
		return fmt.Errorf("interval length: %w", err)
	}
	if _, err := parseNonNegative("interval max", f[2]); err != nil {
		return err
	}
	h, err := hdrhistogram.DecodePacked([]byte(f[3]))
	if err != nil {
		return fmt.Errorf("interval histogram: %w", err)
	}
	startMs += p.base(startMs)
	if startMs+lengthMs > hlogMaxSec*1000 {
		return fmt.Errorf("interval ends beyond the year 5000")
	}
	h.SetTag(tag)
	h.SetStartTimeMs(startMs)
	h.SetEndTimeMs(startMs + lengthMs)
	p.out = append(p.out, h)
	return nil
}

// base decides, at the first interval, what its timestamps are relative to:
// the BaseTime if given; else StartTime when the first timestamp is more
// than a year before it (the Java reader's rule); else nothing.
func (p *hlogParser) base(firstMs int64) int64 {
	if !p.haveBase {
		p.haveBase = true
		const yearMs = 365 * 24 * 3600 * 1000
		if p.haveStart && firstMs < p.startMs-yearMs {
			p.baseMs = p.startMs
		}
	}
	return p.baseMs
}

// parseSeconds reads a non-negative decimal number of seconds and returns it
// in whole milliseconds.
func parseSeconds(s string) (int64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > hlogMaxSec {
		return 0, fmt.Errorf("%q: want seconds from 0 to %.0f", clip(s), hlogMaxSec)
	}
	return int64(math.Round(v * 1000)), nil
}
