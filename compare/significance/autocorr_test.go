package significance

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ar1 returns n values of a first-order autoregressive series around mean
// with lag-1 correlation rho and unit innovations.
func ar1(rng *rand.Rand, n int, rho, mean float64) []float64 {
	s := make([]float64, n)
	v := rng.NormFloat64() / math.Sqrt(1-rho*rho)
	for i := range s {
		v = rho*v + rng.NormFloat64()
		s[i] = mean + v
	}
	return s
}

func TestLag1(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		name   string
		series [][]float64
		lo, hi float64
		ok     bool
	}{
		{"white noise", [][]float64{ar1(rng, 2000, 0, 0)}, -0.1, 0.1, true},
		{"rho 0.6", [][]float64{ar1(rng, 2000, 0.6, 0)}, 0.5, 0.7, true},
		// Two uncorrelated series 100 apart: the shift is not correlation.
		{"shifted pair", [][]float64{ar1(rng, 500, 0, 0), ar1(rng, 500, 0, 100)}, -0.15, 0.15, true},
		{"constant", [][]float64{{3, 3, 3, 3, 3, 3}}, 0, 0, false},
		{"too short", [][]float64{{1, 2, 3, 4}}, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rho, ok := Lag1(tc.series...)
			if ok != tc.ok || (ok && (rho < tc.lo || rho > tc.hi)) {
				t.Fatalf("Lag1 = %.3f, %v; want %v in [%v, %v]", rho, ok, tc.ok, tc.lo, tc.hi)
			}
		})
	}
}

func TestBlockLength(t *testing.T) {
	for _, tc := range []struct {
		rho  float64
		want int
	}{{-0.3, 1}, {0, 1}, {math.NaN(), 1}, {0.2, 2}, {1.0 / 3, 2}, {0.5, 3}, {0.8, 9}, {0.99, 9}} {
		if got := BlockLength(tc.rho); got != tc.want {
			t.Errorf("BlockLength(%v) = %d, want %d", tc.rho, got, tc.want)
		}
	}
}

// blockMeans merges consecutive values into blocks of b (a trailing partial
// block is dropped).
func blockMeans(s []float64, b int) []float64 {
	var out []float64
	for i := 0; i+b <= len(s); i += b {
		var sum float64
		for _, v := range s[i : i+b] {
			sum += v
		}
		out = append(out, sum/float64(b))
	}
	return out
}

// Why blocks: per-second samples of autocorrelated noise with no
// difference at all look "significant" far more often than α when tested
// as if independent; merged into blocks of BlockLength(Lag1) they do not.
func TestBlocksTameAutocorrelation(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const trials, n, alpha = 300, 60, 0.05
	naive, blocked := 0, 0
	for i := 0; i < trials; i++ {
		x, y := ar1(rng, n, 0.7, 100), ar1(rng, n, 0.7, 100)
		if r, _ := MannWhitney(x, y); r.PGreater <= alpha {
			naive++
		}
		rho, _ := Lag1(x, y)
		b := BlockLength(rho)
		if r, _ := MannWhitney(blockMeans(x, b), blockMeans(y, b)); r.PGreater <= alpha {
			blocked++
		}
	}
	naiveRate, blockedRate := float64(naive)/trials, float64(blocked)/trials
	t.Logf("false positives: naive %.1f%%, blocked %.1f%%", naiveRate*100, blockedRate*100)
	if naiveRate < 0.15 {
		t.Errorf("naive false-positive rate %.1f%%: expected well above α for rho 0.7", naiveRate*100)
	}
	if blockedRate > 0.10 {
		t.Errorf("blocked false-positive rate %.1f%%, want near α = 5%%", blockedRate*100)
	}
}
