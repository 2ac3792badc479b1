package significance

import (
	"fmt"
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
		{"constant", [][]float64{{3, 3, 3, 3, 3, 3, 3, 3, 3, 3}}, 0, 0, false},
		{"too short", [][]float64{{1, 5, 2, 4, 3, 7, 6}}, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rho, ok := Lag1(tc.series...)
			if ok != tc.ok || (ok && (rho < tc.lo || rho > tc.hi)) {
				t.Fatalf("Lag1 = %.3f, %v; want %v in [%v, %v]", rho, ok, tc.ok, tc.lo, tc.hi)
			}
		})
	}
}

func TestInflation(t *testing.T) {
	for _, tc := range []struct {
		rho, want float64
	}{{-0.3, 1}, {0, 1}, {math.NaN(), 1}, {0.2, 1.5}, {0.5, 3}, {0.8, 9}, {0.99, 9}} {
		if got := Inflation(tc.rho); !near(got, tc.want, 1e-12) {
			t.Errorf("Inflation(%v) = %v, want %v", tc.rho, got, tc.want)
		}
	}
}

// Why the correction: per-second samples of autocorrelated noise with no
// difference at all look "significant" far more often than α when tested
// as if independent; with the variance inflated by Inflation(Lag1) they do
// not, and a real shift is still found.
func TestInflationTamesAutocorrelation(t *testing.T) {
	for _, tc := range []struct {
		n        int
		minPower float64 // of a 3σ shift
	}{{10, 0.3}, {30, 0.9}, {60, 0.99}} {
		t.Run(fmt.Sprintf("n=%d", tc.n), func(t *testing.T) {
			naive, corrected, power := falsePositives(uint64(tc.n), tc.n, 0.7)
			t.Logf("false positives: naive %.1f%%, corrected %.1f%%; 3σ shift found %.1f%%", naive*100, corrected*100, power*100)
			if naive < 0.15 {
				t.Errorf("naive false-positive rate %.1f%%: expected well above α for rho 0.7", naive*100)
			}
			if corrected > 0.09 {
				t.Errorf("corrected false-positive rate %.1f%%, want near α = 5%%", corrected*100)
			}
			if power < tc.minPower {
				t.Errorf("a 3σ shift found in %.1f%% of trials, want ≥ %.0f%%", power*100, tc.minPower*100)
			}
		})
	}
}

// falsePositives draws pairs of AR(1) series of n values with lag-1
// correlation rho and the same mean, and returns how often y is found
// larger at α = 0.05 without and with the correction, and how often the
// corrected test finds y shifted by three standard deviations.
func falsePositives(seed uint64, n int, rho float64) (naive, corrected, power float64) {
	const trials, alpha = 300, 0.05
	rng := rand.New(rand.NewPCG(seed, 8))
	var fp, cfp, found int
	for i := 0; i < trials; i++ {
		x, y := ar1(rng, n, rho, 100), ar1(rng, n, rho, 100)
		r, _ := MannWhitney(x, y)
		if r.PGreater <= alpha {
			fp++
		}
		c, _ := Lag1(x, y)
		if r.Inflate(Inflation(c)).PGreater <= alpha {
			cfp++
		}
		for j := range y {
			y[j] += 3 / math.Sqrt(1-rho*rho)
		}
		r, _ = MannWhitney(x, y)
		c, _ = Lag1(x, y)
		if r.Inflate(Inflation(c)).PGreater <= alpha {
			found++
		}
	}
	return float64(fp) / trials, float64(cfp) / trials, float64(found) / trials
}
