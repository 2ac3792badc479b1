package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/kube"
	"github.com/wsbench/wsbench/loadgen"
)

// The flags become the options kube renders: the CLI prints exactly the
// stream kube.Render writes for them (kube's tests check that stream
// against the Kubernetes API types).
func TestK8sFlagsToManifests(t *testing.T) {
	scenario := filepath.Join(t.TempDir(), "my-proxy.yaml")
	scenarioData := []byte("name: my-proxy\n")
	if err := os.WriteFile(scenario, scenarioData, 0o644); err != nil {
		t.Fatal(err)
	}
	base := kube.Options{
		Name: "r1", Image: "reg.example/wsbench:v1", Workers: 3, Port: kube.DefaultPort,
		LocalPortRange: kube.DefaultLocalPortRange, Spread: kube.SpreadPreferred, ResultsImage: kube.DefaultResultsImage,
	}
	tests := []struct {
		name string
		args []string
		want func(*kube.Options)
	}{
		{"load flags", []string{"--url", "ws://proxy:8080/echo", "--conns", "3k", "--rate", "30k", "--duration", "2m", "--workload", "rtt"},
			func(o *kube.Options) {
				o.Load = loadgen.Options{URL: "ws://proxy:8080/echo", Conns: 3000, Rate: 30000, Duration: 2 * time.Minute, Workload: loadgen.WorkloadRTT}
			}},
		{"every k8s flag", []string{"-n", "bench", "--port", "7171", "--requests", "cpu=2,memory=1Gi", "--limits", "memory=1Gi",
			"--local-port-range", "", "--spread", "required", "--node-selector", "pool=loadgen", "--image-pull-secret", "creds",
			"--results-claim", "results", "--results-image", "mirror/busybox:1", "--url", "ws://proxy/echo", "--workload", "hold", "--conns", "50k"},
			func(o *kube.Options) {
				o.Namespace, o.Port = "bench", 7171
				o.Requests, o.Limits = kube.Resources{"cpu": "2", "memory": "1Gi"}, kube.Resources{"memory": "1Gi"}
				o.LocalPortRange, o.Spread = kube.PortRange{}, kube.SpreadRequired
				o.NodeSelector, o.ImagePullSecret = map[string]string{"pool": "loadgen"}, "creds"
				o.ResultsClaim, o.ResultsImage = "results", "mirror/busybox:1"
				o.Load = loadgen.Options{URL: "ws://proxy/echo", Workload: loadgen.WorkloadHold, Conns: 50000}
			}},
		{"scenario file", []string{scenario},
			func(o *kube.Options) { o.Scenario = &kube.Scenario{Name: "my-proxy.yaml", Data: scenarioData} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"k8s", "--name", "r1", "--image", "reg.example/wsbench:v1", "--workers", "3"}, tt.args...)
			code, stdout, stderr := runCLI(args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			o := base
			tt.want(&o)
			var want strings.Builder
			if err := kube.Render(&want, o); err != nil {
				t.Fatal(err)
			}
			if stdout != want.String() {
				t.Errorf("wsbench %s printed\n%s\nwant\n%s", strings.Join(args, " "), stdout, want.String())
			}
		})
	}
}

// Without --name the run is named after the time, as run directories are.
func TestK8sDefaultName(t *testing.T) {
	code, stdout, stderr := runCLI("k8s", "--image", "w:1", "--workers", "1", "--url", "ws://p/echo")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`(?m)^  name: wsbench-\d{8}-\d{6}-coordinator$`).MatchString(stdout) {
		t.Errorf("no coordinator named wsbench-<time>-coordinator in\n%s", stdout)
	}
}

func TestK8sBadFlags(t *testing.T) {
	scenario := filepath.Join(t.TempDir(), "s.yaml")
	os.WriteFile(scenario, []byte("name: s\n"), 0o644)
	load := []string{"--url", "ws://p/echo"}
	runFlagCases(t, "k8s", []string{"--image", "w:1"}, []flagCase{
		{"no workers", load, "--workers 0: want 1 to 100000 workers"},
		{"workers", append([]string{"--workers", "-2"}, load...), "--workers -2: want 1 to 100000"},
		{"workers not a number", append([]string{"--workers", "lots"}, load...), "--workers"},
		{"name", append([]string{"--workers", "2", "--name", "My_Run"}, load...), `--name "My_Run": want lower-case`},
		{"namespace", append([]string{"--workers", "2", "-n", "Bench"}, load...), `--namespace "Bench"`},
		{"port 0", append([]string{"--workers", "2", "--port", "0"}, load...), "--port 0: want 1 to 65535"},
		{"port", append([]string{"--workers", "2", "--port", "99999"}, load...), "--port 99999: want 1 to 65535"},
		{"resource name", append([]string{"--workers", "2", "--requests", "cores=2"}, load...), "--requests cores=2: want a resource among cpu, memory"},
		{"quantity", append([]string{"--workers", "2", "--limits", "memory=1GB"}, load...), "--limits memory=1GB: want a quantity"},
		{"not key=value", append([]string{"--workers", "2", "--requests", "cpu"}, load...), "--requests"},
		{"request above limit", append([]string{"--workers", "2", "--requests", "cpu=3", "--limits", "cpu=2"}, load...), "--requests cpu=3: want at most the limit cpu=2"},
		{"port range", append([]string{"--workers", "2", "--local-port-range", "60000-1024"}, load...), "--local-port-range 60000-1024: want LOW-HIGH"},
		{"spread", append([]string{"--workers", "2", "--spread", "sometimes"}, load...), "--spread sometimes: want preferred or required"},
		{"no load", []string{"--workers", "2"}, "no load: want the load (--url and the other load flags) or a scenario file"},
		{"load and scenario", append([]string{"--workers", "2", scenario}, load...), "--url ws://p/echo: want the load flags or a scenario file, not both"},
		{"two scenarios", []string{"--workers", "2", scenario, scenario}, "want at most one scenario file"},
		{"missing scenario", []string{"--workers", "2", "nothere.yaml"}, "scenario file: open nothere.yaml"},
		{"bad load flag", append([]string{"--workers", "2", "--window", "0"}, load...), "--window 0: want 1 to 65536"},
		{"load flag value", append([]string{"--workers", "2", "--conns", "many"}, load...), "--conns"},
		{"source ips", append([]string{"--workers", "2", "--source-ips", "10.0.0.2"}, load...), "--source-ips [10.0.0.2]: want none: a pod has one address"},
		{"unknown flag", append([]string{"--workers", "2", "--replicas", "3"}, load...), "--replicas"},
	})
	code, _, stderr := runCLI("k8s", "--workers", "2", "--url", "ws://p/echo")
	if code != exitUsage || !strings.Contains(stderr, `--image "": want the reference of a wsbench image`) {
		t.Errorf("no --image: exit %d, %q", code, stderr)
	}
}

// --help lists the k8s flags and names the load flags without listing
// loadgen's thirty.
func TestK8sHelp(t *testing.T) {
	code, stdout, _ := runCLI("k8s", "--help")
	flags, _, _ := strings.Cut(stdout, "Examples:")
	if code != exitOK || !strings.Contains(flags, "--workers N") || strings.Contains(flags, "--conns") ||
		!strings.Contains(stdout, "The load flags are those of 'wsbench loadgen'") {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
}
