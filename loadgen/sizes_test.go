package loadgen

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestParseSizes(t *testing.T) {
	tests := []struct {
		in, want string // want: String() of what parsed
		min, max int
		mean     float64
	}{
		{"64", "64", 64, 64, 64},
		{" 1KiB ", "1024", 1024, 1024, 1024},
		{"16..4096", "16..4096", 16, 4096, 2056},
		{"1KiB..1KiB", "1024", 1024, 1024, 1024},
		{"64:9,16KiB:1", "64:9,16384:1", 64, 16384, 1696},
		{"100, 200:3", "100:1,200:3", 100, 200, 175},
		{"64:7", "64", 64, 64, 64},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := ParseSizes(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if s.String() != tt.want || s.Min() != tt.min || s.Max() != tt.max || s.Mean() != tt.mean {
				t.Fatalf("%q: %q min %d max %d mean %g; want %q %d %d %g", tt.in, s, s.Min(), s.Max(), s.Mean(), tt.want, tt.min, tt.max, tt.mean)
			}
			again, err := ParseSizes(s.String())
			if err != nil || again.String() != s.String() {
				t.Fatalf("round trip %q: %q, %v", s, again, err)
			}
		})
	}
}

// A bad --size says what was wrong, shows the three forms, and pflag
// names the flag.
func TestParseSizesErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `size "": `},
		{"0", `size "0": a size of 0`},
		{"big", `size "big": not a number`},
		{"99999999999TiB", "too large, want at most 4EiB"},
		{"16..8", "the range's low end 16B is above its high end 8B"},
		{"16..", `size "16..": size "": `},
		{"64:0,128", `weight "0" of 64B: want a whole number from 1 to 1000000`},
		{"64:x,128", `weight "x" of 64B`},
		{"64:1,64:2", "64B listed twice"},
		{"64,,128", `size "64,,128": size "": `},
		{strings.Repeat("1,", 64) + "2", "65 sizes, at most 64"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseSizes(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "16..4096") {
				t.Fatalf("ParseSizes(%q) = %v, want %q and the forms", tt.in, err, tt.want)
			}
		})
	}
	var o Options
	fs := pflag.NewFlagSet("loadgen", pflag.ContinueOnError)
	o.RegisterFlags(fs)
	err := fs.Parse([]string{"--size", "16..8"})
	if err == nil || !strings.Contains(err.Error(), `"--size"`) || !strings.Contains(err.Error(), "low end") {
		t.Fatalf("--size 16..8: %v, want the flag named", err)
	}
}

// What --size allows is checked against the workload by Validate, the
// whole distribution included.
func TestValidateSizes(t *testing.T) {
	url := "ws://127.0.0.1:9000/echo"
	for _, tt := range []struct {
		name string
		o    Options
		want string // "" = valid
	}{
		{"rtt range below the header", Options{URL: url, Size: mustSizes(t, "8..100")}, "size 8..100: the rtt workload needs at least 24 bytes"},
		{"list above the frame limit", Options{URL: url, Size: mustSizes(t, "64,32MiB")}, "too large"},
		{"hold range", Options{URL: url, Workload: WorkloadHold, Size: mustSizes(t, "1..10")}, ""},
		{"push takes one size", Options{URL: url, Workload: WorkloadPush, Size: mustSizes(t, "16..64")}, "push workload takes one size"},
		{"push text", Options{URL: url, Workload: WorkloadPush, Opcode: "text"}, "opcode text"},
		{"opcode", Options{URL: url, Opcode: "utf8"}, `opcode "utf8": want binary or text`},
		{"takeover without compression", Options{URL: url, NoContextTakeover: true}, "needs --compression"},
		{"subprotocol not a token", Options{URL: url, Subprotocols: []string{"a b"}}, `subprotocol "a b": want a token`},
		{"subprotocol twice", Options{URL: url, Subprotocols: []string{"a", "a"}}, "offered twice"},
		{"all of it", Options{URL: url, Size: mustSizes(t, "24:3,4KiB"), Opcode: "text", Subprotocols: []string{"a", "b.v2"},
			Compression: true, NoContextTakeover: true}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			var oe *OptionError
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate = %v, want valid", err)
			case tt.want != "" && (!errors.As(err, &oe) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate = %v, want an option error with %q", err, tt.want)
			}
		})
	}
}

// FuzzParseSizes: any text parses or is refused, never a panic; what
// parses writes back as text that parses to the same distribution, whose
// draws stay within its bounds.
func FuzzParseSizes(f *testing.F) {
	for _, s := range []string{"64", "16..4096", "64:9,16KiB:1", "1..1", "a:b", "1..2..3", ",", "1:1000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseSizes(s)
		if err != nil {
			if !strings.Contains(err.Error(), "16..4096") {
				t.Fatalf("error %q without the forms", err)
			}
			return
		}
		again, err := ParseSizes(d.String())
		if err != nil || again.String() != d.String() || again.Mean() != d.Mean() {
			t.Fatalf("%q → %q → %q, %v", s, d, again, err)
		}
		if d.Min() < 1 || d.Min() > d.Max() {
			t.Fatalf("%q: min %d, max %d", s, d.Min(), d.Max())
		}
		drv := newDriver(&plan{sizes: d}, nil, 7)
		for i := 0; i < 16; i++ {
			if n := drv.drawSize(); n < d.Min() || n > d.Max() {
				t.Fatalf("%q drew %d", s, n)
			}
		}
	})
}

// The sizes drawn follow the distribution: over 100,000 draws from a fixed
// seed each weighted size, and each tenth of a range, comes within 5
// standard deviations of its expected count (a bound a correct sampler
// misses about once in 3 million), and a range's ends are both drawn.
func TestDrawnSizesFollowTheDistribution(t *testing.T) {
	const draws = 100_000
	within := func(t *testing.T, what string, got int, p float64) {
		t.Helper()
		want, sd := draws*p, math.Sqrt(draws*p*(1-p))
		if math.Abs(float64(got)-want) > 5*sd {
			t.Errorf("%s: drawn %d times, want %.0f ± %.0f", what, got, want, 5*sd)
		}
	}
	t.Run("weighted", func(t *testing.T) {
		d := mustSizes(t, "64:9,16KiB:1,1000:5")
		drv := newDriver(&plan{sizes: d}, nil, 42)
		counts := map[int]int{}
		for i := 0; i < draws; i++ {
			counts[drv.drawSize()]++
		}
		if len(counts) != 3 {
			t.Fatalf("drew %v, want only 64, 16384 and 1000", counts)
		}
		within(t, "64", counts[64], 9.0/15)
		within(t, "16384", counts[16384], 1.0/15)
		within(t, "1000", counts[1000], 5.0/15)
	})
	t.Run("uniform", func(t *testing.T) {
		d := mustSizes(t, "16..4095") // 4080 sizes: tenths of 408
		drv := newDriver(&plan{sizes: d}, nil, 42)
		var tenths [10]int
		lo, hi := math.MaxInt, 0
		for i := 0; i < draws; i++ {
			n := drv.drawSize()
			lo, hi = min(lo, n), max(hi, n)
			tenths[(n-16)/408]++
		}
		if lo != 16 || hi != 4095 {
			t.Errorf("drew %d to %d, want 16 to 4095", lo, hi)
		}
		for i, c := range tenths {
			within(t, "tenth "+string(rune('0'+i)), c, 0.1)
		}
	})
}
