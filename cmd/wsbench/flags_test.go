package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// flagCase is one bad command line: it must exit 2 before doing anything,
// with a message naming the flag and the value (want).
type flagCase struct {
	name string
	args []string
	want string
}

func runFlagCases(t *testing.T, cmd string, base []string, tests []flagCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{cmd}, base...), tt.args...)
			code, _, stderr := runCLI(args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Fatalf("wsbench %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(args[1:], " "), code, stderr, tt.want)
			}
		})
	}
}

// An explicit value out of range is refused, not taken for the default: the
// load never starts (the URL's port is closed, so a run would exit 1).
func TestLoadgenFlagValues(t *testing.T) {
	runFlagCases(t, "loadgen", []string{"--url", "ws://127.0.0.1:1/echo", "-q"}, []flagCase{
		{"window 0", []string{"--window", "0"}, "--window 0: want 1 to 65536"},
		{"window negative", []string{"--window", "-3"}, "--window -3: want 1"},
		{"rate 0", []string{"--rate", "0"}, "--rate 0: want above 0"},
		{"rate absurd", []string{"--rate", "1e12"}, "--rate 1000000M: want above 0 and at most 10M"},
		{"duration 0", []string{"--duration", "0"}, "--duration 0s: want more than 0"},
		{"handshake-timeout 0", []string{"--handshake-timeout", "0"}, "--handshake-timeout 0s: want more than 0"},
		{"drain 0", []string{"--drain", "0s"}, "--drain 0s: want more than 0"},
		{"loops negative", []string{"--loops", "-1"}, "--loops -1: want 0 (one per CPU) or more"},
		{"conns 0", []string{"--conns", "0"}, "--conns 0: want 1 to 16777216"},
		{"conns beyond any process", []string{"--conns", "20M"}, "--conns 20M: want 1 to 16777216"},
		{"connect-rate absurd", []string{"--connect-rate", "1e9"}, "--connect-rate 1000M: want 0 (all at once) to 10M"},
		{"size 0", []string{"--size", "0"}, `"--size" flag: size "0": a size of 0`},
		{"size range below the header", []string{"--size", "8..64"}, "--size 8..64: the rtt workload needs at least 24 bytes"},
		{"size too large", []string{"--size", "1TiB"}, "--size 1TiB: too large, want at most 16MiB"},
		{"size above the frame limit", []string{"--size", "17MiB"}, "--size 17MiB: too large, want at most 16MiB"},
		{"size overflow", []string{"--size", "99999999999TiB"}, "too large, want at most 4EiB"},
		{"push size below the header", []string{"--workload", "push", "--size", "8"}, "--size 8B: the push workload needs at least 16"},
		{"push-rate 0", []string{"--workload", "push", "--push-rate", "0"}, "--push-rate 0: want above 0"},
		{"push-rate above the backend's", []string{"--workload", "push", "--push-rate", "2M"}, "--push-rate 2M: want above 0 and at most 1M"},
		{"ramp-factor 1", []string{"--ramp-factor", "1"}, "--ramp-factor 1: want more than 1"},
		{"ramp-factor NaN", []string{"--ramp-factor", "NaN"}, "--ramp-factor NaN: want more than 1"},
		{"step-duration 0", []string{"--step-duration", "0"}, "--step-duration 0s: want whole seconds"},
		{"slo 0", []string{"--slo", "0"}, "--slo 0s: want more than 0"},
		{"max-steps 0", []string{"--max-steps", "0"}, "--max-steps 0: want 1 to 100"},
		{"start-at far ahead", []string{"--start-at", "2999-01-01T00:00:00Z"}, "--start-at 2999-01-01T00:00:00Z"},
		{"port out of range", []string{"--url", "ws://127.0.0.1:99999/echo"}, `--url "ws://127.0.0.1:99999/echo": port 99999: want 1 to 65535`},
		{"port 0", []string{"--url", "ws://127.0.0.1:0/echo"}, "port 0: want 1 to 65535"},
		{"no host", []string{"--url", "ws://:9000/echo"}, "missing host"},
		{"no host at all", []string{"--url", "ws:///echo"}, "missing host"},
		{"scheme", []string{"--url", "https://127.0.0.1/echo"}, `scheme "https", want ws or wss`},
	})
}

// acceptCounter listens on loopback and counts connections, to show that
// a refused command line never sent load.
func acceptCounter(t *testing.T) (addr string, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = &atomic.Int64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return ln.Addr().String(), accepted
}

// notADir returns a path under a regular file: nothing can be created there,
// even by root.
func notADir(t *testing.T) string {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(file, "results")
}

