package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// validYAML is a small scenario every error case below breaks in one
// place. Line numbers matter: the cases assert them.
const validYAML = `name: demo
description: a scenario for tests
backends:
  count: 2
  blackhole: 1
targets:
  - name: direct
    kind: direct
  - name: nginx
    kind: nginx
    config: map
    params: {read_timeout: 5s}
  - name: refproxy
    kind: refproxy
    args: [--read-timeout, 5s]
    upstreams: [backend-2, blackhole-1]
workloads:
  - name: hold
    targets: [direct, nginx, refproxy]
    load:
      workload: hold
      path: /echo?hello=1
      conns: 20
      duration: 7s
    kill: {backend: backend-2, after: 2s}
    expect:
      "*":
        - hold.median_drop == 5s ± 0.5s
      nginx:
        - proxy.cpu_us_per_msg < 50µs
        - hello.X-Real-IP absent
`

func TestParseValid(t *testing.T) {
	s, err := Parse("demo.yaml", []byte(validYAML))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "demo" || s.File != "demo.yaml" || len(s.Targets) != 3 || len(s.Workloads) != 1 {
		t.Fatalf("parsed %+v", s)
	}
	w := s.Workloads[0]
	if w.Load.Conns != 20 || time.Duration(w.Load.Duration) != 7*time.Second || w.Kill.Backend != "backend-2" {
		t.Errorf("load %+v kill %+v", w.Load, w.Kill)
	}
	e := w.Expect["*"][0]
	if e.Metric != "hold.median_drop" || e.Op != "==" || e.Value != 5 || e.Tol != 0.5 || e.Line != 28 {
		t.Errorf("expectation %+v, want hold.median_drop == 5 ± 0.5 at line 28", e)
	}
	if got := w.Expectations("nginx"); len(got) != 3 || got[0].Metric != "hold.median_drop" || got[2].Op != OpAbsent {
		t.Errorf("Expectations(nginx) = %v, want the wildcard one then nginx's two", got)
	}
	if got := s.Upstreams(s.Targets[1]); strings.Join(got, ",") != "backend-1,backend-2,blackhole-1" {
		t.Errorf("default upstreams %v", got)
	}
	if got := s.Upstreams(s.Targets[2]); strings.Join(got, ",") != "backend-2,blackhole-1" {
		t.Errorf("explicit upstreams %v", got)
	}
}

