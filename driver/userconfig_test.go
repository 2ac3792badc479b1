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

// writeConf writes a rewritten configuration for a proxy's own check.
func writeConf(t *testing.T, name string, data []byte) string {
	t.Helper()
	conf := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(conf, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

// The apache rewrite replaces the balancer's members (the first member's
// scheme, quotes and parameters kept), the Listen address and the virtual
// host's port, maps the added members to the first one's line, and
// apache2 -t accepts the result.
func TestApacheUserConfig(t *testing.T) {
	out, src, err := userConfig(t, "apache", "my-httpd.conf")
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile("../harness/testdata/userproxy/my-httpd.conf")
	member := func(addr string) string {
		return `        BalancerMember "http://` + addr + `" upgrade=websocket timeout=1`
	}
	want := strings.NewReplacer(
		member("app-1.internal:3000")+"\n", member("127.0.0.1:19001")+"\n"+member("127.0.0.1:19002")+"\n"+member("127.0.0.1:19003")+"\n",
		member("app-2.internal:3000")+"\n", "\n",
		"Listen 80\n", "Listen 127.0.0.1:18080\n",
		"<VirtualHost *:80>", "<VirtualHost *:18080>").Replace(string(orig))
	if string(out) != want {
		t.Errorf("rewritten:\n%s\nwant:\n%s", out, want)
	}
	// Lines 26-28 are the first member's (line 26), 29 its second's (27).
	if got := src.Lines[25:29]; got[0] != 26 || got[2] != 26 || got[3] != 27 {
		t.Errorf("line map around the members %v, want [26 26 26 27]", got)
	}
	bin := testenv.Program(t, "apache2", "WSBENCH_REQUIRE_APACHE")
	if b, err := exec.Command(bin, "-t", "-f", writeConf(t, "httpd.conf", out)).CombinedOutput(); err != nil {
		t.Errorf("apache2 -t: %v\n%s", err, b)
	}
}

// The caddy rewrite replaces the upstream wsbench_backends and the site
// address, adds the harness's global options at the end of the file's
// global block (mapped to its "}"), and caddy validate accepts it.
func TestCaddyUserConfig(t *testing.T) {
	out, src, err := userConfig(t, "caddy", "my.Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile("../harness/testdata/userproxy/my.Caddyfile")
	want := strings.NewReplacer(
		"reverse_proxy wsbench_backends {", "reverse_proxy 127.0.0.1:19001 127.0.0.1:19002 127.0.0.1:19003 {",
		"ws.example.com {", "http://:18080 {",
		"\tgrace_period 1s\n}", "\tgrace_period 1s\n\t# added by wsbench: no admin endpoint, no automatic HTTPS, the site on the harness's address\n"+
			"\tadmin off\n\tauto_https off\n\tpersist_config off\n\tdefault_bind 127.0.0.1\n}").Replace(string(orig))
	if string(out) != want {
		t.Errorf("rewritten:\n%s\nwant:\n%s", out, want)
	}
	// Lines 6-11 are the global block's "}" (line 6), 12 the line after it.
	if got := src.Lines[5:12]; got[0] != 6 || got[5] != 6 || got[6] != 7 {
		t.Errorf("line map around the global options %v, want [6 6 6 6 6 6 7]", got)
	}
	caddyValidate(t, out)
}

func caddyValidate(t *testing.T, conf []byte) {
	t.Helper()
	bin := testenv.Program(t, "caddy", "WSBENCH_REQUIRE_CADDY")
	cmd := exec.Command(bin, "validate", "--adapter", "caddyfile", "--config", writeConf(t, "Caddyfile", conf))
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("caddy validate: %v\n%s", err, b)
	}
}

// The other ways a Caddyfile may name the upstream or lay out its blocks.
func TestCaddyUserConfigForms(t *testing.T) {
	for _, tc := range []struct{ name, conf, want string }{
		{"no global options", ":80 {\n\treverse_proxy wsbench_backends\n}\n",
			"{\n\t# added by wsbench: no admin endpoint, no automatic HTTPS, the site on the harness's address\n\tadmin off\n\tauto_https off\n\tpersist_config off\n\tdefault_bind 127.0.0.1\n}\n" +
				"http://:18080 {\n\treverse_proxy 127.0.0.1:19001 127.0.0.1:19002 127.0.0.1:19003\n}\n"},
		{"to, matcher, snippet, no braces", "(common) {\n\theader X-Via wsbench\n}\nexample.com\nimport common\n@ws header Connection *Upgrade*\nreverse_proxy @ws {\n\tto wsbench_backends\n\tlb_policy first\n}\nreverse_proxy /other/* \"other:80\"\n",
			"\treverse_proxy @ws {\n\tto 127.0.0.1:19001 127.0.0.1:19002 127.0.0.1:19003\n"},
		{"quoted, continued, heredoc", "{\n\tgrace_period 1s\n}\n\"ws.example.com\" {\n\trespond /hi <<TXT\n\t\tnot a reverse_proxy wsbench_backends {\n\t\tTXT 200\n\treverse_proxy \\\n\t\twsbench_backends\n}\n",
			"http://:18080 {\n\trespond /hi <<TXT\n\t\tnot a reverse_proxy wsbench_backends {\n\t\tTXT 200\n\treverse_proxy \\\n\t\t127.0.0.1:19001 127.0.0.1:19002 127.0.0.1:19003\n}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := driver.Lookup("caddy")
			out, src, err := d.(driver.UserConfigurer).UserConfig("my.conf", []byte(tc.conf), userEnv)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), strings.TrimPrefix(tc.want, "\t")) {
				t.Errorf("rewritten:\n%s\nwant it to hold:\n%s", out, tc.want)
			}
			if n := strings.Count(string(out), "\n") + 1; len(src.Lines) != n || src.Lines[n-1] != strings.Count(tc.conf, "\n")+1 {
				t.Errorf("line map %v for %d lines: want the last line the file's last", src.Lines, n)
			}
			caddyValidate(t, out)
		})
	}
}

