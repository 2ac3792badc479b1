package driver_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/driver"
	"github.com/wsbench/wsbench/internal/golden"
	"github.com/wsbench/wsbench/internal/testenv"
	"github.com/wsbench/wsbench/scenarios"
)

// nginxBinary is the nginx the -t checks run; CI installs Debian's.
const nginxBinary = "/usr/sbin/nginx"

// builtinNginxTargets returns every nginx target of every built-in, with
// the upstream names it proxies to.
func builtinNginxTargets(t *testing.T) []struct {
	sc     *scenarios.Scenario
	target scenarios.Target
} {
	t.Helper()
	var out []struct {
		sc     *scenarios.Scenario
		target scenarios.Target
	}
	for _, name := range scenarios.BuiltinNames() {
		s, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range s.Targets {
			if tg.Kind == driver.KindNginx {
				out = append(out, struct {
					sc     *scenarios.Scenario
					target scenarios.Target
				}{s, tg})
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no nginx target in the built-ins")
	}
	return out
}

// containerEnv is the environment the docker stack gives nginx.
func containerEnv(s *scenarios.Scenario, tg scenarios.Target) driver.Env {
	var ups []string
	for _, n := range s.Upstreams(tg) {
		ups = append(ups, n+":9000")
	}
	env := driver.Env{Listen: "0.0.0.0:8080", Upstreams: ups, TempDir: "/tmp"}
	if tg.TLS() {
		env.TLSCert, env.TLSKey = "/etc/wsbench/tls/cert.pem", "/etc/wsbench/tls/key.pem"
	}
	return env
}

// TestRenderNginxGolden renders every built-in nginx target as the docker
// stack would and compares with testdata/nginx/<scenario>.<target>.conf.
// Run with -update after an intended change, and read the diff.
func TestRenderNginxGolden(t *testing.T) {
	for _, c := range builtinNginxTargets(t) {
		name := c.sc.Name + "." + c.target.Name
		t.Run(name, func(t *testing.T) {
			got, err := driver.RenderNginx(c.target.Driver(), containerEnv(c.sc, c.target))
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("nginx", name+".conf"), got)
		})
	}
}

// TestRenderNginxSyntax passes every built-in nginx target through the real
// `nginx -t`. nginx resolves upstream host names at -t time, so the check
// renders with 127.0.0.1 addresses; tls targets get a throwaway
// self-signed certificate.
func TestRenderNginxSyntax(t *testing.T) {
	if _, err := os.Stat(nginxBinary); err != nil {
		testenv.Need(t, fmt.Errorf("%w (apt-get install nginx)", err), "WSBENCH_REQUIRE_NGINX", "WSBENCH_REQUIRE_DOCKER")
	}
	certDir := t.TempDir()
	cert, key := writeSelfSigned(t, certDir)
	for _, c := range builtinNginxTargets(t) {
		t.Run(c.sc.Name+"."+c.target.Name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			env := driver.Env{Listen: "127.0.0.1:18080", TempDir: dir, TLSCert: cert, TLSKey: key}
			for range c.sc.Upstreams(c.target) {
				env.Upstreams = append(env.Upstreams, "127.0.0.1:19000")
			}
			nginxCheck(t, c.target.Driver(), env)
		})
	}
}

// nginxCheck renders tg and runs nginx -t on it.
func nginxCheck(t *testing.T, tg driver.Target, env driver.Env) {
	t.Helper()
	conf, err := driver.RenderNginx(tg, env)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(env.TempDir, "nginx.conf")
	if err := os.WriteFile(file, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, nginxBinary, "-t", "-q", "-e", "stderr", "-p", env.TempDir, "-c", file).CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -t: %v\n%s\nconfig:\n%s", err, out, conf)
	}
}

