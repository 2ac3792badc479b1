// Package units parses the quantities wsbench's flags and scenario files take:
// sizes ("64KiB"), rates ("5k", "10k/s"), counts ("15k") and durations
// ("10s"). Each type is a pflag.Value and a YAML scalar, so a command line and
// a scenario file accept exactly the same spellings.
package units

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wsbench/wsbench/internal/yamlnode"
)

// Size is a byte count. It accepts a plain number of bytes or a number with
// a unit: B, KB/MB/GB/TB (powers of 1000) or KiB/MiB/GiB/TiB/PiB/EiB
// (powers of 1024).
type Size int64

// MaxSize is the largest Size: 4 EiB, so that sums of a few sizes cannot
// overflow an int64. What a command accepts is far less; it says so itself.
const MaxSize Size = 1 << 62

var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40}, {"pib", 1 << 50}, {"eib", 1 << 60},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30},
	{"b", 1},
}

// ParseSize parses s as a Size.
func ParseSize(s string) (Size, error) {
	v, err := parseScaled(s, sizeUnits, "")
	switch {
	case errors.Is(err, errTooLarge) || err == nil && v > float64(MaxSize):
		return 0, fmt.Errorf("size %q: too large, want at most %s", s, MaxSize)
	case err != nil:
		return 0, fmt.Errorf("size %q: %w (want e.g. 64, 512B, 16KiB, 1MiB)", s, err)
	case v < 0:
		return 0, fmt.Errorf("size %q: must not be negative", s)
	}
	return Size(math.Round(v)), nil
}

// String renders the size with the largest binary unit that divides it.
func (s Size) String() string {
	switch {
	case s != 0 && s%(1<<60) == 0:
		return strconv.FormatInt(int64(s)>>60, 10) + "EiB"
	case s != 0 && s%(1<<50) == 0:
		return strconv.FormatInt(int64(s)>>50, 10) + "PiB"
	case s != 0 && s%(1<<40) == 0:
		return strconv.FormatInt(int64(s)>>40, 10) + "TiB"
	case s != 0 && s%(1<<30) == 0:
		return strconv.FormatInt(int64(s)>>30, 10) + "GiB"
	case s != 0 && s%(1<<20) == 0:
		return strconv.FormatInt(int64(s)>>20, 10) + "MiB"
	case s != 0 && s%(1<<10) == 0:
		return strconv.FormatInt(int64(s)>>10, 10) + "KiB"
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}

// Set implements pflag.Value.
func (s *Size) Set(v string) error { return set(s, ParseSize, v) }

// Type implements pflag.Value.
func (*Size) Type() string { return "size" }

// UnmarshalYAML accepts a YAML scalar such as 64KiB or 4096.
func (s *Size) UnmarshalYAML(n *yaml.Node) error { return unmarshal(n, s, ParseSize) }

// MarshalYAML renders the size as a string.
func (s Size) MarshalYAML() (any, error) { return s.String(), nil }

// Rate is a number of events per second. It accepts a plain number or one
// with a k (thousand) or M (million) multiplier and an optional "/s".
type Rate float64

var rateUnits = []struct {
	suffix string
	mult   float64
}{{"k", 1e3}, {"m", 1e6}}

// ParseRate parses s as a Rate.
func ParseRate(s string) (Rate, error) {
	v, err := parseScaled(s, rateUnits, "/s")
	switch {
	case errors.Is(err, errTooLarge):
		return 0, fmt.Errorf("rate %q: too large", s)
	case err != nil:
		return 0, fmt.Errorf("rate %q: %w (want e.g. 500, 10k, 2.5k/s)", s, err)
	case v < 0:
		return 0, fmt.Errorf("rate %q: must not be negative", s)
	}
	return Rate(v), nil
}

// String renders the rate compactly: 10000 → "10k".
func (r Rate) String() string { return scaledString(float64(r)) }

// Set implements pflag.Value.
func (r *Rate) Set(v string) error { return set(r, ParseRate, v) }

// Type implements pflag.Value.
func (*Rate) Type() string { return "rate" }

// UnmarshalYAML accepts a YAML scalar such as 10k or 500/s.
func (r *Rate) UnmarshalYAML(n *yaml.Node) error { return unmarshal(n, r, ParseRate) }

// MarshalYAML renders the rate as a string.
func (r Rate) MarshalYAML() (any, error) { return r.String(), nil }

// Count is a whole number that accepts a k or M multiplier ("15k").
type Count int

// ParseCount parses s as a Count.
func ParseCount(s string) (Count, error) {
	v, err := parseScaled(s, rateUnits, "")
	switch {
	case errors.Is(err, errTooLarge) || err == nil && v > math.MaxInt32:
		return 0, fmt.Errorf("count %q: too large, want at most %d", s, math.MaxInt32)
	case err != nil:
		return 0, fmt.Errorf("count %q: %w (want e.g. 50, 2000, 15k)", s, err)
	case v < 0:
		return 0, fmt.Errorf("count %q: must not be negative", s)
	case v != math.Trunc(v):
		return 0, fmt.Errorf("count %q: want a whole number", s)
	}
	return Count(v), nil
}

// String renders the count compactly: 15000 → "15k".
func (c Count) String() string { return scaledString(float64(c)) }

// Set implements pflag.Value.
func (c *Count) Set(v string) error { return set(c, ParseCount, v) }

// Type implements pflag.Value.
func (*Count) Type() string { return "count" }

// UnmarshalYAML accepts a YAML scalar such as 15k or 50.
func (c *Count) UnmarshalYAML(n *yaml.Node) error { return unmarshal(n, c, ParseCount) }

// MarshalYAML renders the count as a string.
func (c Count) MarshalYAML() (any, error) { return c.String(), nil }

// Duration is a time.Duration that also reads plain seconds ("30" = 30s).
type Duration time.Duration

// ParseDuration parses s as Go duration syntax, or a bare number of seconds.
func ParseDuration(s string) (Duration, error) {
	t := strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(t, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		switch {
		case math.IsNaN(f):
			return 0, fmt.Errorf("duration %q: want a number of seconds, or e.g. 500ms, 10s", s)
		case f < 0:
			return 0, fmt.Errorf("duration %q: must not be negative", s)
		case f >= math.MaxInt64/float64(time.Second):
			return 0, fmt.Errorf("duration %q: too large, want at most %s", s, time.Duration(math.MaxInt64).Truncate(time.Hour))
		}
		return Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want e.g. 500ms, 10s, 2m30s", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q: must not be negative", s)
	}
	return Duration(d), nil
}