// The other ways an httpd.conf may write the balancer, its members and
// its virtual hosts.
func TestApacheUserConfigForms(t *testing.T) {
	head := "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\nLoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n" +
		"LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so\nLoadModule proxy_http_module /usr/lib/apache2/modules/mod_proxy_http.so\n" +
		"LoadModule proxy_balancer_module /usr/lib/apache2/modules/mod_proxy_balancer.so\nLoadModule slotmem_shm_module /usr/lib/apache2/modules/mod_slotmem_shm.so\n" +
		"LoadModule lbmethod_byrequests_module /usr/lib/apache2/modules/mod_lbmethod_byrequests.so\nServerName localhost\nErrorLog /dev/stderr\n"
	for _, tc := range []struct{ name, conf, want string }{
		{"unquoted, ws://, path, continued, no vhost", "Listen 10.0.0.1:80 http\n<Proxy balancer://wsbench_backends>\n  BalancerMember ws://a:1/socket \\\n    timeout=5\n  BalancerMember ws://b:1/socket\n</Proxy>\nProxyPass / balancer://wsbench_backends/\n",
			"Listen 127.0.0.1:18080 http\n<Proxy balancer://wsbench_backends>\n  BalancerMember ws://127.0.0.1:19001/socket timeout=5\n  BalancerMember ws://127.0.0.1:19002/socket timeout=5\n  BalancerMember ws://127.0.0.1:19003/socket timeout=5\n\n\n</Proxy>\n"},
		{"vhosts without a port, two of them", "Listen 80\n<VirtualHost _default_ *>\n<Proxy 'balancer://wsbench_backends/'>\nBalancerMember http://a:1\n</Proxy>\nProxyPass / balancer://wsbench_backends/\n</VirtualHost>\n<VirtualHost *:80>\nServerName b.example.com\n</VirtualHost>\n",
			"<VirtualHost *:18080>\n<Proxy 'balancer://wsbench_backends/'>\nBalancerMember http://127.0.0.1:19001\nBalancerMember http://127.0.0.1:19002\nBalancerMember http://127.0.0.1:19003\n</Proxy>\nProxyPass / balancer://wsbench_backends/\n</VirtualHost>\n<VirtualHost *:18080>\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := driver.Lookup("apache")
			out, src, err := d.(driver.UserConfigurer).UserConfig("my.conf", []byte(head+tc.conf), userEnv)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("rewritten:\n%s\nwant it to hold:\n%s", out, tc.want)
			}
			if n := strings.Count(string(out), "\n") + 1; len(src.Lines) != n || src.Lines[n-1] != strings.Count(head+tc.conf, "\n")+1 {
				t.Errorf("line map %v for %d lines: want the last line the file's last", src.Lines, n)
			}
			bin := testenv.Program(t, "apache2", "WSBENCH_REQUIRE_APACHE")
			if b, err := exec.Command(bin, "-t", "-f", writeConf(t, "httpd.conf", out)).CombinedOutput(); err != nil {
				t.Errorf("apache2 -t: %v\n%s", err, b)
			}
		})
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
		{"no balancer", "apache", "Listen 80\n<Proxy balancer://ws>\n BalancerMember http://a:1\n</Proxy>\n", `my.conf: no <Proxy "balancer://wsbench_backends"> section`},
		{"second balancer", "apache", "Listen 80\n<Proxy balancer://wsbench_backends>\n BalancerMember http://a:1\n</Proxy>\n<Proxy \"balancer://wsbench_backends\">\n</Proxy>\n", "my.conf:5: a second <Proxy"},
		{"no member", "apache", "Listen 80\n<Proxy balancer://wsbench_backends>\n ProxySet lbmethod=bybusyness\n</Proxy>\n", `my.conf:2: <Proxy "balancer://wsbench_backends"> has no BalancerMember line`},
		{"member outside", "apache", "Listen 80\n<Proxy balancer://wsbench_backends>\n BalancerMember http://a:1\n</Proxy>\nBalancerMember balancer://wsbench_backends http://b:1\n", "my.conf:5: BalancerMember balancer://wsbench_backends outside its <Proxy> section"},
		{"two Listens", "apache", "Listen 80\n<Proxy balancer://wsbench_backends>\n BalancerMember http://a:1\n</Proxy>\n<IfModule ssl_module>\n  Listen 443\n</IfModule>\n", "my.conf:6: a second Listen (the first is at line 1)"},
		{"no Listen", "apache", "<Proxy balancer://wsbench_backends>\n BalancerMember http://a:1\n</Proxy>\n", "my.conf: no Listen directive"},
		{"SSLEngine", "apache", "Listen 80\n<Proxy balancer://wsbench_backends>\n BalancerMember http://a:1\n</Proxy>\n<VirtualHost *:80>\n  sslengine On\n</VirtualHost>\n", "my.conf:6: SSLEngine On: TLS is not supported"},
		{"Listen https", "apache", "Listen 443 https\n<Proxy balancer://wsbench_backends>\n BalancerMember http://a:1\n</Proxy>\n", "my.conf:1: Listen … https: TLS is not supported"},
		{"vhost port", "apache", "Listen 80\n<Proxy balancer://wsbench_backends>\n BalancerMember http://a:1\n</Proxy>\n<VirtualHost *:80 *:8443>\n</VirtualHost>\n", "my.conf:5: <VirtualHost *:8443>: port 8443, but the file's one Listen (line 1) is port 80"},
		{"https member", "apache", "Listen 80\n<Proxy balancer://wsbench_backends>\n BalancerMember https://a:1\n</Proxy>\n", "my.conf:3: BalancerMember https://a:1: the echo backends speak plain HTTP"},
		{"member without URL", "apache", "Listen 80\n<Proxy balancer://wsbench_backends>\n BalancerMember a:1\n</Proxy>\n", `my.conf:3: BalancerMember "a:1": want a URL`},
		{"no site", "caddy", "{\n\tadmin off\n}\n(snip) {\n\treverse_proxy wsbench_backends\n}\n", "my.conf: no site block"},
		{"two sites", "caddy", ":80 {\n\treverse_proxy wsbench_backends\n}\n:81 {\n\trespond hi\n}\n", "my.conf:4: a second site block (the first is at line 1)"},
		{"two addresses", "caddy", "a.example.com,\n  b.example.com {\n\treverse_proxy wsbench_backends\n}\n", "my.conf:2: site block with more than one address (a.example.com, b.example.com)"},
		{"no marker", "caddy", ":80 {\n\treverse_proxy app-1:3000 app-2:3000\n}\n", "my.conf: no `reverse_proxy wsbench_backends`"},
		{"marker with others", "caddy", ":80 {\n\treverse_proxy wsbench_backends {\n\t\tto app-3:3000\n\t}\n}\n", "my.conf:2: reverse_proxy: wsbench_backends stands for every echo backend; give it as the only upstream, not with 1 others"},
		{"second marker", "caddy", ":80 {\n\thandle /a {\n\t\treverse_proxy wsbench_backends\n\t}\n\treverse_proxy wsbench_backends\n}\n", "my.conf:5: a second reverse_proxy wsbench_backends (the first is at line 3)"},
		{"marker with scheme", "caddy", ":80 {\n\treverse_proxy http://wsbench_backends\n}\n", `my.conf:2: reverse_proxy upstream "http://wsbench_backends": write the bare word`},
		{"bind", "caddy", ":80 {\n\tbind 10.0.0.1\n\treverse_proxy wsbench_backends\n}\n", "my.conf:2: bind: the harness binds the site"},
		{"default_bind", "caddy", "{\n\tdefault_bind 10.0.0.1\n}\n:80 {\n\treverse_proxy wsbench_backends\n}\n", "my.conf:2: default_bind: the harness binds the site"},
		{"tls", "caddy", ":80 {\n\ttls internal\n\treverse_proxy wsbench_backends\n}\n", "my.conf:2: tls: TLS is not supported"},
		{"caddy unclosed", "caddy", ":80 {\n\treverse_proxy wsbench_backends {\n\t\tlb_policy first\n}\n", "my.conf:1: block not closed"},
		{"caddy unclosed quote", "caddy", ":80 {\n\trespond \"hi\n}\n", "my.conf:2: quoted string not closed"},
		{"caddy glued brace", "caddy", "{\n\tgrace_period 1s\n}\nexample.com{\n\treverse_proxy wsbench_backends\n}\n", `my.conf:4: site address "example.com{" ends with a curly brace`},
		{"caddy stray brace", "caddy", ":80\nreverse_proxy wsbench_backends\n}\n", `my.conf:3: unexpected "}"`},
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
	for _, tc := range []struct{ msg, conf, want string }{
		{"[ALERT] parsing [/etc/haproxy/haproxy.cfg:5] : unknown keyword 'x'\nhaproxy -c -f /etc/haproxy/haproxy.cfg", "/etc/haproxy/haproxy.cfg",
			"[ALERT] parsing [./my.cfg:3] : unknown keyword 'x'\nhaproxy -c -f ./my.cfg"},
		{"AH00526: Syntax error on line 4 of /etc/apache2/httpd.conf:\nInvalid command 'x'", "/etc/apache2/httpd.conf",
			"AH00526: Syntax error on ./my.cfg:2:\nInvalid command 'x'"},
	} {
		if got := src.Map(tc.msg, tc.conf); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// Whatever the user's file holds, UserConfig returns an error or a
// rewrite whose line map covers every line and points into the file.
func FuzzUserConfig(f *testing.F) {
	for _, name := range []string{"my-nginx.conf", "my-haproxy.cfg", "my-httpd.conf", "my.Caddyfile", "typo.Caddyfile"} {
		data, err := os.ReadFile(filepath.Join("../harness/testdata/userproxy", name))
		if err != nil {
			f.Fatal(err)
		}
		for _, kind := range []string{"nginx", "haproxy", "apache", "caddy"} {
			f.Add(kind, data)
		}
	}
	f.Fuzz(func(t *testing.T, kind string, data []byte) {
		d, ok := driver.Lookup(kind)
		if !ok {
			return
		}
		uc, ok := d.(driver.UserConfigurer)
		if !ok {
			return
		}
		out, src, err := uc.UserConfig("my.conf", data, userEnv)
		if err != nil {
			return
		}
		last := strings.Count(string(data), "\n") + 1
		if n := strings.Count(string(out), "\n") + 1; len(src.Lines) != n {
			t.Fatalf("line map of %d lines for %d", len(src.Lines), n)
		}
		for i, l := range src.Lines {
			if l < 1 || l > last || (i > 0 && l < src.Lines[i-1]) {
				t.Fatalf("line %d maps to %d: want 1 … %d, in order", i+1, l, last)
			}
		}
	})
}
