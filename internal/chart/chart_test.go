package chart

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/internal/chart/charttest"
)

func tickValues(ticks []Tick) []float64 {
	var v []float64
	for _, t := range ticks {
		v = append(v, t.V)
	}
	return v
}

func tickLabels(ticks []Tick) []string {
	var v []string
	for _, t := range ticks {
		v = append(v, t.Label)
	}
	return v
}

func TestSVGLinearTicks(t *testing.T) {
	cases := []struct {
		name           string
		lo, hi         float64
		wantLo, wantHi float64
		labels         []string
	}{
		{"round", 0, 100, 0, 100, []string{"0", "20", "40", "60", "80", "100"}},
		{"widened to a near tick", 0, 1_940, 0, 2_000, []string{"0", "500", "1k", "1.5k", "2k"}},
		{"a far tick is not added", 0, 15.03, 0, 15.03, []string{"0", "5", "10", "15"}},
		{"small", 0, 0.38, 0, 0.4, []string{"0", "0.1", "0.2", "0.3", "0.4"}},
		{"negative", -3, 7, -4, 7, []string{"-4", "-2", "0", "2", "4", "6"}},
		{"millions", 0, 3.8e6, 0, 4e6, []string{"0", "1M", "2M", "3M", "4M"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lo, hi, ticks := svgLinearTicks(c.lo, c.hi, Number)
			if lo != c.wantLo || hi != c.wantHi || !slices.Equal(tickLabels(ticks), c.labels) {
				t.Errorf("range %g–%g ticks %q; want %g–%g %q", lo, hi, tickLabels(ticks), c.wantLo, c.wantHi, c.labels)
			}
		})
	}
}

func TestSVGLogTicks(t *testing.T) {
	cases := []struct {
		name           string
		lo, hi         float64
		wantLo, wantHi float64
		ticks          []float64
	}{
		{"two decades, with 2 and 5", 0.06, 20, 0.05, 20, []float64{0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20}},
		{"exact decades", 1, 100, 1, 100, []float64{1, 2, 5, 10, 20, 50, 100}},
		{"many decades: decades only", 0.3, 4000, 0.2, 5000, []float64{1, 10, 100, 1000}},
		{"very wide: every other decade", 1, 1e12, 1, 1e12, []float64{1, 100, 1e4, 1e6, 1e8, 1e10, 1e12}},
		{"one value", 3, 3, 2, 5, []float64{2, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lo, hi, ticks := svgLogTicks(c.lo, c.hi, Number)
			got := tickValues(ticks)
			near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }
			if !near(lo, c.wantLo) || !near(hi, c.wantHi) || !slices.EqualFunc(got, c.ticks, near) {
				t.Errorf("range %g–%g ticks %v; want %g–%g %v", lo, hi, got, c.wantLo, c.wantHi, c.ticks)
			}
		})
	}
}

func TestSVGScale(t *testing.T) {
	lin := Axis{Min: 0, Max: 10}
	log := Axis{Scale: Log, Min: 1, Max: 1000}
	cases := []struct {
		name string
		a    Axis
		v    float64
		want float64
	}{
		{"linear start", lin, 0, 100},
		{"linear middle", lin, 5, 150},
		{"linear end", lin, 10, 200},
		{"log middle decade", log, 10, 100 + 100.0/3},
		{"log end", log, 1000, 200},
		{"log zero stays at the edge", log, 0, 100},
		{"beyond the range is clamped", lin, 1e9, 202},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.a.pos(c.v, 100, 200); math.Abs(got-c.want) > 1e-9 {
				t.Errorf("pos(%g) = %g, want %g", c.v, got, c.want)
			}
		})
	}
}

func TestSVGNumberFormats(t *testing.T) {
	cases := []struct {
		v   float64
		num string
	}{
		{0, "0"}, {0.05, "0.05"}, {2.5, "2.5"}, {1500, "1.5k"}, {20000, "20k"}, {3e6, "3M"},
	}
	for _, c := range cases {
		if got := Number(c.v); got != c.num {
			t.Errorf("Number(%g) = %q, want %q", c.v, got, c.num)
		}
	}
}

