package loadgen

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wsbench/wsbench/units"
)

// Sizes is the distribution the size of each message is drawn from. It is
// written (and parsed, by ParseSizes) one of three ways:
//
//	64              every message 64 bytes
//	16..4096        uniform over 16 to 4096 bytes, both included
//	64:9,16KiB:1    64 bytes 9 times in 10, 16 KiB once in 10 (size:weight,
//	                a missing weight is 1)
//
// Sizes take units (B, KiB, MiB, …) as --size always did. The zero value
// means DefaultSize.
type Sizes struct {
	lo, hi int          // uniform over [lo, hi]; one size when lo == hi; unused for a list
	list   []sizeWeight // a weighted list, nil otherwise
	total  uint64       // the list's weights summed
}

type sizeWeight struct {
	size   int
	weight uint64
	upTo   uint64 // the weights up to and including this one
}

// Limits of the weighted form, so that a typo cannot ask for a million
// entries or weights that overflow.
const (
	maxSizeChoices = 64
	maxSizeWeight  = 1_000_000
)

// FixedSize is one size for every message.
func FixedSize(n int) Sizes { return Sizes{lo: n, hi: n} }

var errZeroSize = errors.New("a size of 0")

// sizesSyntax ends every parse error: the three forms.
const sizesSyntax = "want a size (64, 1KiB), a range 16..4096 or sizes with weights 64:9,16KiB:1"

// ParseSizes reads a size distribution; the error says what was wrong with
// the text, not which option it was for (the flag or key adds that).
func ParseSizes(s string) (Sizes, error) {
	t := strings.TrimSpace(s)
	fail := func(format string, args ...any) (Sizes, error) {
		return Sizes{}, fmt.Errorf("size %q: %s; %s", s, fmt.Sprintf(format, args...), sizesSyntax)
	}
	one := func(v string) (int, error) {
		n, err := units.ParseSize(strings.TrimSpace(v))
		switch {
		case err != nil:
			return 0, err // it quotes v and says what is wrong with it
		case n == 0:
			return 0, errZeroSize
		}
		return int(n), nil
	}
	if lo, hi, ok := strings.Cut(t, ".."); ok {
		a, err := one(lo)
		if err != nil {
			return fail("%v", err)
		}
		b, err := one(hi)
		if err != nil {
			return fail("%v", err)
		}
		if a > b {
			return fail("the range's low end %s is above its high end %s", units.Size(a), units.Size(b))
		}
		return Sizes{lo: a, hi: b}, nil
	}
	if !strings.ContainsAny(t, ",:") {
		n, err := one(t)
		switch {
		case errors.Is(err, errZeroSize):
			return fail("%v", err)
		case err != nil: // units quoted all of s already
			return Sizes{}, fmt.Errorf("%w; %s", err, sizesSyntax)
		}
		return FixedSize(n), nil
	}
	items := strings.Split(t, ",")
	if len(items) > maxSizeChoices {
		return fail("%d sizes, at most %d", len(items), maxSizeChoices)
	}
	var out Sizes
	seen := map[int]bool{}
	for _, item := range items {
		size, weight, hasWeight := strings.Cut(item, ":")
		n, err := one(size)
		if err != nil {
			return fail("%v", err)
		}
		w := uint64(1)
		if hasWeight {
			v, err := strconv.ParseUint(strings.TrimSpace(weight), 10, 64)
			if err != nil || v < 1 || v > maxSizeWeight {
				return fail("weight %q of %s: want a whole number from 1 to %d", strings.TrimSpace(weight), units.Size(n), maxSizeWeight)
			}
			w = v
		}
		if seen[n] {
			return fail("%s listed twice", units.Size(n))
		}
		seen[n] = true
		out.total += w
		out.list = append(out.list, sizeWeight{size: n, weight: w, upTo: out.total})
	}
	if len(out.list) == 1 { // one size, whatever its weight
		return FixedSize(out.list[0].size), nil
	}
	return out, nil
}

// String writes s as ParseSizes reads it, in bytes: "64", "16..4096",
// "64:9,16384:1". The zero value writes as "".
func (s Sizes) String() string {
	switch {
	case s.list != nil:
		parts := make([]string, len(s.list))
		for i, c := range s.list {
			parts[i] = strconv.Itoa(c.size) + ":" + strconv.FormatUint(c.weight, 10)
		}
		return strings.Join(parts, ",")
	case s.lo == 0:
		return ""
	case s.lo == s.hi:
		return strconv.Itoa(s.lo)
	}
	return strconv.Itoa(s.lo) + ".." + strconv.Itoa(s.hi)
}

// IsZero reports whether s is the zero value (the default size).
func (s Sizes) IsZero() bool { return s.lo == 0 && s.list == nil }

// Fixed returns the one size of a distribution that has one.
func (s Sizes) Fixed() (int, bool) { return s.lo, s.list == nil && s.lo == s.hi }

// Min and Max are the smallest and the largest size s draws.
func (s Sizes) Min() int {
	if s.list == nil {
		return s.lo
	}
	m := s.list[0].size
	for _, c := range s.list {
		m = min(m, c.size)
	}
	return m
}

func (s Sizes) Max() int {
	if s.list == nil {
		return s.hi
	}
	m := 0
	for _, c := range s.list {
		m = max(m, c.size)
	}
	return m
}

// Mean is the expected size.
func (s Sizes) Mean() float64 {
	if s.list == nil {
		return float64(s.lo+s.hi) / 2
	}
	sum := 0.0
	for _, c := range s.list {
		sum += float64(c.size) * float64(c.weight)
	}
	return sum / float64(s.total)
}

// pick draws a size from r, a uniformly random 64-bit number. Modulo bias
// is below 2^-40 for every distribution Validate lets run (at most 16 MiB
// wide, weights summing to less than 2^26).
func (s *Sizes) pick(r uint64) int {
	if s.list == nil {
		return s.lo + int(r%uint64(s.hi-s.lo+1))
	}
	w := r % s.total
	for _, c := range s.list { // a few entries: a scan beats a search
		if w < c.upTo {
			return c.size
		}
	}
	return s.list[len(s.list)-1].size // unreachable: w < total == the last upTo
}

// Set implements pflag.Value.
func (s *Sizes) Set(v string) error {
	p, err := ParseSizes(v)
	if err != nil {
		return err
	}
	*s = p
	return nil
}

// Type implements pflag.Value.
func (*Sizes) Type() string { return "sizes" }

// UnmarshalYAML reads a scenario's size: a scalar in any of the forms
// ParseSizes reads.
func (s *Sizes) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a size such as 64, 16..4096 or 64:9,16KiB:1, not a list or mapping", n.Line)
	}
	if err := s.Set(n.Value); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// MarshalYAML writes s as ParseSizes reads it.
func (s Sizes) MarshalYAML() (any, error) { return s.String(), nil }
