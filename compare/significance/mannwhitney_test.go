package significance

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

func seq(from, to float64) []float64 {
	var s []float64
	for v := from; v <= to; v++ {
		s = append(s, v)
	}
	return s
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestMannWhitneyKnownAnswers(t *testing.T) {
	for _, tc := range []struct {
		name          string
		x, y          []float64
		u             float64
		greater, less float64
		method        string
		ties          bool
	}{
		// y above every x: one arrangement in C(6,3) = 20.
		{"3v3 separated", seq(1, 3), seq(4, 6), 9, 1.0 / 20, 1, Exact, false},
		{"4v4 separated", seq(1, 4), seq(5, 8), 16, 1.0 / 70, 1, Exact, false},
		{"3v3 reversed", seq(4, 6), seq(1, 3), 0, 1, 1.0 / 20, Exact, false},
		{"1v1", []float64{1}, []float64{2}, 1, 0.5, 1, Exact, false},
		// R's ?wilcox.test example: wilcox.test(x, y, alternative = "g")
		// gives W = 35, p-value = 0.1272 (W is our U of the second sample).
		{"R example",
			[]float64{1.15, 0.88, 0.90, 0.74, 1.21},
			[]float64{0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46},
			35, 0.1272, 0.9, Exact, false},
		// All six values tie: every arrangement has the same rank sum.
		{"all tied", []float64{5, 5, 5}, []float64{5, 5, 5}, 4.5, 1, 1, Exact, true},
		// Pooled: 1 | 2 2 2 2 | 3; the four 2s share rank 3.5, so the
		// doubled ranks are 2 | 7 7 7 7 | 12 and y's sum is 7+7+12 = 26.
		// Of the C(6,3) = 20 choices of three, only the 6 holding 12 and
		// two 7s reach 26 (p greater 0.3); none exceeds it (p less 1).
		{"ties across samples", []float64{1, 2, 2}, []float64{2, 2, 3}, 7, 0.3, 1, Exact, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := MannWhitney(tc.x, tc.y)
			if err != nil {
				t.Fatal(err)
			}
			if r.U != tc.u || r.Method != tc.method || r.Ties != tc.ties {
				t.Errorf("U %v method %s ties %v, want %v %s %v", r.U, r.Method, r.Ties, tc.u, tc.method, tc.ties)
			}
			if !near(r.PGreater, tc.greater, 5e-5) || (tc.less != 0.9 && !near(r.PLess, tc.less, 1e-12)) {
				t.Errorf("p greater %.5f less %.5f, want %.5f and %.5f", r.PGreater, r.PLess, tc.greater, tc.less)
			}
		})
	}
}

func TestMannWhitneyRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		x, y []float64
	}{
		{"empty x", nil, []float64{1}},
		{"empty y", []float64{1}, nil},
		{"NaN", []float64{1, math.NaN()}, []float64{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := MannWhitney(tc.x, tc.y); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// bruteTails enumerates every split of the pooled values: the definition
// the dynamic programme must reproduce.
func bruteTails(x, y []float64) (greater, less float64) {
	all := append(append([]float64{}, x...), y...)
	ranks, _ := midRanks2(x, y)
	var w int64
	for _, r := range ranks[len(x):] {
		w += r
	}
	n, k := len(all), len(y)
	var ge, le, total float64
	for mask := 0; mask < 1<<n; mask++ {
		if popcount(mask) != k {
			continue
		}
		var s int64
		for i := 0; i < n; i++ {
			if mask&(1<<i) != 0 {
				s += ranks[i]
			}
		}
		total++
		if s >= w {
			ge++
		}
		if s <= w {
			le++
		}
	}
	return ge / total, le / total
}

func popcount(m int) int {
	c := 0
	for ; m != 0; m &= m - 1 {
		c++
	}
	return c
}

func TestExactMatchesEnumerationWithTies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		n1, n2 := 1+rng.IntN(7), 1+rng.IntN(7)
		x, y := make([]float64, n1), make([]float64, n2)
		for i := range x {
			x[i] = float64(rng.IntN(5)) // few distinct values: many ties
		}
		for i := range y {
			y[i] = float64(rng.IntN(5) + rng.IntN(2))
		}
		r, err := MannWhitney(x, y)
		if err != nil {
			t.Fatal(err)
		}
		g, l := bruteTails(x, y)
		if !near(r.PGreater, g, 1e-12) || !near(r.PLess, l, 1e-12) {
			t.Fatalf("x %v y %v: p %.6f/%.6f, enumeration gives %.6f/%.6f", x, y, r.PGreater, r.PLess, g, l)
		}
	}
}

// The normal approximation must agree with the exact answer where both
// apply, with and without ties.
func TestNormalApproximationAgreesWithExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name   string
		levels int // 0: continuous values; else values rounded to this many levels
	}{{"continuous", 0}, {"ties", 6}} {
		t.Run(tc.name, func(t *testing.T) {
			for trial := 0; trial < 20; trial++ {
				x, y := make([]float64, 25), make([]float64, 25)
				shift := rng.Float64() * 0.8
				for i := range x {
					x[i], y[i] = rng.NormFloat64(), rng.NormFloat64()+shift
					if tc.levels > 0 {
						x[i], y[i] = math.Round(x[i]*float64(tc.levels)/4), math.Round(y[i]*float64(tc.levels)/4)
					}
				}
				r, _ := MannWhitney(x, y)
				if r.Method != Exact {
					t.Fatalf("method %s, want exact for n=50", r.Method)
				}
				_, ties := midRanks2(x, y)
				g, l := normalTails(25, 25, r.U, ties, 1)
				if !near(g, r.PGreater, 0.01) || !near(l, r.PLess, 0.01) {
					t.Fatalf("normal %.4f/%.4f, exact %.4f/%.4f", g, l, r.PGreater, r.PLess)
				}
			}
		})
	}
}

func TestLargeSamplesUseNormal(t *testing.T) {
	x, y := seq(1, 40), seq(21, 60)
	r, err := MannWhitney(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != Normal || r.PGreater > 1e-4 || r.PLess < 0.999 {
		t.Fatalf("%+v, want normal with a tiny p greater", r)
	}
}

// rejectionRate runs trials of n against n draws, y scaled by 1+shift,
// with lognormal noise of the given sigma (latency-like: skewed, positive),
// and returns how often y is found larger at alpha.
func rejectionRate(seed uint64, trials, n int, shift, sigma, alpha float64) float64 {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	hits := 0
	for i := 0; i < trials; i++ {
		x, y := make([]float64, n), make([]float64, n)
		for j := range x {
			x[j] = 100 * math.Exp(sigma*rng.NormFloat64())
			y[j] = 100 * (1 + shift) * math.Exp(sigma*rng.NormFloat64())
		}
		r, _ := MannWhitney(x, y)
		if r.PGreater <= alpha {
			hits++
		}
	}
	return float64(hits) / float64(trials)
}

// The test's behaviour on synthetic samples with known answers: no
// difference is flagged about α of the time; a 20 % shift under 5 % noise
// nearly always; a 5 % shift under 10 % noise only sometimes (which is why
// the gate also needs the change to exceed a threshold).
func TestPowerOnSyntheticShifts(t *testing.T) {
	for _, tc := range []struct {
		name         string
		n            int
		shift, sigma float64
		lo, hi       float64
	}{
		{"no difference n=10", 10, 0, 0.1, 0.02, 0.08},
		{"no difference n=60", 60, 0, 0.1, 0.02, 0.08},
		{"5% shift, 10% noise, n=10", 10, 0.05, 0.1, 0.10, 0.60},
		{"5% shift, 2% noise, n=10", 10, 0.05, 0.02, 0.95, 1},
		{"20% shift, 5% noise, n=10", 10, 0.20, 0.05, 0.99, 1},
		{"20% shift, 10% noise, n=5", 5, 0.20, 0.10, 0.70, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rejectionRate(uint64(tc.n)*7+uint64(tc.shift*100), 400, tc.n, tc.shift, tc.sigma, 0.05)
			t.Logf("significant in %.1f%% of trials", got*100)
			if got < tc.lo || got > tc.hi {
				t.Fatalf("significant in %.1f%% of trials, want %.0f%%…%.0f%%", got*100, tc.lo*100, tc.hi*100)
			}
		})
	}
}

