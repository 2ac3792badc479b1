package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/results"
)

// The target by name, with a warm-up: the name is looked up once (dns),
// the warm-up and the resolve mode are in the parameters.
func TestLoadgenCLIResolveAndWarmup(t *testing.T) {
	port := strings.TrimPrefix(startEchoCLI(t), "127.0.0.1:")
	dir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runCLI("loadgen", "--url", "ws://localhost:"+port+"/echo", "--conns", "2", "--rate", "100",
		"--warmup", "300ms", "--duration", "500ms", "--out", dir, "-q")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	run, err := results.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := run.Summary
	if s.Connections.Opened != 2 || s.Histograms[results.MetricDNS].Count != 1 {
		t.Fatalf("connections %+v failures %v histograms %v: want 2 opened and one lookup", s.Connections, s.Failures, s.Histograms)
	}
	if s.Params["warmup"] != "300ms" || s.Params["resolve"] != "once" {
		t.Fatalf("params %v: want warmup=300ms resolve=once", s.Params)
	}
}

func TestLoadgenCLIResolveErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"warmup on hold", []string{"--url", "ws://127.0.0.1:9/echo", "--workload", "hold", "--warmup", "1s"}, exitUsage, "warmup 1s: only for the rtt, throughput and push"},
		{"warmup on ramp", []string{"--url", "ws://127.0.0.1:9/echo", "--workload", "ramp", "--warmup", "1s"}, exitUsage, "warmup"},
		{"negative warmup", []string{"--url", "ws://127.0.0.1:9/echo", "--warmup", "-1s"}, exitUsage, "--warmup"},
		// .invalid never resolves (RFC 6761); without a resolver at all the
		// lookup fails too, within the handshake timeout.
		{"name that does not resolve", []string{"--url", "ws://wsbench.invalid:9/echo", "--handshake-timeout", "2s", "--duration", "1s"},
			exitFailure, "wsbench loadgen: loadgen: resolving wsbench.invalid: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(append([]string{"loadgen", "-q", "--out", t.TempDir()}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d with %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}