// String renders the duration the way time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// Set implements pflag.Value.
func (d *Duration) Set(v string) error { return set(d, ParseDuration, v) }

// Type implements pflag.Value.
func (*Duration) Type() string { return "duration" }

// UnmarshalYAML accepts a YAML scalar such as 10s or 1m.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error { return unmarshal(n, d, ParseDuration) }

// MarshalYAML renders the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func set[T any](dst *T, parse func(string) (T, error), s string) error {
	v, err := parse(s)
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

func unmarshal[T any](n *yaml.Node, dst *T, parse func(string) (T, error)) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a scalar value, got %s", n.Line, yamlnode.KindName(n.Kind))
	}
	v, err := parse(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*dst = v
	return nil
}

// parseScaled reads a decimal number followed by an optional unit from
// units (matched case-insensitively, longest first as listed) and an
// optional trailing literal such as "/s".
func parseScaled(s string, units []struct {
	suffix string
	mult   float64
}, trailer string) (float64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if trailer != "" {
		t = strings.TrimSuffix(t, trailer)
	}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	t = strings.ReplaceAll(t, "_", "")
	if t == "" {
		return 0, fmt.Errorf("missing number")
	}
	f, err := strconv.ParseFloat(t, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) && !math.IsInf(f, 1):
		return f, nil // -1e400 (the caller says negative) or 1e-400 (0)
	case errors.Is(err, strconv.ErrRange) || err == nil && math.IsInf(f*mult, 1) && !math.IsInf(f, 1):
		return 0, errTooLarge // 1e400, or 1e300TiB
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
		if n := numberPrefix(t); n > 0 && n < len(t) {
			return 0, fmt.Errorf("unknown unit %q", strings.TrimSpace(t[n:]))
		}
		return 0, fmt.Errorf("not a number")
	}
	return f * mult, nil
}

// errTooLarge is a number beyond what a float64 holds; each type words it.
var errTooLarge = errors.New("too large")

// numberPrefix is the length of the longest prefix of t that parses as a
// number, so "12parsecs" can be told from "abc".
func numberPrefix(t string) int {
	for n := len(t) - 1; n > 0; n-- {
		if f, err := strconv.ParseFloat(t[:n], 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return n
		}
	}
	return 0
}

func scaledString(v float64) string {
	switch {
	case v >= 1e6 && math.Mod(v, 1e5) == 0:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e3 && math.Mod(v, 100) == 0:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
