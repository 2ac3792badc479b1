package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The user's own proxy: config_file and mounts are read relative to the
// scenario file, a relative command is made absolute, and each problem
// names the scenario's line — and the user file's line when the file
// breaks config_file's rule.
func TestParseOwnProxy(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("my.conf", "http {\n upstream wsbench_backends { server a:1; }\n server { listen 80; }\n}\n")
	write("two-listens.conf", "http {\n upstream wsbench_backends { server a:1; }\n server { listen 80; }\n server { listen 81; }\n}\n")
	write("envoy.yaml", "static_resources: {}\n")
	head := "name: own\ntargets:\n"
	tail := "workloads:\n  - {name: rtt, load: {workload: rtt}}\n"
	parse := func(targets string) (*Scenario, error) {
		p := filepath.Join(dir, "s.yaml")
		write("s.yaml", head+targets+tail)
		return LoadFile(p)
	}
	s, err := parse(`  - {name: a, kind: nginx, config_file: my.conf}
  - {name: b, kind: command, command: ./bin/proxy, args: [--listen, "{{listen}}"], port: 9000}
  - {name: c, kind: image, image: envoyproxy/envoy:v1, mounts: {/etc/envoy/envoy.yaml: envoy.yaml}}
`)
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Targets[0].Driver().ConfigText) == "" || s.Targets[1].Command != filepath.Join(dir, "bin/proxy") ||
		string(s.Targets[2].Driver().Mounts["/etc/envoy/envoy.yaml"]) != "static_resources: {}\n" {
		t.Errorf("targets %+v", s.Targets)
	}
	for _, tc := range []struct{ targets, want string }{
		{"  - {name: a, kind: nginx, config_file: nope.conf}\n", "s.yaml:3: targets[0].config_file: open " + dir + "/nope.conf: no such file or directory (a path relative to the scenario file)"},
		{"  - {name: a, kind: nginx,\n     config_file: two-listens.conf}\n", "s.yaml:4: targets[0].config_file: two-listens.conf:4: a second listen (the first is at line 3)"},
		{"  - {name: a, kind: nginx, config: map, config_file: my.conf}\n", `targets[0].config: "map": a target with config_file runs that file, not a variant`},
		{"  - {name: a, kind: nginx, config_file: my.conf, params: {read_timeout: 1s}}\n", "targets[0].params: a target with config_file is configured by that file"},
		{"  - {name: a, kind: refproxy, config_file: my.conf}\n", "targets[0].config_file: only nginx or haproxy or apache or caddy targets take config_file, this one is refproxy"},
		{"  - {name: a, kind: command}\n", "s.yaml:3: targets[0].command: missing: kind command runs a local binary"},
		{"  - {name: a, kind: command, command: x, args: [\"{{lisen}}\"]}\n", `targets[0].args[0]: "{{lisen}}": unknown placeholder {{lisen}}; want {{listen}}, {{port}}, {{upstreams}}, {{upstream}}`},
		{"  - {name: a, kind: command, command: x, port: 70000}\n", "targets[0].port: 70000: want 1-65535"},
		{"  - {name: a, kind: image}\n", "targets[0].image: missing: kind image runs a local image"},
		{"  - {name: a, kind: image, image: x, mounts: {etc/x: envoy.yaml}}\n", `targets[0].mounts: "etc/x": want a clean absolute path`},
		{"  - {name: a, kind: nginx, config: map, image: x}\n", "targets[0].image: only image targets take image, this one is nginx"},
	} {
		_, err := parse(tc.targets)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", strings.TrimSpace(tc.targets), err, tc.want)
		}
	}
	if _, err := Parse("builtin:x.yaml", []byte(head+"  - {name: a, kind: nginx, config_file: my.conf}\n"+tail)); err == nil || !strings.Contains(err.Error(), "a built-in scenario names no files") {
		t.Errorf("builtin with a config_file: %v", err)
	}
}

// The README's examples of a user's own proxy are valid scenarios.
func TestOwnProxyExamplesParse(t *testing.T) {
	for _, p := range []string{"../docs/examples/envoy/scenario.yaml", "../docs/examples/own-repo/ws.yaml"} {
		s, err := LoadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if s.Targets[0].Kind != "image" {
			t.Errorf("%s: first target is %s, want kind image", p, s.Targets[0].Kind)
		}
	}
}