// An --out that cannot be written is found before the load, not after it.
func TestLoadgenOutCheckedFirst(t *testing.T) {
	addr, accepted := acceptCounter(t)
	out := notADir(t)
	code, _, stderr := runCLI("loadgen", "--url", "ws://"+addr+"/echo", "--conns", "2", "--duration", "1m", "--out", out, "-q")
	if code != exitUsage || !strings.Contains(stderr, "--out "+out+": cannot create the results directory") {
		t.Fatalf("exit %d, stderr %q; want exit 2 naming --out", code, stderr)
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("%d connections reached the target; want none before --out is known to work", n)
	}
	dir := filepath.Join(t.TempDir(), "new", "run")
	if err := checkOutDir(dir); err != nil {
		t.Fatalf("checkOutDir(%s) = %v, want it created", dir, err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Fatalf("after the probe %s holds %v (%v), want it empty", dir, ents, err)
	}
}

func TestEchoFlagValues(t *testing.T) {
	runFlagCases(t, "echo", nil, []flagCase{
		{"listen port out of range", []string{"--listen", "127.0.0.1:99999"}, `--listen "127.0.0.1:99999": port "99999": want 0 (any free port) to 65535`},
		{"listen bad IPv4 and port", []string{"--listen", "999.1.1.1:99999"}, `--listen "999.1.1.1:99999"`},
		{"listen bad IPv4", []string{"--listen", "999.1.1.1:9000"}, `--listen "999.1.1.1:9000": host "999.1.1.1" is not an IP address or a host name`},
		{"listen bad host", []string{"--listen", "no such host:9000"}, `host "no such host" is not an IP address or a host name`},
		{"listen without port", []string{"--listen", "127.0.0.1"}, `--listen "127.0.0.1": want host:port`},
		{"listen negative port", []string{"--listen", ":-1"}, `port "-1"`},
		{"blackhole listen", []string{"--blackhole", "--listen", "127.0.0.1:70000"}, `--listen "127.0.0.1:70000"`},
		{"max-message 0", []string{"--max-message", "0"}, "--max-message 0B: want 1B to 1GiB"},
		{"max-message too large", []string{"--max-message", "1TiB"}, "--max-message 1TiB: want 1B to 1GiB"},
		{"drain 0", []string{"--drain", "0"}, "--drain 0s: want more than 0"},
		{"ping-interval negative", []string{"--ping-interval", "-1s"}, `duration "-1s": must not be negative`},
	})
}

// A well-formed address that cannot be bound is a failure of the moment
// (exit 1) that says why and what to do, not a usage error.
func TestListenAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	for _, args := range [][]string{
		{"echo", "--listen", addr},
		{"echo", "--blackhole", "--listen", addr},
		{"proxy", "--upstream", "127.0.0.1:1", "--listen", addr},
		{"proxy", "--upstream", "127.0.0.1:1", "--listen", "127.0.0.1:0", "--admin", addr},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			done := make(chan struct{})
			var code int
			var stderr string
			go func() { code, _, stderr = runCLI(args...); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("the command did not give up on a busy address")
			}
			if code != exitFailure || !strings.Contains(stderr, addr+": address in use") || !strings.Contains(stderr, "pick another port") {
				t.Fatalf("exit %d, stderr %q; want exit 1 naming %s as in use", code, stderr, addr)
			}
		})
	}
}

func TestProxyFlagValues(t *testing.T) {
	runFlagCases(t, "proxy", []string{"--upstream", "127.0.0.1:1"}, []flagCase{
		{"listen port out of range", []string{"--listen", "127.0.0.1:99999"}, `--listen "127.0.0.1:99999": port "99999"`},
		{"admin malformed", []string{"--admin", "localhost"}, `--admin "localhost": want host:port`},
		{"header-timeout 0", []string{"--header-timeout", "0"}, "--header-timeout 0s: want more than 0"},
		{"connect-timeout 0", []string{"--connect-timeout", "0"}, "--connect-timeout 0s: want more than 0"},
		{"send-timeout 0", []string{"--send-timeout", "0"}, "--send-timeout 0s: want more than 0"},
		{"fail-timeout 0", []string{"--fail-timeout", "0"}, "--fail-timeout 0s: want more than 0"},
		{"shutdown-grace 0", []string{"--shutdown-grace", "0"}, "--shutdown-grace 0s: want more than 0"},
		{"max-fails negative", []string{"--max-fails", "-2"}, "--max-fails -2: want 0 (never) or more"},
		{"max-header-bytes 0", []string{"--max-header-bytes", "0"}, "--max-header-bytes 0B: want 256B"},
		{"max-header-bytes too small", []string{"--max-header-bytes", "100"}, "--max-header-bytes 100B: want 256B (the smallest WebSocket handshake) to 1MiB"},
		{"max-header-bytes too large", []string{"--max-header-bytes", "1GiB"}, "--max-header-bytes 1GiB: want 256B"},
		{"buffer-size 0", []string{"--buffer-size", "0"}, "--buffer-size 0B: want 1B to 16MiB"},
		{"buffer-size too large", []string{"--buffer-size", "1TiB"}, "--buffer-size 1TiB: want 1B to 16MiB"},
		{"pollers negative", []string{"--pollers", "-1"}, "--pollers -1: want 0 (one per 4 CPUs) to 1024"},
		{"pollers absurd", []string{"--pollers", "100000"}, "--pollers 100000: want 0 (one per 4 CPUs) to 1024"},
		{"max-conns negative", []string{"--max-conns", "-1"}, `invalid argument "-1" for "--max-conns"`},
		{"max-lifetime negative", []string{"--max-lifetime", "-1s"}, `invalid argument "-1s" for "--max-lifetime"`},
	})
}

