package proxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wsbench/wsbench/echo"
)

// The admin endpoint reports the process's memory, descriptors and
// goroutines, which `wsbench run` samples to show a soak's growth.
func TestAdminReportsProcess(t *testing.T) {
	b := startBackend(t, "b1", echo.Config{})
	p, addr := startProxy(t, Config{Upstreams: upstreams(b)})
	srv := httptest.NewServer(p.AdminHandler())
	defer srv.Close()
	get := func() Counters {
		t.Helper()
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var c Counters
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
			t.Fatal(err)
		}
		if c.Process == nil {
			t.Fatalf("admin counters have no process usage: %+v", c)
		}
		return c
	}
	cases := []struct {
		name    string
		tunnels int
	}{{"idle", 0}, {"20 tunnels", 20}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := get().Process
			for range c.tunnels {
				open(t, addr, "/", dialOpts{}).echoes("hold")
			}
			got := get().Process
			if got.RSSBytes <= 0 || got.Goroutines <= 0 {
				t.Errorf("process %+v, want resident memory and goroutines above 0", got)
			}
			// Each tunnel holds the proxy's two sockets (and, in this one
			// process, the test client's and the backend's).
			if d := got.FDs - before.FDs; d < int64(2*c.tunnels) {
				t.Errorf("%d tunnels moved the descriptors by %d (%d → %d), want at least %d",
					c.tunnels, d, before.FDs, got.FDs, 2*c.tunnels)
			}
		})
	}
}
