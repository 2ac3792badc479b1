package scenarios

import (
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/units"
)

// suiteBudget is what the built-ins may take at default scale by
// Estimate: `make bench` has 6 minutes on a 2-core machine, about one of
// which goes to image builds.
const suiteBudget = 5 * time.Minute

// onRequestBudget is what each built-in run only by name (calibrate, soak)
// may take by Estimate at default scale: they are run by hand, so they stay
// short; soak's 10-minute figure is --scale 10. proxies, the comparison of
// every proxy kind, gets proxiesBudget: six workloads on five proxies.
const (
	onRequestBudget = 90 * time.Second
	proxiesBudget   = 3 * time.Minute
)

// allBuiltins is the default suite and the built-ins run only by name.
func allBuiltins() []string { return append(BuiltinNames(), BuiltinOnRequest()...) }

func TestBuiltins(t *testing.T) {
	for _, name := range allBuiltins() {
		t.Run(name, func(t *testing.T) {
			s, err := Builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != name || s.File != "builtin:"+name+".yaml" {
				t.Errorf("name %q file %q, want %q from builtin:%s.yaml", s.Name, s.File, name, name)
			}
			if len(strings.Fields(s.Description)) < 20 {
				t.Errorf("description too thin for a user to act on: %q", s.Description)
			}
			// calibrate checks wsbench itself, not a seed configuration.
			if len(s.Seeds) == 0 && name != "calibrate" {
				t.Error("no seed configurations listed")
			}
			for _, tg := range s.Targets {
				if strings.TrimSpace(tg.Description) == "" {
					t.Errorf("target %s has no description", tg.Name)
				}
			}
			for _, w := range s.Workloads {
				// Every run is judged: each target of each workload has at
				// least one expectation.
				for _, tg := range s.WorkloadTargets(w) {
					if len(w.Expectations(tg.Name)) == 0 {
						t.Errorf("workload %s has no expectation for target %s", w.Name, tg.Name)
					}
				}
			}
			src, err := BuiltinSource(name)
			if err != nil || !strings.Contains(string(src), "# Budget") {
				t.Errorf("source: %v; each built-in documents its time budget in a \"# Budget\" comment", err)
			}
		})
	}
}

// TestBuiltinFilesListed: every embedded file is a listed built-in, and
// every listed one has a file.
func TestBuiltinFilesListed(t *testing.T) {
	files, err := fs.Glob(builtinFS, "builtin/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(f, "builtin/"), ".yaml"))
	}
	listed := allBuiltins()
	if len(names) != len(listed) {
		t.Fatalf("embedded %v, listed %v", names, listed)
	}
	for _, n := range names {
		if !contains(listed, n) {
			t.Errorf("builtin/%s.yaml is not in BuiltinNames", n)
		}
	}
	want := "seed-configs,handshake,throughput,hold-timeouts,balance,backend-failure,calibrate,soak,proxies,protocol"
	if got := strings.Join(listed, ","); got != want {
		t.Errorf("order %s, want %s", got, want)
	}
	if _, err := Builtin("nope"); err == nil || !strings.Contains(err.Error(), `no built-in scenario "nope"`) {
		t.Errorf("Builtin(nope) = %v", err)
	}
}

// TestBuiltinsCoverSeeds: together the built-ins run every seed
// configuration of DESIGN.md.
func TestBuiltinsCoverSeeds(t *testing.T) {
	covered := map[string]bool{}
	for _, name := range BuiltinNames() {
		s, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, seed := range s.Seeds {
			covered[seed] = true
		}
		for _, tg := range s.Targets {
			if tg.Seed != "" && !contains(s.Seeds, tg.Seed) {
				t.Errorf("%s: target %s reproduces %s, which the scenario's seeds do not list", name, tg.Name, tg.Seed)
			}
		}
	}
	for i := 1; i <= 11; i++ {
		if seed := "S" + strconv.Itoa(i); !covered[seed] {
			t.Errorf("no built-in covers %s", seed)
		}
	}
}

// TestBuiltinBudget holds the suite to its time budget, by estimate, and
// logs each scenario's share.
func TestBuiltinBudget(t *testing.T) {
	var total time.Duration
	for _, name := range BuiltinNames() {
		s, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		d := s.Estimate()
		t.Logf("%-16s %6.1fs", name, d.Seconds())
		total += d
	}
	t.Logf("%-16s %6.1fs (budget %s)", "total", total.Seconds(), suiteBudget)
	if total > suiteBudget {
		t.Errorf("the built-ins are estimated at %s, over the %s budget: shorten a workload", total.Round(time.Second), suiteBudget)
	}
	for _, name := range BuiltinOnRequest() {
		s, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		d, budget := s.Estimate(), onRequestBudget
		if name == "proxies" {
			budget = proxiesBudget
		}
		t.Logf("%-16s %6.1fs (on request, budget %s)", name, d.Seconds(), budget)
		if d > budget {
			t.Errorf("%s is estimated at %s, over its %s budget", name, d.Round(time.Second), budget)
		}
	}
	s, _ := Builtin("hold-timeouts")
	if s.Scaled(2).Estimate() <= s.Estimate() {
		t.Error("scaling by 2 does not lengthen the estimate")
	}
}

func TestEstimate(t *testing.T) {
	s, err := Parse("e.yaml", []byte(`name: e
backends: {count: 2}
targets: [{name: a, kind: direct}, {name: b, kind: refproxy}]
workloads:
  - name: w
    load: {workload: hold, conns: 100, connect_rate: 50, duration: 3s}
`))
	if err != nil {
		t.Fatal(err)
	}
	// 2 backends × 1 s + 2 targets × 1.5 s + 2 runs × (1.5 s + 2 s opening + 3 s)
	if got, want := s.Estimate(), 18*time.Second; got != want {
		t.Errorf("Estimate = %s, want %s", got, want)
	}
	// A kill gives each target a stack of its own: backends start per
	// target, and the killed one again.
	s.Workloads[0].Kill = &Kill{Backend: "backend-2", After: units.Duration(time.Second)}
	if got, want := s.Estimate(), 22*time.Second; got != want {
		t.Errorf("Estimate with a kill = %s, want %s", got, want)
	}
}

// BenchmarkParseBuiltin measures loading the largest built-in: the strict
// walk, the decode and the validation together.
func BenchmarkParseBuiltin(b *testing.B) {
	src, err := BuiltinSource("hold-timeouts")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse("hold-timeouts.yaml", src); err != nil {
			b.Fatal(err)
		}
	}
}
