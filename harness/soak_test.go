package harness

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/wsbench/wsbench/results"
	"github.com/wsbench/wsbench/stack"
)

// A short soak on local processes: the load generator's resources are in
// every second of its time series, the proxy's are sampled into
// proxy_timeseries.csv (the reference proxy's memory, descriptors and
// goroutines from its admin endpoint; nginx's memory only), and the
// flatness expectation holds.
func TestSoakSeriesLocal(t *testing.T) {
	needNginx(t)
	dir := t.TempDir()
	out, err := Run(context.Background(), Options{
		Scenarios: load(t, "testdata/soak.yaml"), Dir: dir, Log: testLog{t},
		Spec: stack.Spec{Runtime: stack.RuntimeLocal},
	})
	if err != nil {
		t.Fatal(err)
	}
	requirePassed(t, out)
	rows := out.Scenarios[0].Rows
	if len(rows) != 2 {
		t.Fatalf("%d rows, want refproxy and nginx", len(rows))
	}
	for _, row := range rows {
		t.Run(row.Target, func(t *testing.T) {
			run, err := results.Read(filepath.Join(dir, row.Dir))
			if err != nil {
				t.Fatal(err)
			}
			for _, iv := range run.Series {
				if iv.RSS <= 0 || iv.FDs <= 0 || iv.Goroutines <= 0 {
					t.Errorf("time series row at %.1fs has load generator resources %+v, want all three", iv.T, iv.Resources)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, row.Dir, results.ProxyTimeseriesFile)); err != nil {
				t.Fatal(err)
			}
			// Once a second over ~11 s; a busy machine may stretch a
			// reading, so ask for half.
			if n := len(run.ProxySeries); n < 5 {
				t.Fatalf("%d proxy samples over a %.0fs run, want one a second", n, run.Summary.End.Sub(run.Summary.Start).Seconds())
			}
			for _, s := range run.ProxySeries {
				switch row.Target {
				case "refproxy":
					// Two descriptors per tunnel: at least the 500 held.
					if s.RSS <= 0 || s.Goroutines <= 0 || s.FDs < 2*500 && s.T > 2 && s.T < 10 {
						t.Errorf("refproxy sample at %.1fs: %+v, want memory, goroutines and 1,000+ descriptors while held", s.T, s.Resources)
					}
				case "nginx":
					if s.RSS <= 0 || s.FDs != 0 || s.Goroutines != 0 {
						t.Errorf("nginx sample at %.1fs: %+v, want its memory only", s.T, s.Resources)
					}
				}
			}
			trends := results.ResourceTrends(run.Series, run.ProxySeries)
			for _, tr := range trends {
				t.Logf("%s %s: %d → %d (max %d), growth %.3f %s", tr.Process, tr.Resource, tr.First, tr.Last, tr.Max, tr.Growth, tr.Why)
			}
			want := map[string]int{"refproxy": 6, "nginx": 4}[row.Target]
			if len(trends) != want {
				t.Errorf("%d resource trends %+v, want %d", len(trends), trends, want)
			}
		})
	}
}
