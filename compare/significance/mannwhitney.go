package significance

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ExactMaxN is the largest n1+n2 for which MannWhitney computes the exact
// p-value. The counts it adds are binomial coefficients up to
// C(ExactMaxN, ExactMaxN/2) ≈ 1.3e14, exact in a float64, and the work is
// about ExactMaxN³·ExactMaxN/4 additions: milliseconds.
const ExactMaxN = 50

// Method names how a p-value was computed.
const (
	Exact  = "exact"
	Normal = "normal"
)

// Result is the outcome of a Mann-Whitney U test of y against x.
type Result struct {
	N1, N2 int
	// U counts the pairs (x[i], y[j]) with y[j] > x[i], a tie counting
	// one half. It ranges from 0 to N1·N2; N1·N2/2 means no tendency.
	U float64
	// PGreater is the one-sided p-value of "y tends to be larger than x";
	// PLess that of "y tends to be smaller".
	PGreater, PLess float64
	Method          string // Exact or Normal
	Ties            bool   // some values occur more than once
	// Inflation is the variance factor Inflate applied; 1 if none.
	Inflation float64

	ties []int // sizes of the groups of tied values, for Inflate
}

// ErrEmpty is returned when a sample has no values.
var ErrEmpty = errors.New("significance: empty sample")

// MannWhitney tests whether y tends to be larger (or smaller) than x. Neither
// sample may be empty or hold NaN.
func MannWhitney(x, y []float64) (Result, error) {
	if len(x) == 0 || len(y) == 0 {
		return Result{}, fmt.Errorf("%w: %d and %d values, want at least one each", ErrEmpty, len(x), len(y))
	}
	for _, s := range [][]float64{x, y} {
		for i, v := range s {
			if math.IsNaN(v) {
				return Result{}, fmt.Errorf("significance: value %d is NaN, want a number", i+1)
			}
		}
	}
	r := Result{N1: len(x), N2: len(y), Inflation: 1}
	ranks, ties := midRanks2(x, y)
	r.Ties, r.ties = len(ties) > 0, ties
	var w2 int64 // rank sum of y, doubled so mid-ranks stay integers
	for _, rk := range ranks[len(x):] {
		w2 += rk
	}
	n2 := float64(r.N2)
	r.U = float64(w2)/2 - n2*(n2+1)/2
	if r.N1+r.N2 <= ExactMaxN {
		r.Method = Exact
		r.PGreater, r.PLess = exactTails(ranks, r.N2, w2)
	} else {
		r.Method = Normal
		r.PGreater, r.PLess = normalTails(r.N1, r.N2, r.U, ties, 1)
	}
	return r, nil
}

// Inflate returns r with its p-values recomputed for samples that are not
// independent: the variance of U is multiplied by factor (see Inflation),
// which is what n autocorrelated samples carrying the information of
// n/factor independent ones does to it. The normal approximation is used,
// whatever the sample size. A factor of 1 or less returns r unchanged.
func (r Result) Inflate(factor float64) Result {
	if !(factor > 1) {
		return r
	}
	r.Method, r.Inflation = Normal, factor
	r.PGreater, r.PLess = normalTails(r.N1, r.N2, r.U, r.ties, factor)
	return r
}

// midRanks2 returns the doubled mid-rank of every value of x then y (ranks
// from 1; tied values share the mean of their ranks) and the size of every
// group of ties.
func midRanks2(x, y []float64) (ranks []int64, ties []int) {
	n := len(x) + len(y)
	all := make([]float64, 0, n)
	all = append(append(all, x...), y...)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case all[a] < all[b]:
			return -1
		case all[a] > all[b]:
			return 1
		}
		return 0
	})
	ranks = make([]int64, n)
	for i := 0; i < n; {
		j := i + 1
		for j < n && all[order[j]] == all[order[i]] {
			j++
		}
		// positions i..j-1 hold ranks i+1..j; twice their mean is i+1+j.
		for k := i; k < j; k++ {
			ranks[order[k]] = int64(i + 1 + j)
		}
		if j-i > 1 {
			ties = append(ties, j-i)
		}
		i = j
	}
	return ranks, ties
}

// exactTails counts, over every way of choosing n2 of the ranks, how many
// give a doubled rank sum ≥ w2 and ≤ w2. Under the null hypothesis every
// choice is equally likely, so the counts over C(N, n2) are the p-values;
// this holds with ties too, since the mid-ranks are what is permuted.
func exactTails(ranks []int64, n2 int, w2 int64) (greater, less float64) {
	var total int64
	for _, r := range ranks {
		total += r
	}
	// Choosing y's n2 ranks is choosing the other n1: count the smaller
	// side, whose sum is total − w2, with the tails swapped.
	if n1 := len(ranks) - n2; n1 < n2 {
		less, greater = exactTails(ranks, n1, total-w2)
		return greater, less
	}
	// ways[k][s]: subsets of size k of the ranks seen so far with sum s.
	ways := make([][]float64, n2+1)
	for k := range ways {
		ways[k] = make([]float64, total+1)
	}
	ways[0][0] = 1
	var seen int64 // sum of the ranks seen so far: no subset exceeds it
	for i, r := range ranks {
		seen += r
		for k := min(i+1, n2); k >= 1; k-- {
			prev, cur := ways[k-1], ways[k]
			for s := seen; s >= r; s-- {
				cur[s] += prev[s-r]
			}
		}
	}
	var all, ge, le float64
	for s, c := range ways[n2] {
		all += c
		if int64(s) >= w2 {
			ge += c
		}
		if int64(s) <= w2 {
			le += c
		}
	}
	return ge / all, le / all
}

// normalTails approximates the p-values with a normal distribution of U:
// mean n1·n2/2, variance n1·n2/12·(N+1 − Σ(t³−t)/(N(N−1))) over the tie
// groups t, times inflation, and a continuity correction of ½.
func normalTails(n1, n2 int, u float64, ties []int, inflation float64) (greater, less float64) {
	a, b := float64(n1), float64(n2)
	n := a + b
	var tie float64
	for _, t := range ties {
		ft := float64(t)
		tie += ft*ft*ft - ft
	}
	variance := a * b / 12 * (n + 1 - tie/(n*(n-1))) * inflation
	if variance <= 0 { // every value equal: no evidence either way
		return 1, 1
	}
	sd := math.Sqrt(variance)
	mean := a * b / 2
	greater = upperTail((u - mean - 0.5) / sd)
	less = upperTail((mean - u - 0.5) / sd)
	return min(greater, 1), min(less, 1)
}

// upperTail is P(Z ≥ z) for a standard normal Z.
func upperTail(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

// MinP is the smallest one-sided p-value MannWhitney can give for samples
// of n1 and n2 values, reached when they do not overlap at all: 1/C(n1+n2,
// n1) for the exact test; with an inflation above 1, that of the inflated
// normal approximation. When it exceeds the significance level, no
// difference can be significant at that size.
func MinP(n1, n2 int, inflation float64) float64 {
	if n1 <= 0 || n2 <= 0 {
		return 1
	}
	if inflation > 1 || n1+n2 > ExactMaxN {
		g, _ := normalTails(n1, n2, float64(n1*n2), nil, max(inflation, 1))
		return g
	}
	// C(n, k) as a running product; it only needs to be compared with 1/α.
	c := 1.0
	k := min(n1, n2)
	n := n1 + n2
	for i := 1; i <= k; i++ {
		c = c * float64(n-k+i) / float64(i)
	}
	return 1 / c
}
