package driver_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/driver"
	"github.com/wsbench/wsbench/internal/golden"
	"github.com/wsbench/wsbench/internal/testenv"
)

// caddyCases are the knobs as scenarios set them; each renders to
// testdata/caddy/<name>.Caddyfile and passes `caddy validate`.
var caddyCases = []struct {
	name   string
	params map[string]string
	want   []string // lines the Caddyfile must hold
}{
	{"defaults", nil, []string{"admin off", "auto_https off", "http://:8080 {", "bind 0.0.0.0", "reverse_proxy backend-1:9000 backend-2:9000 {",
		"lb_policy round_robin", "fail_duration 10s", "dial_timeout 60s", "read_timeout 60s"}},
	{"timeouts", map[string]string{"read_timeout": "1s", "connect_timeout": "2s", "stream_timeout": "1h", "stream_close_delay": "500ms", "fail_duration": "30s"},
		[]string{"read_timeout 1s", "dial_timeout 2s", "stream_timeout 3600s", "stream_close_delay 500ms", "fail_duration 30s"}},
	{"least-conn", map[string]string{"balance": "least_conn"}, []string{"lb_policy least_conn"}},
	{"ip-hash", map[string]string{"balance": "ip_hash"}, []string{"lb_policy ip_hash"}},
	{"client-ip-hash", map[string]string{"balance": "client_ip_hash"}, []string{"lb_policy client_ip_hash"}},
	{"hash-arg", map[string]string{"balance": "hash", "hash_key": "$arg_room"}, []string{"lb_policy query room"}},
	{"hash-header", map[string]string{"balance": "hash", "hash_key": "$http_x_room"}, []string{"lb_policy header x-room"}},
	{"hash-addr", map[string]string{"balance": "hash", "hash_key": "$remote_addr"}, []string{"lb_policy ip_hash"}},
	{"headers", map[string]string{"headers": "on"}, []string{"header_up X-Real-IP {remote_host}"}},
	{"tls", map[string]string{"tls": "on"}, []string{"https://:8080 {", "tls /etc/wsbench/tls/cert.pem /etc/wsbench/tls/key.pem"}},
	{"tuning", map[string]string{"buffer_size": "16k", "workers": "2"}, []string{"stream_buffer_size 16384"}},
}

func caddyTarget(params map[string]string) driver.Target {
	return driver.Target{Name: "caddy", Kind: driver.KindCaddy, Params: params}
}

// TestRenderCaddyGolden renders each case as the docker stack would and
// compares it with its golden file (go test -update rewrites them).
func TestRenderCaddyGolden(t *testing.T) {
	for _, c := range caddyCases {
		t.Run(c.name, func(t *testing.T) {
			env := driver.Env{Listen: "0.0.0.0:8080", Upstreams: []string{"backend-1:9000", "backend-2:9000"},
				TLSCert: "/etc/wsbench/tls/cert.pem", TLSKey: "/etc/wsbench/tls/key.pem"}
			got, err := driver.RenderCaddy(caddyTarget(c.params), env)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range c.want {
				if !bytes.Contains(got, []byte(line)) {
					t.Errorf("Caddyfile lacks %q:\n%s", line, got)
				}
			}
			golden.Check(t, filepath.Join("caddy", c.name+".Caddyfile"), got)
		})
	}
}

// TestRenderCaddyValidate passes every case through the real `caddy
// validate`, which provisions the whole configuration (the certificate
// files are loaded) without listening.
func TestRenderCaddyValidate(t *testing.T) {
	bin := testenv.Program(t, "caddy", "WSBENCH_REQUIRE_CADDY")
	certDir := t.TempDir()
	cert, key := writeSelfSigned(t, certDir)
	for _, c := range caddyCases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			env := driver.Env{Listen: "127.0.0.1:18080", Upstreams: []string{"127.0.0.1:19000", "127.0.0.1:19001"},
				TLSCert: cert, TLSKey: key, TempDir: filepath.Join(dir, "tmp"), Path: func(p string) string { return filepath.Join(dir, p) }}
			d, _ := driver.Lookup(driver.KindCaddy)
			svc, _, err := d.Service(caddyTarget(c.params), env)
			if err != nil {
				t.Fatal(err)
			}
			for p, data := range svc.Files {
				dst := filepath.Join(dir, p)
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dst, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "validate", "--config", filepath.Join(dir, driver.CaddyConf), "--adapter", "caddyfile")
			cmd.Env = os.Environ()
			for k, v := range svc.Env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			if err != nil || !bytes.Contains(out, []byte("Valid configuration")) {
				t.Fatalf("caddy validate: %v\n%s\nCaddyfile:\n%s", err, out, svc.Config)
			}
		})
	}
}

