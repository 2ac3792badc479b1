package units

import (
	"math"
	"strconv"
	"strings"
)

// The functions below print measured values for people: about three
// significant digits and the largest unit that keeps the number readable.
// Every printed value uses the spellings this package parses (no space
// before the unit, binary sizes, k and M), so a figure read off a report
// can be pasted back into a flag or an expectation: "2.50ms", "64.0KiB",
// "9.60k". They are rounded; the String methods above are exact.

// Sig3 renders v with three significant digits below 100, trailing zeros
// kept so a column of figures states one precision, and as a whole number
// from 100 up (never in exponent form): 0.25, 1.50, 31.2, 614.
func Sig3(v float64) string {
	if v == 0 {
		return "0"
	}
	// Fewer decimals as the rounded value, not v, reaches 10 and 100:
	// 9.996 is "10.0", 9.994 "9.99".
	s := strconv.FormatFloat(v, 'f', 2, 64)
	for _, d := range []int{1, 0} {
		if r, _ := strconv.ParseFloat(s, 64); math.Abs(r) < math.Pow10(2-d) {
			break
		}
		s = strconv.FormatFloat(v, 'f', d, 64)
	}
	if strings.Trim(s, "-0.") == "" {
		return "0"
	}
	return s
}

// Micros renders a duration given in microseconds: "46µs", "2.50ms", "1.20s".
func Micros(us float64) string {
	switch a := math.Abs(us); {
	case a == 0:
		return "0s"
	case a >= 1e6:
		return Sig3(us/1e6) + "s"
	case a >= 1e3:
		return Sig3(us/1e3) + "ms"
	case us == math.Trunc(us):
		return strconv.FormatFloat(us, 'f', 0, 64) + "µs" // histograms count whole µs
	}
	return Sig3(us) + "µs"
}

// Seconds renders a duration given in seconds, as Micros does.
func Seconds(s float64) string { return Micros(s * 1e6) }

// Bytes renders a byte count with binary units: "512B", "1.50KiB", "24.0MiB".
func Bytes(b float64) string {
	for _, u := range [...]struct {
		name string
		size float64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if math.Abs(b) >= u.size {
			return Sig3(b/u.size) + u.name
		}
	}
	return strconv.FormatFloat(math.Round(b), 'f', -1, 64) + "B"
}

// Scaled renders a rate or a large count with the k and M multipliers
// ParseRate and ParseCount read: "950", "9.60k", "1.20M".
func Scaled(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return Sig3(v/1e6) + "M"
	case a >= 1e3:
		return Sig3(v/1e3) + "k"
	}
	return Sig3(v)
}

// Thousands renders an exact count with thousands separators: "24,001".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Percent renders a fraction as a percentage, whole when it is and with
// one decimal otherwise: 0.5 → "50%", 0.975 → "97.5%".
func Percent(f float64) string {
	p := f * 100
	if p == math.Trunc(p) && math.Abs(p) < 1e6 {
		return strconv.FormatFloat(p, 'f', 0, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

// Change renders a relative change with its sign: +10%, -5%, +2.5%.
func Change(f float64) string {
	s := Percent(f)
	if !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s
}
