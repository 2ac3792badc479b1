// Package significance decides whether one set of measurements is
// stochastically larger than another, for wsbench's regression gate.
//
// [MannWhitney] is the Mann-Whitney U test (also called the Wilcoxon
// rank-sum test). It compares ranks, not values, so it assumes no
// distribution (latencies are skewed and heavy-tailed) and one wild sample
// moves it no more than any other. Both one-sided p-values come back at
// once:
//
//	r, _ := significance.MannWhitney(baseline, current)
//	if r.PGreater <= 0.05 { /* current tends to be larger */ }
//
// For small samples (n1+n2 ≤ [ExactMaxN]) the p-value is exact: the
// permutation distribution of the rank sum is counted by dynamic
// programming over doubled mid-ranks, so ties are handled exactly too.
// Larger samples use the normal approximation with the tie correction of
// the variance and a continuity correction.
//
// With tiny samples no outcome can be significant: three against three
// reach at best p = 1/20 = 0.05. [MinP] tells the best p-value a sample
// size (and inflation) allows, so a caller can say "too few samples" instead of
// "not significant".
//
// Samples taken one second after another are autocorrelated: a busy second
// tends to be followed by another, so n seconds carry less information than
// n independent draws and a naive test finds differences that are not
// there. [Lag1] estimates the lag-1 autocorrelation of such series,
// [Inflation] turns it into the factor by which it inflates the variance of
// U, and [Result.Inflate] recomputes the p-values with it (the
// effective-sample-size correction):
//
//	rho, _ := significance.Lag1(baseline, current)
//	r = r.Inflate(significance.Inflation(rho))
package significance