// The environment caddy runs in: its data and config under the temp dir,
// GOMAXPROCS from workers (1 unless auto).
func TestCaddyService(t *testing.T) {
	d, _ := driver.Lookup(driver.KindCaddy)
	env := driver.Env{Upstreams: []string{"backend-1:9000"}, TempDir: "/tmp"}
	svc, _, err := d.Service(caddyTarget(nil), env)
	if err != nil || svc.Env["GOMAXPROCS"] != "1" || svc.Env["XDG_DATA_HOME"] != "/tmp/caddy" || svc.ConfigName != "Caddyfile" {
		t.Errorf("defaults: %+v, %v", svc.Env, err)
	}
	svc, _, _ = d.Service(caddyTarget(map[string]string{"workers": "auto"}), env)
	if _, set := svc.Env["GOMAXPROCS"]; set {
		t.Errorf("workers: auto: GOMAXPROCS %q, want it unset", svc.Env["GOMAXPROCS"])
	}
	if !d.TLS(caddyTarget(map[string]string{"tls": "on"})) || d.TLS(caddyTarget(nil)) {
		t.Error("TLS does not follow params tls")
	}
}

// A knob caddy has no equivalent for validates but renders as an
// UnsupportedError that names caddy v2.11; a bad value is a ParamError.
func TestRenderCaddyErrors(t *testing.T) {
	env := driver.Env{Upstreams: []string{"backend-1:9000"}}
	unsupported := map[string]string{"send_timeout": "5s", "reset_timedout": "on", "fin_timeout": "1s", "limit_conn": "5", "buffers": "4 16k"}
	for p, value := range unsupported {
		tg := caddyTarget(map[string]string{p: value})
		if errs := driver.Check(tg); len(errs) != 0 {
			t.Errorf("%s: %v, want it accepted (the row says it is not supported)", p, errs)
		}
		_, err := driver.RenderCaddy(tg, env)
		var ue *driver.UnsupportedError
		if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "not supported by caddy v2.11: "+p+": ") {
			t.Errorf("%s: %v, want not supported by caddy v2.11", p, err)
		}
	}
	for _, tt := range []struct {
		params map[string]string
		field  string
	}{
		{map[string]string{"read_timeout": "soon"}, "params.read_timeout"},
		{map[string]string{"send_timeout": "soon"}, "params.send_timeout"},
		{map[string]string{"stream_timeout": "0s"}, "params.stream_timeout"},
		{map[string]string{"balance": "iphash"}, "params.balance"},
		{map[string]string{"balance": "hash"}, "params.hash_key"},
		{map[string]string{"balance": "hash", "hash_key": "$uri"}, "params.hash_key"},
		{map[string]string{"hash_key": "$arg_room"}, "params.hash_key"},
		{map[string]string{"buffer_size": "10"}, "params.buffer_size"},
		{map[string]string{"workers": "0"}, "params.workers"},
		{map[string]string{"read_timout": "1s"}, "params.read_timout"},
	} {
		errs := driver.Check(caddyTarget(tt.params))
		var pe *driver.ParamError
		if len(errs) != 1 || !errors.As(errs[0], &pe) || pe.Field != tt.field {
			t.Errorf("%v: %v, want one error at %s", tt.params, errs, tt.field)
		}
	}
	if errs := driver.Check(driver.Target{Name: "c", Kind: driver.KindCaddy, Config: "map"}); len(errs) != 1 {
		t.Errorf("caddy with a config: %v, want it refused", errs)
	}
	_, err := driver.RenderCaddy(caddyTarget(map[string]string{"tls": "on"}), env)
	if err == nil || !strings.Contains(err.Error(), "certificate path") {
		t.Errorf("tls without a certificate: %v", err)
	}
}