func TestMinP(t *testing.T) {
	for _, tc := range []struct {
		n1, n2 int
		want   float64
	}{{0, 3, 1}, {1, 1, 0.5}, {2, 2, 1.0 / 6}, {3, 3, 0.05}, {2, 4, 1.0 / 15}, {4, 4, 1.0 / 70}, {5, 5, 1.0 / 252}} {
		if got := MinP(tc.n1, tc.n2, 1); !near(got, tc.want, 1e-12) {
			t.Errorf("MinP(%d, %d) = %v, want %v", tc.n1, tc.n2, got, tc.want)
		}
	}
	// MinP is what complete separation actually gives.
	r, _ := MannWhitney(seq(1, 2), seq(3, 6))
	if !near(r.PGreater, MinP(2, 4, 1), 1e-12) {
		t.Fatalf("separated 2v4: p %v, MinP %v", r.PGreater, MinP(2, 4, 1))
	}
	// Inflated: what Inflate gives complete separation; 5 against 5 with
	// the variance tripled cannot reach 0.05.
	r, _ = MannWhitney(seq(1, 5), seq(6, 10))
	if got := r.Inflate(3).PGreater; !near(got, MinP(5, 5, 3), 1e-12) || got < 0.05 {
		t.Fatalf("separated 5v5 inflated 3×: p %v, MinP %v, want them equal and above 0.05", got, MinP(5, 5, 3))
	}
}

func TestInflate(t *testing.T) {
	r, _ := MannWhitney(seq(1, 8), seq(5, 12))
	if same := r.Inflate(1); same.PGreater != r.PGreater || same.Method != r.Method || same.Inflation != 1 {
		t.Fatalf("Inflate(1) changed the result: %+v → %+v", r, same)
	}
	prev := r.PGreater
	for _, f := range []float64{1.5, 3, 9} {
		got := r.Inflate(f)
		if got.Method != Normal || got.Inflation != f || got.U != r.U || !(got.PGreater > prev) || !(got.PGreater < 0.5) {
			t.Fatalf("Inflate(%v) = %+v, want a normal p above %v and below 0.5", f, got, prev)
		}
		prev = got.PGreater
	}
}

func floats(b []byte) []float64 {
	var out []float64
	for len(b) >= 2 && len(out) < 60 {
		out = append(out, float64(int16(binary.LittleEndian.Uint16(b))))
		b = b[2:]
	}
	return out
}

// FuzzMannWhitney: never panics; p-values are probabilities; swapping the
// samples swaps the tails.
func FuzzMannWhitney(f *testing.F) {
	f.Add([]byte{1, 0, 2, 0, 3, 0}, []byte{4, 0, 5, 0})
	f.Add([]byte{1, 0, 1, 0}, []byte{1, 0})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		x, y := floats(a), floats(b)
		r, err := MannWhitney(x, y)
		if len(x) == 0 || len(y) == 0 {
			if err == nil {
				t.Fatal("empty sample accepted")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.PGreater < 0 || r.PGreater > 1 || r.PLess < 0 || r.PLess > 1 || r.PGreater+r.PLess < 1-1e-9 {
			t.Fatalf("p-values %v %v", r.PGreater, r.PLess)
		}
		s, _ := MannWhitney(y, x)
		if !near(s.PGreater, r.PLess, 1e-9) || !near(s.PLess, r.PGreater, 1e-9) {
			t.Fatalf("swap: %v/%v vs %v/%v", r.PGreater, r.PLess, s.PGreater, s.PLess)
		}
	})
}

func BenchmarkMannWhitneyExact50(b *testing.B) {
	x, y := seq(1, 25), seq(10, 34)
	b.ReportAllocs()
	for b.Loop() {
		MannWhitney(x, y)
	}
}