func TestRunFlagValues(t *testing.T) {
	runFlagCases(t, "run", []string{"--runtime", "local", "seed-configs"}, []flagCase{
		{"scale 0", []string{"--scale", "0"}, "--scale 0: want a factor above 0 and at most 1000"},
		{"scale negative", []string{"--scale", "-1"}, "--scale -1: want a factor above 0"},
		{"scale NaN", []string{"--scale", "NaN"}, "--scale NaN: want a factor above 0"},
		{"scale infinite", []string{"--scale", "Inf"}, "--scale +Inf: want a factor above 0"},
		{"count 0", []string{"--count", "0"}, "--count 0: want 1 to 100"},
		{"count absurd", []string{"--count", "1000"}, "--count 1000: want 1 to 100"},
		{"loadgen-workers 0", []string{"--loadgen-workers", "0"}, "--loadgen-workers 0: want 1 to 64"},
		{"loadgen-workers absurd", []string{"--loadgen-workers", "65"}, "--loadgen-workers 65: want 1 to 64"},
		{"out not writable", []string{"--out", notADir(t)}, "cannot create the results directory"},
	})
}

// compare's limits are parsed by the compare package; the command names
// the flag. report and cleanup take no numbers.
func TestCompareFlagValues(t *testing.T) {
	runFlagCases(t, "compare", []string{"a", "b"}, []flagCase{
		{"max falling", []string{"--max", "rtt.p99=-5%"}, "--max rtt.p99=-5%"},
		{"max not a number", []string{"--max", "rtt.p99=+NaN%"}, "--max rtt.p99=+NaN%"},
		{"min rising", []string{"--min", "throughput.msgs_per_s=+5%"}, "--min throughput.msgs_per_s=+5%"},
	})
}

// Where 0 has a meaning, --help says it.
func TestHelpSaysWhatZeroMeans(t *testing.T) {
	tests := []struct {
		cmd  string
		want []string
	}{
		{"loadgen", []string{"(0 = all at once)", "(0 = one per CPU)", "0 = silent", "0 = exact", "at most 16MiB"}},
		{"echo", []string{"(0: never;", "at most 1GiB"}},
		{"proxy", []string{"(0: never)", "(0: none)", "(0: no limit)", "(0: one per 4 CPUs", "(0: no delay)"}},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			code, out, _ := runCLI(tt.cmd, "--help")
			for _, w := range tt.want {
				if code != exitOK || !strings.Contains(out, w) {
					t.Errorf("%s --help (exit %d) lacks %q", tt.cmd, code, w)
				}
			}
		})
	}
}

// What the stack and the README pass must stay valid.
func TestListenAddrAccepted(t *testing.T) {
	for _, addr := range []string{":9000", ":0", "127.0.0.1:0", "0.0.0.0:9000", "[::1]:0", "[::]:8080", "localhost:9000", "backend-1:9000", "127.200.1.5:65535"} {
		t.Run(addr, func(t *testing.T) {
			if err := checkListenAddr("--listen", addr); err != nil {
				t.Fatalf("checkListenAddr(%q) = %v, want it accepted", addr, err)
			}
		})
	}
}

// More connections than files a process may open get a warning with the
// limit and what to do; the run itself may be a test of fd exhaustion.
func TestWarnFileLimit(t *testing.T) {
	tests := []struct {
		name  string
		conns int
		limit uint64
		warn  bool
	}{
		{"well below", 10, 1024, false},
		{"at the limit", 1024, 1024, true},
		{"15k under the usual 1024", 15000, 1024, true},
		{"15k under a raised limit", 15000, 1 << 20, false},
		{"limit unknown", 15000, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errb strings.Builder
			warnFileLimit(&env{stderr: &errb}, tt.conns, tt.limit)
			got := errb.String()
			warned := strings.Contains(got, fmt.Sprintf("--conns %d", tt.conns)) &&
				strings.Contains(got, fmt.Sprintf("limit of %d", tt.limit)) && strings.Contains(got, "ulimit -n")
			if warned != tt.warn || (got != "") != tt.warn {
				t.Fatalf("conns %d, limit %d: stderr %q, want a warning: %v", tt.conns, tt.limit, got, tt.warn)
			}
		})
	}
}
