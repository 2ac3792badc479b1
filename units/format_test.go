package units

import (
	"math"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	cases := []struct{ got, want string }{
		{Sig3(0), "0"}, {Sig3(0.25), "0.25"}, {Sig3(1.5), "1.50"}, {Sig3(2), "2.00"}, {Sig3(9.999), "10.0"}, {Sig3(99.96), "100"}, {Sig3(31.24), "31.2"},
		{Sig3(614.4), "614"}, {Sig3(-0.001), "0"}, {Sig3(123456), "123456"},
		{Micros(0), "0s"}, {Micros(46), "46µs"}, {Micros(999), "999µs"}, {Micros(1000), "1.00ms"}, {Micros(12_345), "12.3ms"}, {Micros(3_600_000_000), "3600s"}, {Micros(0.5), "0.50µs"}, {Micros(2500), "2.50ms"}, {Micros(1_200_000), "1.20s"},
		{Seconds(0.25), "250ms"}, {Seconds(90), "90.0s"},
		{Bytes(512), "512B"}, {Bytes(1023), "1023B"}, {Bytes(1536), "1.50KiB"}, {Bytes(64 << 10), "64.0KiB"}, {Bytes(24 << 20), "24.0MiB"}, {Bytes(3 << 40), "3.00TiB"},
		{Scaled(950), "950"}, {Scaled(9600.4), "9.60k"}, {Scaled(1.25e6), "1.25M"},
		{Thousands(24001), "24,001"}, {Thousands(-1234567), "-1,234,567"}, {Thousands(7), "7"},
		{Percent(0.975), "97.5%"}, {Percent(0.5), "50%"}, {Change(0.1), "+10%"}, {Change(-0.05), "-5%"}, {Change(0.025), "+2.5%"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// A printed value reads back through the parser of its kind, to within
// the rounding of three significant digits.
func TestFormatParsesBack(t *testing.T) {
	near := func(got, want float64) bool { return math.Abs(got-want) <= 0.005*math.Abs(want)+0.5 }
	for _, v := range []float64{0, 7, 512, 1536, 65_000, 1 << 20, 24.7 * (1 << 20), 5e9} {
		s, err := ParseSize(Bytes(v))
		if err != nil || !near(float64(s), v) {
			t.Errorf("ParseSize(Bytes(%v) = %q) = %v, %v", v, Bytes(v), s, err)
		}
		r, err := ParseRate(Scaled(v))
		if err != nil || !near(float64(r), v) {
			t.Errorf("ParseRate(Scaled(%v) = %q) = %v, %v", v, Scaled(v), r, err)
		}
		d, err := ParseDuration(Micros(v))
		if us := float64(time.Duration(d).Nanoseconds()) / 1e3; err != nil || !near(us, v) {
			t.Errorf("ParseDuration(Micros(%v) = %q) = %v, %v", v, Micros(v), d, err)
		}
	}
}
