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

// apacheCases are the knobs as scenarios set them; each renders to
// testdata/apache/<name>.conf and passes `apache2 -t`.
var apacheCases = []struct {
	name   string
	params map[string]string
	want   []string // lines the config must hold
}{
	{"defaults", nil, []string{"Timeout 60", "ProxyTimeout 60", "connectiontimeout=60s timeout=60 upgrade=websocket",
		"ProxySet lbmethod=byrequests", "ServerLimit 1", "ThreadsPerChild 256", "ProxyAddHeaders Off"}},
	{"timeouts", map[string]string{"read_timeout": "2s", "connect_timeout": "500ms"},
		[]string{"Timeout 2", "ProxyTimeout 2", "connectiontimeout=500ms timeout=2 upgrade=websocket"}},
	{"least-conn", map[string]string{"balance": "least_conn"}, []string{"ProxySet lbmethod=bybusyness", "mod_lbmethod_bybusyness.so"}},
	{"headers", map[string]string{"headers": "on"}, []string{"ProxyAddHeaders On", "ProxyPreserveHost On", `RequestHeader set X-Real-IP "expr=%{REMOTE_ADDR}"`}},
	{"tls", map[string]string{"tls": "on"}, []string{"SSLEngine on", "SSLCertificateFile /etc/wsbench/tls/cert.pem"}},
	{"workers", map[string]string{"workers": "2"}, []string{"ServerLimit 2", "StartServers 2", "MaxRequestWorkers 512"}},
}

func apacheTarget(params map[string]string) driver.Target {
	return driver.Target{Name: "apache", Kind: driver.KindApache, Params: params}
}

// TestRenderApacheGolden renders each case as the docker stack would and
// compares it with its golden file (go test -update rewrites them).
func TestRenderApacheGolden(t *testing.T) {
	for _, c := range apacheCases {
		t.Run(c.name, func(t *testing.T) {
			env := driver.Env{Listen: "0.0.0.0:8080", Upstreams: []string{"backend-1:9000", "backend-2:9000"},
				TLSCert: "/etc/wsbench/tls/cert.pem", TLSKey: "/etc/wsbench/tls/key.pem"}
			got, err := driver.RenderApache(apacheTarget(c.params), env)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range c.want {
				if !bytes.Contains(got, []byte(line)) {
					t.Errorf("config lacks %q:\n%s", line, got)
				}
			}
			golden.Check(t, filepath.Join("apache", c.name+".conf"), got)
		})
	}
}

// TestRenderApacheCheck passes every case through the real `apache2 -t`,
// with its files under a temporary root as the local runtime lays them
// out, and a throwaway certificate for tls.
func TestRenderApacheCheck(t *testing.T) {
	bin := testenv.Program(t, "apache2", "WSBENCH_REQUIRE_APACHE")
	certDir := t.TempDir()
	cert, key := writeSelfSigned(t, certDir)
	for _, c := range apacheCases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			env := driver.Env{Listen: "127.0.0.1:18080", Upstreams: []string{"127.0.0.1:19000", "127.0.0.1:19001"},
				TLSCert: cert, TLSKey: key, Path: func(p string) string { return filepath.Join(dir, p) }}
			d, _ := driver.Lookup(driver.KindApache)
			svc, _, err := d.Service(apacheTarget(c.params), env)
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
			out, err := exec.CommandContext(ctx, bin, "-t", "-f", filepath.Join(dir, driver.ApacheConf)).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "Syntax OK") {
				t.Fatalf("apache2 -t: %v\n%s\nconfig:\n%s", err, out, svc.Config)
			}
		})
	}
}

// A knob httpd has no equivalent for validates but renders as an
// UnsupportedError that names apache 2.4; a bad value is a ParamError.
func TestRenderApacheErrors(t *testing.T) {
	env := driver.Env{Upstreams: []string{"backend-1:9000"}}
	for _, tt := range []struct{ param, value string }{
		{"send_timeout", "5s"}, {"limit_conn", "10"}, {"buffer_size", "16k"}, {"buffers", "4 16k"},
		{"balance", "ip_hash"},
	} {
		tg := apacheTarget(map[string]string{tt.param: tt.value})
		if errs := driver.Check(tg); len(errs) != 0 {
			t.Errorf("%s: %v, want it accepted (the row says it is not supported)", tt.param, errs)
		}
		_, err := driver.RenderApache(tg, env)
		var ue *driver.UnsupportedError
		if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "not supported by apache 2.4: "+tt.param+": ") {
			t.Errorf("%s: %v, want not supported by apache 2.4", tt.param, err)
		}
	}
	for _, tt := range []struct {
		params map[string]string
		field  string
	}{
		{map[string]string{"read_timeout": "soon"}, "params.read_timeout"},
		{map[string]string{"read_timeout": "1500ms"}, "params.read_timeout"},
		{map[string]string{"send_timeout": "soon"}, "params.send_timeout"},
		{map[string]string{"balance": "leastconn"}, "params.balance"},
		{map[string]string{"hash_key": "$arg_room"}, "params.hash_key"},
		{map[string]string{"workers": "auto"}, "params.workers"},
		{map[string]string{"read_timout": "1s"}, "params.read_timout"},
	} {
		errs := driver.Check(apacheTarget(tt.params))
		var pe *driver.ParamError
		if len(errs) != 1 || !errors.As(errs[0], &pe) || pe.Field != tt.field {
			t.Errorf("%v: %v, want one error at %s", tt.params, errs, tt.field)
		}
	}
	if errs := driver.Check(driver.Target{Name: "a", Kind: driver.KindApache, Config: "map"}); len(errs) != 1 {
		t.Errorf("apache with a config: %v, want it refused", errs)
	}
}
