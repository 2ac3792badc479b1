package significance

import "math"

// MaxRho bounds the autocorrelation Inflation accepts: above it the
// estimate from a short series is too uncertain to act on, and a factor of
// (1+0.8)/(1−0.8) = 9 already counts nine seconds as one observation.
const MaxRho = 0.8

// MinLag1Samples is the fewest values a series must have for Lag1 to use
// it: below that the estimate is mostly noise (its standard error is about
// 1/√n before the bias correction scales it by n/(n−3)).
const MinLag1Samples = 8

// Lag1 estimates the lag-1 autocorrelation shared by several series (each
// measured the same way, e.g. per-second p99 of the baseline and of the
// current run): every series is centred on its own mean, so a shift
// between them is not mistaken for correlation, and the lag-1 products and
// the squares are pooled. The plain estimate runs low on short series
// (for a first-order autoregressive series its mean is about
// rho − (1+3·rho)/n, Marriott and Pope 1954), which would under-correct,
// so that bias is removed. Series shorter than MinLag1Samples are ignored;
// ok is false when none is long enough or none varies.
func Lag1(series ...[]float64) (rho float64, ok bool) {
	var num, den float64
	var used, values int
	for _, s := range series {
		if len(s) < MinLag1Samples {
			continue
		}
		used++
		values += len(s)
		var mean float64
		for _, v := range s {
			mean += v
		}
		mean /= float64(len(s))
		for i, v := range s {
			d := v - mean
			den += d * d
			if i > 0 {
				num += d * (s[i-1] - mean)
			}
		}
	}
	r := num / den
	if den == 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		return 0, false
	}
	n := float64(values) / float64(used) // the series' mean length
	return min((r*n+1)/(n-3), 1), true
}

// Inflation is the factor by which autocorrelation rho inflates the
// variance of a sum of n samples relative to n independent ones, for a
// first-order autoregressive series: (1+rho)/(1−rho). Equivalently, that
// many consecutive samples are worth one independent observation.
// Negative or zero rho (and NaN) gives 1; rho is capped at MaxRho.
func Inflation(rho float64) float64 {
	if !(rho > 0) { // also NaN
		return 1
	}
	rho = min(rho, MaxRho)
	return (1 + rho) / (1 - rho)
}