func TestParseDefaults(t *testing.T) {
	s, err := Parse("d.yaml", []byte("name: d\ntargets: [{name: a, kind: direct}, {name: b, kind: refproxy}]\nworkloads: [{name: w}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Backends.Count != 1 {
		t.Errorf("backends.count = %d, want the default 1", s.Backends.Count)
	}
	if got := strings.Join(s.Workloads[0].Targets, ","); got != "a,b" {
		t.Errorf("workload targets %q, want every target a,b", got)
	}
}

// TestParseErrors breaks validYAML in one place per case and checks that
// the error names the file, the line and the key.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replace old with new in validYAML ("" old: append new)
		want     string // the error must contain this ("file:line: key: …")
	}{
		{"unknown key with a suggestion", "      duration: 7s", "      duraton: 7s",
			"scenarios: t.yaml:24: workloads[0].load.duraton: unknown key (did you mean duration?)"},
		{"unknown key without one", "  count: 2", "  zzz: 2",
			"scenarios: t.yaml:4: backends.zzz: unknown key (known: args, blackhole, count, tls)"},
		{"bad count", "      conns: 20", "      conns: many",
			`scenarios: t.yaml:23: workloads[0].load.conns: count "many": not a number (want e.g. 50, 2000, 15k)`},
		{"bad duration", "      duration: 7s", "      duration: 7 parsecs",
			`scenarios: t.yaml:24: workloads[0].load.duration: duration "7 parsecs"`},
		{"bad whole number", "  count: 2", "  count: two",
			`scenarios: t.yaml:4: backends.count: want a whole number, got "two"`},
		{"bad bool", "      duration: 7s", "      duration: 7s\n      reconnect: often",
			`scenarios: t.yaml:25: workloads[0].load.reconnect: want true or false, got "often"`},
		{"list where a mapping belongs", "    load:\n", "    load: [1, 2]\n    xload:\n",
			"scenarios: t.yaml:20: workloads[0].load: want a mapping"},
		{"mapping where a list belongs", "    targets: [direct, nginx, refproxy]", "    targets: {a: b}",
			"scenarios: t.yaml:19: workloads[0].targets: want a list"},
		{"duplicate key", "      conns: 20", "      conns: 20\n      conns: 30",
			"scenarios: t.yaml:24: workloads[0].load.conns: duplicate key (first at line 23)"},
		{"bad unit for the metric", "hold.median_drop == 5s ± 0.5s", "hold.median_drop == 2KiB",
			`scenarios: t.yaml:28: workloads[0].expect.*[0]: expectation "hold.median_drop == 2KiB": hold.median_drop is a duration: value "2KiB"`},
		{"bad unit for the tolerance", "hold.median_drop == 5s ± 0.5s", "hold.median_drop == 5s ± 10%",
			`t.yaml:28: workloads[0].expect.*[0]: expectation "hold.median_drop == 5s ± 10%": tolerance: hold.median_drop is a duration`},
		{"unknown metric", "hold.median_drop == 5s ± 0.5s", "hold.medain_drop == 5s",
			`scenarios: t.yaml:28: workloads[0].expect.*[0]: expectation "hold.medain_drop == 5s": unknown metric "hold.medain_drop" (did you mean hold.median_drop?)`},
		{"bad operator", "hold.median_drop == 5s ± 0.5s", "hold.median_drop = 5s",
			`operator "=": did you mean ==?`},
		{"unknown target in a workload", "    targets: [direct, nginx, refproxy]", "    targets: [direct, ngnix]",
			`scenarios: t.yaml:19: workloads[0].targets[1]: "ngnix": no such target (did you mean nginx?)`},
		{"duplicate target", "  - name: refproxy\n", "  - name: nginx\n",
			`scenarios: t.yaml:13: targets[2].name: duplicate target name "nginx" (first at line 9)`},
		{"unknown kind", "    kind: refproxy", "    kind: refproxxy",
			`scenarios: t.yaml:14: targets[2].kind: "refproxxy": want direct, refproxy, nginx, haproxy, apache, caddy, command, image (did you mean refproxy?)`},
		{"unknown nginx config", "    config: map", "    config: mapp",
			`scenarios: t.yaml:11: targets[1].config: config "mapp": want plain, upgrade, map (did you mean map?)`},
		{"unknown nginx param", "{read_timeout: 5s}", "{read_timout: 5s}",
			"scenarios: t.yaml:12: targets[1].params.read_timout: unknown parameter (did you mean read_timeout?)"},
		{"bad nginx param", "{read_timeout: 5s}", "{read_timeout: 5s, limit_conn: lots}",
			`scenarios: t.yaml:12: targets[1].params.limit_conn: "lots": want a whole number from 1`},
		{"nginx buffers nginx would refuse", "{read_timeout: 5s}", "{buffer_size: 16k}",
			"targets[1].params.buffer_size: nginx would refuse this: its proxy_busy_buffers_size (2 × 16k) must fit in all proxy_buffers but one ((8-1) × 4k); set buffers too, e.g. buffers: 4 16k"},
		{"params on a refproxy", "    args: [--read-timeout, 5s]", "    params: {read_timeout: 5s}",
			"scenarios: t.yaml:15: targets[2].params: only nginx or haproxy or apache or caddy targets take params, this one is refproxy (refproxy: use args)"},
		{"reserved refproxy flag", "    args: [--read-timeout, 5s]", "    args: [--read-timeout, 5s, --upstream, x]",
			"scenarios: t.yaml:15: targets[2].args[2]: --upstream is set by the stack"},
		{"unknown upstream", "[backend-2, blackhole-1]", "[backend-3]",
			`scenarios: t.yaml:16: targets[2].upstreams[0]: "backend-3": no such backend (the scenario has backend-1, backend-2, blackhole-1)`},
		{"kill of an unknown backend", "{backend: backend-2, after: 2s}", "{backend: backend-9, after: 2s}",
			`scenarios: t.yaml:25: workloads[0].kill.backend: "backend-9": want an echo backend: backend-1, backend-2`},
		{"kill after the load", "{backend: backend-2, after: 2s}", "{backend: backend-2, after: 9s}",
			"scenarios: t.yaml:25: workloads[0].kill.after: 9s: want a time inside the load phase, above 0 and below its duration 7s"},
		{"expectation for a target not in the workload", "      nginx:\n", "      ngnix:\n",
			`scenarios: t.yaml:29: workloads[0].expect.ngnix: "ngnix": not a target of this workload`},
		{"proxy metric on a direct target", `      "*":` + "\n        - hold.median_drop == 5s ± 0.5s", `      "*":` + "\n        - proxy.cpu_us_per_msg < 1ms",
			"scenarios: t.yaml:28: workloads[0].expect.*[0]: proxy.cpu_us_per_msg: target direct is direct, it has no proxy to measure"},
		{"hello without hello=1", "      path: /echo?hello=1", "      path: /echo",
			"scenarios: t.yaml:31: workloads[0].expect.nginx[1]: hello.X-Real-IP: backends send hello messages only when asked: add hello=1 to load.path"},
		{"option of another workload", "      conns: 20", "      conns: 20\n      window: 4",
			"scenarios: t.yaml:24: workloads[0].load.window: applies to the throughput workload only, this one is hold"},
		{"unknown workload", "      workload: hold", "      workload: hodl",
			`scenarios: t.yaml:21: workloads[0].load.workload: "hodl": want rtt, throughput, push, hold (did you mean hold?)`},
		{"too many connections for one process", "      conns: 20", "      conns: 30k",
			"scenarios: t.yaml:23: workloads[0].load.conns: 30000 connections over 1 load generator(s) is 30000 each; a process may open at most 20,000 files here, so want workers: 2 or more"},
		{"explicit zero conns", "      conns: 20", "      conns: 0",
			"scenarios: t.yaml:23: workloads[0].load.conns: 0: want 1 to 16777216 connections"},
		{"explicit zero duration", "      duration: 7s", "      duration: 0s",
			"scenarios: t.yaml:24: workloads[0].load.duration: 0s: want more than 0"},
		{"explicit zero handshake timeout", "      duration: 7s", "      duration: 7s\n      handshake_timeout: 0",
			"scenarios: t.yaml:25: workloads[0].load.handshake_timeout: 0s: want more than 0"},
		{"explicit zero window", "      workload: hold", "      workload: throughput\n      window: 0",
			"scenarios: t.yaml:22: workloads[0].load.window: 0: want 1 to 65536 messages in flight"},
		{"explicit zero rate", "      workload: hold", "      workload: rtt\n      rate: 0",
			"scenarios: t.yaml:22: workloads[0].load.rate: 0: want above 0"},
		{"explicit zero push rate", "      workload: hold", "      workload: push\n      push_rate: 0",
			"scenarios: t.yaml:22: workloads[0].load.push_rate: 0: want above 0"},
		{"explicit zero size", "      workload: hold", "      workload: rtt\n      size: 0",
			`scenarios: t.yaml:22: workloads[0].load.size: size "0": a size of 0`},
		{"size range", "      workload: hold", "      workload: rtt\n      size: 8..64",
			"scenarios: t.yaml:22: workloads[0].load.size: 8..64: the rtt workload needs at least 24 bytes"},
		{"bad size list", "      workload: hold", "      workload: rtt\n      size: 64:9,16KiB:0",
			`scenarios: t.yaml:22: workloads[0].load.size: size "64:9,16KiB:0": weight "0" of 16KiB`},
		{"bad takeover", "      workload: hold", "      workload: rtt\n      compression: true\n      compression_context_takeover: maybe",
			`scenarios: t.yaml:23: workloads[0].load.compression_context_takeover: "maybe": want on or off`},
		{"takeover without compression", "      workload: hold", "      workload: rtt\n      compression_context_takeover: off",
			"scenarios: t.yaml:22: workloads[0].load.compression_context_takeover: off: needs --compression"},
		{"bad opcode", "      workload: hold", "      workload: rtt\n      opcode: utf8",
			`scenarios: t.yaml:22: workloads[0].load.opcode: "utf8": want binary or text`},
		{"bad subprotocol", "      workload: hold", "      workload: rtt\n      subprotocol: [chat, 'a b']",
			`scenarios: t.yaml:22: workloads[0].load.subprotocol: "a b": want a token`},
		{"small rtt size", "      workload: hold", "      workload: rtt\n      size: 8",
			"scenarios: t.yaml:22: workloads[0].load.size: 8B: the rtt workload needs at least 24 bytes"},
		{"size too large", "      conns: 20", "      conns: 20\n      size: 1TiB",
			"scenarios: t.yaml:24: workloads[0].load.size: 1TiB: too large, want at most 16MiB"},
		{"absurd connect rate", "      conns: 20", "      conns: 20\n      connect_rate: 20M",
			"scenarios: t.yaml:24: workloads[0].load.connect_rate: 20M: want 0 (all at once) to 10M connections/s"},
		{"explicit zero workers", "      conns: 20", "      conns: 20\n      workers: 0",
			"scenarios: t.yaml:24: workloads[0].load.workers: 0: want 1 to 64"},
		{"explicit zero backends", "  count: 2", "  count: 0",
			"scenarios: t.yaml:4: backends.count: 0: want 1 to 64 echo backends"},
		{"explicit zero kill time", "{backend: backend-2, after: 2s}", "{backend: backend-2, after: 0s}",
			"scenarios: t.yaml:25: workloads[0].kill.after: 0s: want a time inside the load phase"},
		{"nginx param 0", "{read_timeout: 5s}", "{read_timeout: 0}",
			`scenarios: t.yaml:12: targets[1].params.read_timeout: "0": want at least 1ms`},
		{"nginx limit_conn 0", "{read_timeout: 5s}", "{read_timeout: 5s, limit_conn: 0}",
			`scenarios: t.yaml:12: targets[1].params.limit_conn: "0": want a whole number from 1`},
		{"explicit rate on another workload", "      conns: 20", "      conns: 20\n      rate: 0",
			"scenarios: t.yaml:24: workloads[0].load.rate: applies to the rtt workload only, this one is hold"},
		{"bad header", "      conns: 20", "      conns: 20\n      headers: [NoColon]",
			`scenarios: t.yaml:24: workloads[0].load.headers[0]: "NoColon": want "Name: value"`},
		{"bad source ips", "      conns: 20", "      conns: 20\n      source_ips: 127.0.0.300",
			"scenarios: t.yaml:24: workloads[0].load.source_ips: loadgen: source ip"},
		{"bad path", "      path: /echo?hello=1", "      path: echo",
			`scenarios: t.yaml:22: workloads[0].load.path: "echo": want a request path`},
		{"tls backends behind a proxy", "  blackhole: 1", "  blackhole: 1\n  tls: true",
			"scenarios: t.yaml:6: backends.tls: target nginx is nginx, which speaks plain HTTP to its backends"},
		{"bad seed", "description: a scenario for tests", "description: a scenario for tests\nseeds: [S12]",
			`scenarios: t.yaml:3: seeds[0]: "S12": want a seed configuration S1 … S11`},
		{"bad name", "name: demo", "name: Demo Scenario",
			`scenarios: t.yaml:1: name: "Demo Scenario": want lowercase letters`},
		{"missing name", "name: demo\n", "",
			"scenarios: t.yaml: name: missing"},
		{"syntax error", "    kind: direct", "    kind: [direct",
			"scenarios: t.yaml:"},
		{"tab indentation", "      conns: 20", "\tconns: 20",
			"scenarios: t.yaml:22: found a tab character that violates indentation"},
		{"unquoted wildcard", `      "*":`, `      *:`,
			`scenarios: t.yaml:27: did not find expected alphabetic or numeric character (a bare * starts a YAML alias: quote the wildcard, "*":)`},
		{"a second document", "", "---\nname: other\n",
			"scenarios: t.yaml:32: a second YAML document; a scenario file holds one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := validYAML + tt.new
			if tt.old != "" {
				if !strings.Contains(validYAML, tt.old) {
					t.Fatalf("test bug: %q not in validYAML", tt.old)
				}
				text = strings.Replace(validYAML, tt.old, tt.new, 1)
			}
			_, err := Parse("t.yaml", []byte(text))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tt.want)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.File != "t.yaml" {
				t.Errorf("error %v is not a *scenarios.Error for t.yaml", err)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	text := strings.Replace(strings.Replace(validYAML, "      conns: 20", "      conns: many", 1), "  count: 2", "  cuont: 2", 1)
	_, err := Parse("t.yaml", []byte(text))
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "t.yaml:4: backends.cuont") || !strings.Contains(lines[1], "t.yaml:23: workloads[0].load.conns") {
		t.Errorf("want both problems, in line order, got:\n%v", err)
	}
}

