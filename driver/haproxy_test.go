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

// haproxyCases are the knobs as scenarios set them; each renders to
// testdata/haproxy/<name>.cfg and passes `haproxy -c`.
var haproxyCases = []struct {
	name   string
	params map[string]string
	want   []string // lines the config must hold
}{
	{"defaults", nil, []string{"mode http", "timeout tunnel 60s", "timeout connect 60s", "balance roundrobin", "nbthread 1"}},
	{"timeouts", map[string]string{"read_timeout": "1s", "fin_timeout": "500ms", "connect_timeout": "2s"},
		[]string{"timeout tunnel 1s", "timeout client-fin 500ms", "timeout server-fin 500ms", "timeout connect 2s"}},
	{"least-conn", map[string]string{"balance": "least_conn"}, []string{"balance leastconn"}},
	{"source", map[string]string{"balance": "ip_hash"}, []string{"balance source"}},
	{"hash-arg", map[string]string{"balance": "hash", "hash_key": "$arg_room"}, []string{"balance url_param room", "hash-type consistent"}},
	{"hash-addr", map[string]string{"balance": "hash", "hash_key": "$remote_addr"}, []string{"balance source", "hash-type consistent"}},
	{"limit-conn", map[string]string{"limit_conn": "10"}, []string{"http-request deny deny_status 503 if { sc_conn_cur(0) gt 10 }"}},
	{"maxconn", map[string]string{"maxconn": "100"}, []string{"maxconn 100"}},
	{"headers", map[string]string{"headers": "on"}, []string{"option forwardfor", "http-request set-header X-Real-IP %[src]"}},
	{"tls", map[string]string{"tls": "on"}, []string{"ssl crt /etc/haproxy/wss.pem"}},
	{"tuning", map[string]string{"buffer_size": "32k", "workers": "2"}, []string{"tune.bufsize 32768", "nbthread 2"}},
}

func haproxyTarget(params map[string]string) driver.Target {
	return driver.Target{Name: "haproxy", Kind: driver.KindHaproxy, Params: params}
}

// TestRenderHaproxyGolden renders each case as the docker stack would and
// compares it with its golden file (go test -update rewrites them).
func TestRenderHaproxyGolden(t *testing.T) {
	for _, c := range haproxyCases {
		t.Run(c.name, func(t *testing.T) {
			env := driver.Env{Listen: "0.0.0.0:8080", Upstreams: []string{"backend-1:9000", "backend-2:9000"}}
			got, err := driver.RenderHaproxy(haproxyTarget(c.params), env)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range c.want {
				if !bytes.Contains(got, []byte(line)) {
					t.Errorf("config lacks %q:\n%s", line, got)
				}
			}
			golden.Check(t, filepath.Join("haproxy", c.name+".cfg"), got)
		})
	}
}

// TestRenderHaproxyCheck passes every case through the real `haproxy -c`,
// with 127.0.0.1 upstreams (haproxy resolves names when it checks) and a
// throwaway certificate for tls.
func TestRenderHaproxyCheck(t *testing.T) {
	bin := testenv.Program(t, "haproxy", "WSBENCH_REQUIRE_HAPROXY")
	certDir := t.TempDir()
	cert, key := writeSelfSigned(t, certDir)
	certPEM, _ := os.ReadFile(cert)
	keyPEM, _ := os.ReadFile(key)
	for _, c := range haproxyCases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			env := driver.Env{Listen: "127.0.0.1:18080", Upstreams: []string{"127.0.0.1:19000", "127.0.0.1:19001"},
				CertPEM: certPEM, KeyPEM: keyPEM, Path: func(p string) string { return filepath.Join(dir, p) }}
			d, _ := driver.Lookup(driver.KindHaproxy)
			svc, _, err := d.Service(haproxyTarget(c.params), env)
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
			out, err := exec.CommandContext(ctx, bin, "-c", "-f", filepath.Join(dir, driver.HaproxyConf)).CombinedOutput()
			if err != nil {
				t.Fatalf("haproxy -c: %v\n%s\nconfig:\n%s", err, out, svc.Config)
			}
		})
	}
}

// A knob haproxy has no equivalent for validates but renders as an
// UnsupportedError that names haproxy 2.6; a bad value is a ParamError.
func TestRenderHaproxyErrors(t *testing.T) {
	env := driver.Env{Upstreams: []string{"backend-1:9000"}}
	for _, p := range []string{"send_timeout", "reset_timedout", "buffers"} {
		value := map[string]string{"send_timeout": "5s", "reset_timedout": "on", "buffers": "4 16k"}[p]
		tg := haproxyTarget(map[string]string{p: value})
		if errs := driver.Check(tg); len(errs) != 0 {
			t.Errorf("%s: %v, want it accepted (the row says it is not supported)", p, errs)
		}
		_, err := driver.RenderHaproxy(tg, env)
		var ue *driver.UnsupportedError
		if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "not supported by haproxy 2.6: "+p+": ") {
			t.Errorf("%s: %v, want not supported by haproxy 2.6", p, err)
		}
	}
	for _, tt := range []struct {
		params map[string]string
		field  string
	}{
		{map[string]string{"read_timeout": "soon"}, "params.read_timeout"},
		{map[string]string{"send_timeout": "soon"}, "params.send_timeout"},
		{map[string]string{"balance": "iphash"}, "params.balance"},
		{map[string]string{"balance": "hash", "hash_key": "$http_x"}, "params.hash_key"},
		{map[string]string{"buffer_size": "10"}, "params.buffer_size"},
		{map[string]string{"read_timout": "1s"}, "params.read_timout"},
	} {
		errs := driver.Check(haproxyTarget(tt.params))
		var pe *driver.ParamError
		if len(errs) != 1 || !errors.As(errs[0], &pe) || pe.Field != tt.field {
			t.Errorf("%v: %v, want one error at %s", tt.params, errs, tt.field)
		}
	}
	if errs := driver.Check(driver.Target{Name: "h", Kind: driver.KindHaproxy, Config: "map"}); len(errs) != 1 {
		t.Errorf("haproxy with a config: %v, want it refused", errs)
	}
}