// TestRenderNginxParams checks each parameter's effect on the config and
// runs the result through nginx -t where nginx is installed.
func TestRenderNginxParams(t *testing.T) {
	base := driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap}
	tests := []struct {
		name   string
		config string
		params map[string]string
		want   []string // lines that must appear
		absent []string // text that must not
	}{
		{"plain has no upgrade", driver.ConfigPlain, nil,
			[]string{"proxy_pass http://backend;"}, []string{"proxy_http_version", "Upgrade", "map $http_upgrade"}},
		{"upgrade sets the headers", driver.ConfigUpgrade, nil,
			[]string{"proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;", `proxy_set_header Connection "upgrade";`}, []string{"map $http_upgrade"}},
		{"map uses the variable", driver.ConfigMap, nil,
			[]string{"map $http_upgrade $connection_upgrade {", "proxy_set_header Connection $connection_upgrade;"}, []string{`"upgrade";`}},
		{"timeouts in seconds", driver.ConfigMap, map[string]string{"read_timeout": "5s", "send_timeout": "1m", "connect_timeout": "2s"},
			[]string{"proxy_read_timeout 5s;", "proxy_send_timeout 60s;", "send_timeout 60s;", "proxy_connect_timeout 2s;"}, nil},
		{"sub-second timeout in ms", driver.ConfigMap, map[string]string{"read_timeout": "1500ms"},
			[]string{"proxy_read_timeout 1500ms;"}, nil},
		{"least_conn", driver.ConfigMap, map[string]string{"balance": "least_conn"}, []string{"least_conn;"}, nil},
		{"ip_hash", driver.ConfigMap, map[string]string{"balance": "ip_hash"}, []string{"ip_hash;"}, nil},
		{"round robin is the default", driver.ConfigMap, map[string]string{"balance": "round_robin"}, nil, []string{"least_conn", "ip_hash", "hash "}},
		{"consistent hash", driver.ConfigMap, map[string]string{"balance": "hash", "hash_key": "$arg_room"},
			[]string{"hash $arg_room consistent;"}, nil},
		{"limit_conn", driver.ConfigMap, map[string]string{"limit_conn": "10"},
			[]string{"limit_conn_zone $binary_remote_addr zone=conn_limit_per_ip:10m;", "limit_conn conn_limit_per_ip 10;"}, nil},
		{"headers", driver.ConfigMap, map[string]string{"headers": "on"},
			[]string{"proxy_set_header X-Real-IP $remote_addr;", "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;", "proxy_set_header Host $host;"}, nil},
		{"headers off", driver.ConfigMap, map[string]string{"headers": "off"}, nil, []string{"X-Real-IP"}},
		{"buffers", driver.ConfigMap, map[string]string{"buffer_size": "16KiB", "buffers": "4  16k"},
			[]string{"proxy_buffer_size 16k;", "proxy_buffers 4 16k;"}, nil},
		{"odd buffer size in bytes", driver.ConfigMap, map[string]string{"buffer_size": "5000"}, []string{"proxy_buffer_size 5000;"}, nil},
		{"workers", driver.ConfigMap, map[string]string{"workers": "2"}, []string{"worker_processes 2;"}, nil},
		{"workers auto", driver.ConfigMap, map[string]string{"workers": "auto"}, []string{"worker_processes auto;"}, nil},
		{"tls", driver.ConfigMap, map[string]string{"tls": "on"}, []string{"listen 127.0.0.1:18080 ssl;", "ssl_certificate "}, nil},
		{"every fixed line", driver.ConfigMap, nil, []string{
			"worker_processes 1;", "worker_rlimit_nofile 20000;", "error_log stderr;", "worker_connections 20000;", "access_log off;",
			"/nginx.pid;", "client_body_temp_path ", "proxy_temp_path ", "fastcgi_temp_path ", "uwsgi_temp_path ", "scgi_temp_path ",
		}, []string{"daemon"}},
	}
	haveNginx := fileExists(nginxBinary)
	cert, key := writeSelfSigned(t, t.TempDir())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := base
			tg.Config, tg.Params = tt.config, tt.params
			dir := t.TempDir()
			env := driver.Env{Listen: "127.0.0.1:18080", Upstreams: []string{"127.0.0.1:19000", "127.0.0.1:19001"}, TempDir: dir, TLSCert: cert, TLSKey: key}
			conf, err := driver.RenderNginx(tg, env)
			if err != nil {
				t.Fatal(err)
			}
			text := string(conf)
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("config lacks %q:\n%s", w, text)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(stripComments(text), a) {
					t.Errorf("config has %q:\n%s", a, text)
				}
			}
			if !strings.Contains(text, "pid "+dir+"/nginx.pid;") {
				t.Errorf("pid not under the temp dir %s:\n%s", dir, text)
			}
			if haveNginx {
				nginxCheck(t, tg, env)
			}
		})
	}
}

