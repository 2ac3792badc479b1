package significance_test

import (
	"fmt"

	"github.com/wsbench/wsbench/compare/significance"
)

// Per-second p50s (µs) of a baseline and of a build that added latency:
// is the current one larger? Five seconds a side that do not overlap give
// the smallest p-value five against five can: 1/C(10,5) = 1/252.
func ExampleMannWhitney() {
	baseline := []float64{402, 398, 411, 405, 399}
	current := []float64{452, 447, 461, 449, 455}
	r, _ := significance.MannWhitney(baseline, current)
	fmt.Printf("U %.0f of %d, p(current larger) %.4f (%s), p(smaller) %.2f\n", r.U, r.N1*r.N2, r.PGreater, r.Method, r.PLess)
	// Output: U 25 of 25, p(current larger) 0.0040 (exact), p(smaller) 1.00
}

// Three repetitions a side can only be significant when they do not
// overlap at all, and two can never be at α = 0.05.
func ExampleMinP() {
	for _, n := range []int{2, 3, 4, 5} {
		fmt.Printf("%d vs %d: best p %.4f\n", n, n, significance.MinP(n, n, 1))
	}
	// Output:
	// 2 vs 2: best p 0.1667
	// 3 vs 3: best p 0.0500
	// 4 vs 4: best p 0.0143
	// 5 vs 5: best p 0.0040
}

// Ten seconds a side that drift slowly up and down together: as if
// independent they look significantly different; corrected for their
// autocorrelation (ρ capped at 0.8: a factor of 9) they do not.
func ExampleResult_Inflate() {
	baseline := []float64{400, 404, 409, 412, 410, 405, 401, 398, 402, 407}
	current := []float64{405, 410, 416, 419, 415, 411, 406, 404, 409, 413}
	r, _ := significance.MannWhitney(baseline, current)
	rho, _ := significance.Lag1(baseline, current)
	c := r.Inflate(significance.Inflation(rho))
	fmt.Printf("rho %.2f: p %.3f as independent, %.3f corrected (×%.1f)\n", rho, r.PGreater, c.PGreater, c.Inflation)
	// Output: rho 0.92: p 0.009 as independent, 0.221 corrected (×9.0)
}
