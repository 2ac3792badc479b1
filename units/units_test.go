package units

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want Size
		err  bool
	}{
		{in: "64", want: 64},
		{in: "64B", want: 64},
		{in: "16KiB", want: 16 << 10},
		{in: "16k", want: 16 << 10},
		{in: "1MiB", want: 1 << 20},
		{in: "1mb", want: 1_000_000},
		{in: "2GiB", want: 2 << 30},
		{in: "1.5KiB", want: 1536},
		{in: " 4 KiB ", want: 4096},
		{in: "", err: true},
		{in: "KiB", err: true},
		{in: "-1", err: true},
		{in: "abc", err: true},
		{in: "1e300", err: true},
		{in: "1TiB", want: 1 << 40},
		{in: "4EiB", want: MaxSize},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("ParseSize(%q) error = %v, want error %v", tt.in, err, tt.err)
			}
			if got != tt.want {
				t.Fatalf("ParseSize(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseRateAndCount(t *testing.T) {
	rates := map[string]Rate{"500": 500, "10k": 10000, "2.5k/s": 2500, "1M": 1e6, "0": 0}
	for in, want := range rates {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"fast", "-5", "k"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) succeeded, want error", bad)
		}
	}
	counts := map[string]Count{"50": 50, "15k": 15000, "1.5k": 1500}
	for in, want := range counts {
		got, err := ParseCount(in)
		if err != nil || got != want {
			t.Errorf("ParseCount(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"1.5", "-1", "3G"} {
		if _, err := ParseCount(bad); err == nil {
			t.Errorf("ParseCount(%q) succeeded, want error", bad)
		}
	}
}

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{"10s": 10 * time.Second, "30": 30 * time.Second, "1.5": 1500 * time.Millisecond, "2m30s": 150 * time.Second}
	for in, want := range good {
		got, err := ParseDuration(in)
		if err != nil || time.Duration(got) != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"soon", "-3s", "-1", "NaN", "Inf", "-Inf", "1e300"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded, want error", bad)
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, s := range []Size{0, 1, 64, 1000, 4096, 16 << 10, 1 << 20, 3 << 30, 5 << 40, MaxSize} {
		back, err := ParseSize(s.String())
		if err != nil || back != s {
			t.Errorf("Size %d → %q → %d, %v", s, s.String(), back, err)
		}
	}
	for _, r := range []Rate{0, 1, 2.5, 500, 10000, 12345, 2.5e6} {
		back, err := ParseRate(r.String())
		if err != nil || back != r {
			t.Errorf("Rate %v → %q → %v, %v", r, r.String(), back, err)
		}
	}
}

func TestYAMLErrorNamesLine(t *testing.T) {
	var v struct {
		Size Size     `yaml:"size"`
		Rate Rate     `yaml:"rate"`
		Wait Duration `yaml:"wait"`
	}
	err := yaml.Unmarshal([]byte("size: 4KiB\nrate: 10k\nwait: forever\n"), &v)
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "forever") {
		t.Fatalf("error = %v, want one naming line 3 and the bad value", err)
	}
	if err := yaml.Unmarshal([]byte("size: 4KiB\nrate: 10k\nwait: 2s\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.Size != 4096 || v.Rate != 10000 || time.Duration(v.Wait) != 2*time.Second {
		t.Fatalf("decoded %+v", v)
	}
}

// An error says which of the ways a value can be wrong it is: a value past
// the limit is "too large" (with the limit), not "not a number".
func TestParseErrorsSayWhy(t *testing.T) {
	tests := []struct {
		name  string
		parse func(string) error
		in    string
		want  string
	}{
		{"size overflow", sizeErr, "99999999999TiB", `size "99999999999TiB": too large, want at most 4EiB`},
		{"size beyond float64", sizeErr, "1e400", "too large"},
		{"size beyond float64 with a unit", sizeErr, "1e300TiB", "too large"},
		{"size past the max", sizeErr, "5EiB", "too large, want at most 4EiB"},
		{"size unknown unit", sizeErr, "12parsecs", `unknown unit "parsecs"`},
		{"size not a number", sizeErr, "abc", "not a number"},
		{"size infinity", sizeErr, "Inf", "not a number"},
		{"size negative", sizeErr, "-1KiB", "must not be negative"},
		{"size very negative", sizeErr, "-1e400", "must not be negative"},
		{"count overflow", countErr, "3e9", "too large, want at most 2147483647"},
		{"count fraction", countErr, "1.5", "want a whole number"},
		{"count negative", countErr, "-1", "must not be negative"},
		{"count unknown unit", countErr, "12 apples", `unknown unit "apples"`},
		{"rate overflow", rateErr, "1e400", `rate "1e400": too large`},
		{"rate negative", rateErr, "-5", "must not be negative"},
		{"duration overflow", durationErr, "1e300", "too large, want at most 2562047h"},
		{"duration negative", durationErr, "-1", "must not be negative"},
		{"duration NaN", durationErr, "NaN", "want a number of seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.parse(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parse(%q) = %v, want an error containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func sizeErr(s string) error     { _, err := ParseSize(s); return err }
func countErr(s string) error    { _, err := ParseCount(s); return err }
func rateErr(s string) error     { _, err := ParseRate(s); return err }
func durationErr(s string) error { _, err := ParseDuration(s); return err }