func TestSVGWrap(t *testing.T) {
	if got := svgWrap("", 10, 2); got != nil {
		t.Errorf("empty note: %q", got)
	}
	got := svgWrap("one two three four five six seven", 10, 2)
	if len(got) != 2 || got[0] != "one two" || !strings.HasSuffix(got[1], " …") {
		t.Errorf("wrapped %q; want two lines, the last marked as cut", got)
	}
}

// Whatever the data, a chart is well-formed XML: NaN and infinities are
// left out, a lone point gets a marker, an empty chart still has axes.
func TestSVGRenderEdgeCases(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name     string
		chart    Chart
		wantData int
	}{
		{"empty", Chart{Kind: "x", Title: "t", Series: []Series{{Name: "a"}}}, 0},
		{"one point", Chart{Kind: "x", Series: []Series{{Name: "a", Points: []Point{{X: 1, Y: 1}}}}}, 1},
		{"non-finite points", Chart{Kind: "x", Series: []Series{{Name: "a", Points: []Point{{X: nan, Y: 1}, {X: 1, Y: inf}, {X: 2, Y: 3}, {X: 3, Y: 4}}}}}, 1},
		{"log axis with zero", Chart{Kind: "x", Y: Axis{Scale: Log}, Series: []Series{{Name: "a", Points: []Point{{X: 0, Y: 0}, {X: 1, Y: 10}}}}}, 1},
		{"marks, some bad", Chart{Kind: "x", Series: []Series{{Name: "a", Marks: true, Points: []Point{{X: 1, Y: 1}, {X: 2, Y: 5, Bad: true}}}}}, 3},
		{"steps", Chart{Kind: "x", Series: []Series{{Name: "a", Step: true, Points: []Point{{X: 0, Y: 5}, {X: 1, Y: 5}, {X: 2, Y: 0}}}}}, 1},
		{"bars with a gap", Chart{Kind: "x", Series: []Series{{Name: "a"}, {Name: "b"}},
			Bars: &Bars{Categories: []string{"c1", "c2"}, Values: [][]float64{{1, nan}, {2, 3}}, Labels: [][]string{{"1", ""}, {"2", "3"}}}}, 3},
		{"rules only", Chart{Kind: "x", Rules: []Rule{{V: 5, Label: "slo", Series: -1}, {Vertical: true, V: nan}}}, 0},
		{"inverted fixed range", Chart{Kind: "x", X: Axis{Min: 5, Max: 1}, Series: []Series{{Name: "a", Points: []Point{{X: 1, Y: 1}, {X: 2, Y: 2}}}}}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := c.chart.SVG()
			st := charttest.Parse(t, out)
			if st.Data != c.wantData {
				t.Errorf("%d data elements, want %d:\n%s", st.Data, c.wantData, out)
			}
			if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
				t.Errorf("non-finite number in the markup:\n%s", out)
			}
		})
	}
}

// FuzzSVGChart: any values and names render as well-formed XML without
// non-finite coordinates.
func FuzzSVGChart(f *testing.F) {
	f.Add("a<b", "rtt", 1.0, 2.0, 3.0, 4.0, false, false)
	f.Add("\x00\ufffe", "", math.Inf(-1), math.NaN(), 0.0, -1e308, true, true)
	f.Add("x", "y", 1e-300, 1e300, 5.0, 5.0, true, false)
	f.Fuzz(func(t *testing.T, name, title string, x1, y1, x2, y2 float64, logY, bars bool) {
		c := Chart{Kind: "fuzz", Title: title, Note: name,
			Series: []Series{{Name: name, Points: []Point{{X: x1, Y: y1}, {X: x2, Y: y2}}}, {Name: title, Marks: true, Points: []Point{{X: x2, Y: y1, Bad: true}}}},
			Rules:  []Rule{{V: y2, Label: name, Series: 0}, {Vertical: true, V: x1, Label: title, Series: -1}},
		}
		if logY {
			c.Y.Scale, c.X.Scale = Log, Log
		}
		if bars {
			c.Bars = &Bars{Categories: []string{name, title}, Values: [][]float64{{y1, y2}, {x1, x2}}, Labels: [][]string{{name}, {}}}
		}
		out := c.SVG()
		charttest.Parse(t, out)
		if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
			t.Fatalf("non-finite number in the markup:\n%s", out)
		}
	})
}