func TestParseEmptyAndHuge(t *testing.T) {
	for _, tt := range []struct {
		name, data, want string
	}{
		{"empty", "", "scenarios: e.yaml: empty file"},
		{"blank", " \n\n", "scenarios: e.yaml: empty file"},
		{"scalar", "hello", "scenarios: e.yaml:1: want a mapping"},
		{"huge", strings.Repeat("#", MaxFileSize+1), "larger than the 1024 KiB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("e.yaml", []byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "demo.yaml")
	if err := os.WriteFile(p, []byte(validYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadFile(p)
	if err != nil || s.File != p {
		t.Fatalf("LoadFile: %v, file %q", err, s.File)
	}
	_, err = LoadFile(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "scenarios: ") {
		t.Errorf("missing file: %v", err)
	}
}

func TestResolve(t *testing.T) {
	for _, name := range []string{"hold-timeouts", "calibrate"} { // in the default suite, and on request
		s, err := Resolve(name)
		if err != nil || s.Name != name || s.File != "builtin:"+name+".yaml" {
			t.Fatalf("Resolve(%s) = %v, %v", name, s, err)
		}
	}
	p := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(p, []byte(validYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := Resolve(p); err != nil || s.Name != "demo" {
		t.Fatalf("Resolve(file) = %v, %v", s, err)
	}
	_, err := Resolve("hold-timeout")
	if err == nil || !strings.Contains(err.Error(), "neither a built-in scenario (seed-configs, handshake, throughput, hold-timeouts, balance, backend-failure, calibrate, soak, proxies, protocol) nor a file; did you mean hold-timeouts?") {
		t.Errorf("Resolve(typo) = %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: [x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(bad); err == nil || !strings.Contains(err.Error(), bad+":") {
		t.Errorf("Resolve(bad file) = %v, want the file's own parse error", err)
	}
}

func TestScaled(t *testing.T) {
	s, err := Parse("demo.yaml", []byte(validYAML+"  - name: default-duration\n    targets: [nginx]\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Scaled(2.5)
	w := c.Workloads[0]
	if got := time.Duration(w.Load.Duration); got != 17500*time.Millisecond {
		t.Errorf("scaled duration %s, want 17.5s", got)
	}
	if got := time.Duration(w.Kill.After); got != 5*time.Second {
		t.Errorf("scaled kill.after %s, want 5s", got)
	}
	if got := time.Duration(c.Workloads[1].Load.Duration); got != 25*time.Second {
		t.Errorf("scaled default duration %s, want 25s (2.5 × the load generator's 10s)", got)
	}
	// The original is untouched, and the copy shares nothing with it.
	if time.Duration(s.Workloads[0].Load.Duration) != 7*time.Second || time.Duration(s.Workloads[0].Kill.After) != 2*time.Second {
		t.Errorf("Scaled changed the original: %+v", s.Workloads[0])
	}
	c.Targets[1].Params["read_timeout"] = "9s"
	c.Workloads[0].Expect["*"][0].Value = 42
	c.Workloads[0].Targets[0] = "x"
	if s.Targets[1].Params["read_timeout"] != "5s" || s.Workloads[0].Expect["*"][0].Value != 5 || s.Workloads[0].Targets[0] != "direct" {
		t.Error("the scaled copy shares maps or slices with the original")
	}
	// What is measured is not scaled.
	if c.Workloads[0].Expect["*"][0].Tol != 0.5 || c.Targets[1].Params["read_timeout"] != "9s" {
		t.Error("expectations or params changed by scaling")
	}
	for _, f := range []float64{0, -1, 1} {
		if d := time.Duration(s.Scaled(f).Workloads[0].Load.Duration); d != 7*time.Second {
			t.Errorf("Scaled(%v) duration %s, want it unscaled", f, d)
		}
	}
}
