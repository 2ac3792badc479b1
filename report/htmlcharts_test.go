package report

import "testing"

func TestChartTickMs(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{{0, "0"}, {0.05, "0.05"}, {2.5, "2.5"}, {1500, "1,500"}, {20000, "20,000"}, {3e6, "3,000,000"}} {
		if got := chartTickMs(c.v); got != c.want {
			t.Errorf("chartTickMs(%g) = %q, want %q", c.v, got, c.want)
		}
	}
}
