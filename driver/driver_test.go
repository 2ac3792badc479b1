package driver_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/driver"
)

// Every kind is registered once, and Check refuses what a kind does not
// take, naming the kinds that do.
func TestCheck(t *testing.T) {
	if got := driver.Kinds(); !slices.Equal(got, []string{"direct", "refproxy", "nginx", "haproxy", "apache", "caddy", "command", "image"}) {
		t.Errorf("Kinds() = %v", got)
	}
	tests := []struct {
		target driver.Target
		field  string
		want   string
	}{
		{driver.Target{Name: "t"}, "kind", "missing: want direct, refproxy, nginx, haproxy"},
		{driver.Target{Name: "t", Kind: "ngnix"}, "kind", `"ngnix": want direct, refproxy, nginx, haproxy, apache, caddy, command, image (did you mean nginx?)`},
		{driver.Target{Name: "t", Kind: "direct", Config: "map"}, "config", "only nginx targets take a config, this one is direct"},
		{driver.Target{Name: "t", Kind: "refproxy", Params: map[string]string{"a": "b"}}, "params", "only nginx or haproxy or apache or caddy targets take params"},
		{driver.Target{Name: "t", Kind: "nginx", Config: "map", Args: []string{"-x"}}, "args", "only refproxy or command or image targets take args, this one is nginx"},
		{driver.Target{Name: "t", Kind: "refproxy", Args: []string{"--upstream=x:1"}}, "args[0]", "--upstream is set by the stack"},
	}
	for _, tt := range tests {
		errs := driver.Check(tt.target)
		var pe *driver.ParamError
		if len(errs) != 1 || !errors.As(errs[0], &pe) || pe.Field != tt.field || !strings.Contains(pe.Err.Error(), tt.want) {
			t.Errorf("Check(%+v) = %v, want one error at %s containing %q", tt.target, errs, tt.field, tt.want)
		}
	}
}

// The reference proxy gets its listen address, upstreams, the scenario's
// flags, then an admin endpoint unless the scenario set one.
func TestRefproxyService(t *testing.T) {
	d, _ := driver.Lookup(driver.KindRefproxy)
	env := driver.Env{Listen: "0.0.0.0:8080", Upstreams: []string{"backend-1:9000", "backend-2:9000"}, Admin: "0.0.0.0:9901"}
	svc, ok, err := d.Service(driver.Target{Name: "r", Kind: "refproxy", Args: []string{"--read-timeout", "1s"}}, env)
	want := []string{"proxy", "--listen", "0.0.0.0:8080", "--upstream", "backend-1:9000", "--upstream", "backend-2:9000", "--read-timeout", "1s", "--admin", "0.0.0.0:9901"}
	if err != nil || !ok || !slices.Equal(svc.Args, want) || !svc.Admin || svc.Config != nil {
		t.Errorf("Service = %+v, %v, %v; want args %v with the admin endpoint", svc, ok, err, want)
	}
	svc, _, _ = d.Service(driver.Target{Name: "r", Kind: "refproxy", Args: []string{"--admin", "127.0.0.1:1"}}, env)
	if svc.Admin || slices.Contains(svc.Args, "0.0.0.0:9901") {
		t.Errorf("scenario's own --admin: %+v, want no second one", svc)
	}
	d, _ = driver.Lookup(driver.KindDirect)
	if _, ok, err := d.Service(driver.Target{Name: "d", Kind: "direct"}, env); ok || err != nil || d.Proxies() {
		t.Errorf("direct: ok %v, err %v, proxies %v; want no service", ok, err, d.Proxies())
	}
}
