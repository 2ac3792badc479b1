package driver_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/driver"
	"github.com/wsbench/wsbench/internal/testenv"
)

var userEnv = driver.Env{Listen: "127.0.0.1:18080", Upstreams: []string{"127.0.0.1:19001", "127.0.0.1:19002", "127.0.0.1:19003"}}

func userConfig(t *testing.T, kind, file string) ([]byte, *driver.Source, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("../harness/testdata/userproxy", file))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := driver.Lookup(kind)
	return d.(driver.UserConfigurer).UserConfig(file, data, userEnv)
}

// The nginx rewrite changes exactly the upstream's servers and the listen
// address, keeps every directive on its line, and nginx -t accepts it.
func TestNginxUserConfig(t *testing.T) {
	out, src, err := userConfig(t, "nginx", "my-nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile("../harness/testdata/userproxy/my-nginx.conf")
	want := strings.NewReplacer(
		"server app-1.internal:3000 max_fails=3;", "server 127.0.0.1:19001 max_fails=3; server 127.0.0.1:19002 max_fails=3; server 127.0.0.1:19003 max_fails=3;",
		"server app-2.internal:3000 max_fails=3;", "",
		"listen 80;", "listen 127.0.0.1:18080;").Replace(string(orig))
	if string(out) != want {
		t.Errorf("rewritten:\n%s\nwant:\n%s", out, want)
	}
	if n, m := strings.Count(string(out), "\n"), strings.Count(string(orig), "\n"); n != m || src.Lines[n] != n+1 {
		t.Errorf("%d lines, want %d, each where it was", n, m)
	}
	bin := testenv.Program(t, "nginx", "WSBENCH_REQUIRE_NGINX")
	conf := filepath.Join(t.TempDir(), "nginx.conf")
	if err := os.WriteFile(conf, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(bin, "-t", "-e", "stderr", "-c", conf).CombinedOutput(); err != nil {
		t.Errorf("nginx -t: %v\n%s", err, b)
	}
}

func TestHaproxyUserConfig(t *testing.T) {
	out, src, err := userConfig(t, "haproxy", "my-haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile("../harness/testdata/userproxy/my-haproxy.cfg")
	want := strings.NewReplacer(
		"    server app1 app-1.internal:3000 check inter 2s\n", "    server wsbench-1 127.0.0.1:19001 check inter 2s\n    server wsbench-2 127.0.0.1:19002 check inter 2s\n    server wsbench-3 127.0.0.1:19003 check inter 2s\n",
		"    server app2 app-2.internal:3000 check inter 2s\n", "\n",
		"bind :80", "bind 127.0.0.1:18080").Replace(string(orig))
	if string(out) != want {
		t.Errorf("rewritten:\n%s\nwant:\n%s", out, want)
	}
	// Lines 21-23 are the first server's (line 21), 24 its second's (22).
	if got := src.Lines[20:24]; got[0] != 21 || got[2] != 21 || got[3] != 22 {
		t.Errorf("line map around the servers %v, want [21 21 21 22]", got)
	}
	bin := testenv.Program(t, "haproxy", "WSBENCH_REQUIRE_HAPROXY")
	conf := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(conf, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(bin, "-c", "-f", conf).CombinedOutput(); err != nil {
		t.Errorf("haproxy -c: %v\n%s", err, b)
	}
}

// A file the rule cannot be applied to is refused with its name and line.
func TestUserConfigRuleErrors(t *testing.T) {
	for _, tc := range []struct{ name, kind, conf, want string }{
		{"no upstream", "nginx", "http { server { listen 80; } }", "my.conf: no `upstream wsbench_backends"},
		{"two listens", "nginx", "http {\n upstream wsbench_backends { server a:1; }\n server { listen 80; }\n server { listen 81; }\n}", "my.conf:4: a second listen (the first is at line 3)"},
		{"no server", "nginx", "http {\n upstream wsbench_backends {\n least_conn;\n }\n server { listen 80; } }", "my.conf:2: upstream wsbench_backends has no server line"},
		{"ssl", "nginx", "http { upstream wsbench_backends { server a:1; }\n server { listen 443 ssl; } }", "my.conf:2: listen … ssl: TLS is not supported"},
		{"unclosed", "nginx", "http {\n upstream wsbench_backends { server a:1; }\n", "my.conf:1: block not closed"},
		{"no backend", "haproxy", "frontend f\n bind :80\n default_backend b\nbackend b\n server s a:1\n", "my.conf: no `backend wsbench_backends` section"},
		{"two binds", "haproxy", "frontend f\n bind :80\n bind :81\nbackend wsbench_backends\n server s a:1\n", "my.conf:3: a second bind (the first is at line 2)"},
		{"no haproxy server", "haproxy", "frontend f\n bind :80\nbackend wsbench_backends\n balance roundrobin\n", "my.conf:3: backend wsbench_backends has no server line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := driver.Lookup(tc.kind)
			_, _, err := d.(driver.UserConfigurer).UserConfig("my.conf", []byte(tc.conf), userEnv)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %v, want %q…", err, tc.want)
			}
		})
	}
}

func TestSourceMap(t *testing.T) {
	src := &driver.Source{File: "./my.cfg", Lines: []int{1, 2, 2, 2, 3}}
	got := src.Map("[ALERT] parsing [/etc/haproxy/haproxy.cfg:5] : unknown keyword 'x'\nhaproxy -c -f /etc/haproxy/haproxy.cfg", "/etc/haproxy/haproxy.cfg")
	want := "[ALERT] parsing [./my.cfg:3] : unknown keyword 'x'\nhaproxy -c -f ./my.cfg"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
