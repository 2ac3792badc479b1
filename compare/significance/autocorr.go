package significance

import "math"

// MaxRho bounds the autocorrelation BlockLength accepts: above it the
// estimate from a short series is too uncertain to trust with a longer
// block, and blocks of (1+0.8)/(1−0.8) = 9 samples already leave a
// one-minute run only six or seven independent looks.
const MaxRho = 0.8

// MinLag1Samples is the fewest values a series must have for Lag1 to use
// it: below that the estimate is mostly noise.
const MinLag1Samples = 5

// Lag1 estimates the lag-1 autocorrelation shared by several series (each
// measured the same way, e.g. per-second p99 of the baseline and of the
// current run): every series is centred on its own mean, so a shift
// between them is not mistaken for correlation, and the lag-1 products and
// the squares are pooled. Series shorter than MinLag1Samples are ignored;
// ok is false when none is long enough or none varies.
func Lag1(series ...[]float64) (rho float64, ok bool) {
	var num, den float64
	for _, s := range series {
		if len(s) < MinLag1Samples {
			continue
		}
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
	if den == 0 || math.IsNaN(num/den) || math.IsInf(num/den, 0) {
		return 0, false
	}
	return num / den, true
}

// BlockLength is the number of consecutive samples to merge so that blocks
// are roughly independent, for a lag-1 autocorrelation rho. For a
// first-order autoregressive series the variance of a mean of n values is
// that of n·(1−rho)/(1+rho) independent ones, so (1+rho)/(1−rho) samples
// are worth one; that ratio, rounded up, is the block. Negative or zero
// rho gives 1 (no merging); rho is capped at MaxRho.
func BlockLength(rho float64) int {
	if !(rho > 0) { // also NaN
		return 1
	}
	rho = min(rho, MaxRho)
	return int(math.Ceil((1+rho)/(1-rho) - 1e-9))
}