func stripComments(conf string) string {
	var b strings.Builder
	for _, line := range strings.Split(conf, "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func TestRenderNginxErrors(t *testing.T) {
	ok := driver.Env{Listen: "127.0.0.1:8080", Upstreams: []string{"backend-1:9000"}, TempDir: "/tmp"}
	tests := []struct {
		name   string
		target driver.Target
		env    driver.Env
		want   string
	}{
		{"not nginx", driver.Target{Name: "t", Kind: driver.KindRefproxy}, ok, `kind "refproxy": only nginx targets`},
		{"name that would inject", driver.Target{Name: "t\ninclude /etc/passwd;", Kind: driver.KindNginx, Config: driver.ConfigMap}, ok, "target name"},
		{"seed that would inject", driver.Target{Name: "t", Seed: "S1\nx", Kind: driver.KindNginx, Config: driver.ConfigMap}, ok, `seed "S1\nx"`},
		{"unknown config", driver.Target{Name: "t", Kind: driver.KindNginx, Config: "mapp"}, ok, `config "mapp": want plain, upgrade, map (did you mean map?)`},
		{"unknown param", driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap, Params: map[string]string{"read_timout": "5s"}}, ok,
			"params.read_timout: unknown parameter (did you mean read_timeout?)"},
		{"bad duration", driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap, Params: map[string]string{"read_timeout": "soon"}}, ok,
			`params.read_timeout: "soon": duration "soon"`},
		{"zero duration", driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap, Params: map[string]string{"read_timeout": "0"}}, ok,
			"want at least 1ms"},
		{"bad balance", driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap, Params: map[string]string{"balance": "iphash"}}, ok,
			"(did you mean ip_hash?)"},
		{"hash without key", driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap, Params: map[string]string{"balance": "hash"}}, ok,
			"params.hash_key: missing"},
		{"key without hash", driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap, Params: map[string]string{"hash_key": "$arg_room"}}, ok,
			"only with balance: hash"},
		{"key injection", driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap, Params: map[string]string{"balance": "hash", "hash_key": "$arg_room; include /etc/passwd"}}, ok,
			"want nginx variables"},
		{"bad switch", driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap, Params: map[string]string{"tls": "maybe"}}, ok, "want on or off"},
		{"bad buffers", driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap, Params: map[string]string{"buffers": "16k"}}, ok, `want "count size"`},
		{"bad limit", driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap, Params: map[string]string{"limit_conn": "-1"}}, ok, "want a whole number from 1"},
		{"no upstream", driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap}, driver.Env{Listen: "0.0.0.0:8080"}, "no upstream address"},
		{"upstream injection", driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap},
			driver.Env{Upstreams: []string{"a:1; }"}}, `upstream address "a:1; }": want host:port`},
		{"relative temp dir", driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap},
			driver.Env{Upstreams: []string{"a:1"}, TempDir: "tmp"}, "want an absolute path"},
		{"tls without cert", driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap, Params: map[string]string{"tls": "on"}}, ok,
			"tls is on: TLS certificate path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := driver.RenderNginx(tt.target, tt.env)
			if err == nil {
				t.Fatalf("no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "driver: target t") {
				t.Errorf("error %q\nwant it to start with \"scenarios: target t\" and contain %q", err, tt.want)
			}
		})
	}
}

func TestRenderNginxDefaults(t *testing.T) {
	conf, err := driver.RenderNginx(driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap}, driver.Env{Upstreams: []string{"backend-1:9000"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"listen 0.0.0.0:8080;", "pid /tmp/nginx.pid;", "server backend-1:9000;"} {
		if !bytes.Contains(conf, []byte(w)) {
			t.Errorf("config lacks %q:\n%s", w, conf)
		}
	}
	for dir, want := range map[string]string{"/": "pid /nginx.pid;", "/var/tmp/": "pid /var/tmp/nginx.pid;", "/a//b/.": "pid /a/b/nginx.pid;"} {
		conf, err := driver.RenderNginx(driver.Target{Name: "t", Kind: driver.KindNginx, Config: driver.ConfigMap}, driver.Env{Upstreams: []string{"b:1"}, TempDir: dir})
		if err != nil || !bytes.Contains(conf, []byte(want)) {
			t.Errorf("temp dir %q: want %q in the config (err %v)", dir, want, err)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// writeSelfSigned makes a throwaway ECDSA certificate for nginx -t.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "wsbench test"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write := func(p, typ string, b []byte) {
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(certFile, "CERTIFICATE", der)
	write(keyFile, "EC PRIVATE KEY", kder)
	return certFile, keyFile
}
