package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/syncbuf"
	"github.com/wsbench/wsbench/results"
)

func TestUnknownCommandAndHelp(t *testing.T) {
	code, _, stderr := runCLI("frobnicate")
	if code != exitUsage || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: exit %d, %q", code, stderr)
	}
	code, stdout, _ := runCLI("--help")
	if code != exitOK || !strings.Contains(stdout, "loadgen") || !strings.Contains(stdout, "echo") {
		t.Fatalf("--help: exit %d, %q", code, stdout)
	}
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			code, stdout, _ := runCLI(name, "--help")
			if code != exitOK || !strings.Contains(stdout, "Examples:") || !strings.Contains(stdout, "wsbench "+name) {
				t.Fatalf("%s --help: exit %d, want examples:\n%s", name, code, stdout)
			}
		})
	}
}

// A bad flag or value exits 2 with a message that names it.
func TestBadFlagsNameTheFlag(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{args: []string{"loadgen", "--url", "ws://x/", "--conns", "lots"}, want: "--conns"},
		{args: []string{"loadgen", "--url", "ws://x/", "--size", "12parsecs"}, want: "--size"},
		{args: []string{"loadgen", "--url", "ws://x/", "--duration", "soon"}, want: "--duration"},
		{args: []string{"loadgen", "--url", "ws://x/", "--source-ips", "10.0.0.9-10.0.0.1"}, want: "--source-ips"},
		{args: []string{"loadgen", "--url", "http://x/"}, want: "scheme"},
		{args: []string{"loadgen"}, want: "url"},
		{args: []string{"loadgen", "--url", "ws://x/", "--bogus"}, want: "--bogus"},
		{args: []string{"echo", "--max-message", "huge"}, want: "--max-message"},
		{args: []string{"echo", "--tls-cert", "c.pem"}, want: "--tls-key"},
		{args: []string{"version", "extra"}, want: "no arguments"},
		{args: []string{"run", "--image", "squid=squid:6"}, want: "--image"},
		{args: []string{"run", "--image", "nginx"}, want: "--image"},
		{args: []string{"run", "--install", "maybe"}, want: "--install"},
		{args: []string{"doctor", "--runtime", "vm"}, want: "--runtime"},
		{args: []string{"doctor", "--install=sometimes"}, want: "--install"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 naming %q", code, stderr, tt.want)
			}
		})
	}
}

// startEchoCLI runs `wsbench echo` in-process and returns its address once
// it prints the line the container stack waits for.
func startEchoCLI(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncbuf.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"echo", "--listen", "127.0.0.1:0", "--id", "cli-echo"}, args...), &env{stdout: out, stderr: io.Discard})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("wsbench echo did not stop after cancel")
		}
	})
	re := regexp.MustCompile(`wsbench echo: listening on (\S+) as cli-echo`)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("no listening line from wsbench echo; output %q", out.String())
	return ""
}

// The CLI end to end: echo and loadgen, results written and readable, the
// report printed.
func TestLoadgenCLIWritesResults(t *testing.T) {
	addr := startEchoCLI(t)
	dir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runCLI("loadgen", "--url", "ws://"+addr+"/echo", "--conns", "4", "--rate", "200",
		"--duration", "1s", "--out", dir)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "rtt") || !strings.Contains(stderr, "results in "+dir) {
		t.Fatalf("report missing:\nstdout %s\nstderr %s", stdout, stderr)
	}
	run, err := results.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s := run.Summary; s.Connections.Opened != 4 || s.Backends["cli-echo"] != 4 || s.Tool.Name != "wsbench" || s.Host.Cores == 0 {
		t.Fatalf("summary: %+v %+v %+v", s.Connections, s.Tool, s.Host)
	}
	for _, f := range []string{"summary.json", "rtt.hgrm", "rtt.hlog", "timeseries.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
}

// No connection at all is a failure with the cause and what to do.
func TestLoadgenCLINoConnection(t *testing.T) {
	addr := startEchoCLI(t)
	dir := t.TempDir()
	code, _, stderr := runCLI("loadgen", "--url", "ws://"+addr+"/echo", "--conns", "2", "--duration", "1s",
		"--header", "Sec-WebSocket-Version: 7", "--out", dir, "-q")
	if code != exitFailure || !strings.Contains(stderr, "http_426") {
		t.Fatalf("exit %d, stderr %q; want 1 naming http_426", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s results.Summary
	if err := json.Unmarshal(b, &s); err != nil || s.Failures["http_426"] != 2 {
		t.Fatalf("summary failures %v (%v)", s.Failures, err)
	}
}

// Ctrl-C keeps what was measured, marked interrupted, and exits 130.
func TestLoadgenCLIInterrupted(t *testing.T) {
	addr := startEchoCLI(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(1200*time.Millisecond, cancel)
	var out, errb bytes.Buffer
	code := run(ctx, []string{"loadgen", "--url", "ws://" + addr + "/echo", "--conns", "2", "--rate", "100",
		"--duration", "1m", "--out", dir, "-q"}, &env{stdout: &out, stderr: &errb})
	if code != 130 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	s, err := results.ReadSummary(dir)
	if err != nil || !s.Interrupted || s.Messages.Received == 0 {
		t.Fatalf("interrupted summary %+v, %v", s, err)
	}
}
