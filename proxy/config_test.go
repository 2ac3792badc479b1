package proxy

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/proxy/upgrade"
)

func TestParseUpstream(t *testing.T) {
	tests := []struct {
		in   string
		want Upstream
		err  string
	}{
		{"echo1:9000", Upstream{Addr: "echo1:9000"}, ""},
		{"10.0.0.1:9000,weight=3", Upstream{Addr: "10.0.0.1:9000", Weight: 3}, ""},
		{"[::1]:9000, max_fails=3, fail_timeout=30s", Upstream{Addr: "[::1]:9000", MaxFails: 3, FailTimeout: 30 * time.Second}, ""},
		{"a:1,max_fails=0", Upstream{Addr: "a:1", MaxFails: -1}, ""},
		{"echo1", Upstream{}, "want host:port"},
		{":9000", Upstream{}, "want host:port"},
		{"a:http", Upstream{}, "not a number"},
		{"a:70000", Upstream{}, "not a number from 1 to 65535"},
		{"a:1,weight=0", Upstream{}, "weight \"0\""},
		{"a:1,weight", Upstream{}, "want name=value"},
		{"a:1,max_fails=-2", Upstream{}, "max_fails"},
		{"a:1,fail_timeout=soon", Upstream{}, "fail_timeout \"soon\""},
		{"a:1,backup=1", Upstream{}, "unknown parameter \"backup\""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseUpstream(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "proxy: upstream ") {
					t.Fatalf("err %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	ok := []Upstream{{Addr: "127.0.0.1:9"}}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no upstreams", Config{}, "Upstreams: none given"},
		{"bad address", Config{Upstreams: []Upstream{{Addr: "nohost"}}}, "Upstreams[0]"},
		{"balance", Config{Upstreams: ok, Balance: "fastest"}, "Balance"},
		{"hash key", Config{Upstreams: ok, HashKey: "cookie:x"}, "HashKey \"cookie:x\""},
		{"next upstream", Config{Upstreams: ok, NextUpstream: []int{200}}, "NextUpstream: status 200"},
		{"negative timeout", Config{Upstreams: ok, ReadTimeout: -time.Second}, "ReadTimeout: -1s"},
		{"negative limit", Config{Upstreams: ok, MaxConnsPerIP: -1}, "MaxConnsPerIP: -1"},
		{"tiny head", Config{Upstreams: ok, MaxHeaderBytes: 10}, "MaxHeaderBytes: 10"},
		{"host with space", Config{Upstreams: ok, Host: "a b"}, "Host:"},
		{"proto", Config{Upstreams: ok, ForwardedProto: "ftp"}, "ForwardedProto"},
		{"mode", Config{Upstreams: ok, ReadTimeoutMode: "client"}, "mode \"client\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "proxy: ") {
				t.Fatalf("New = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestHashKeys(t *testing.T) {
	head := "GET /chat/7?room=blue&x=1&room=red HTTP/1.1\r\nHost: a\r\nX-User: alice\r\n\r\n"
	req, err := upgrade.ParseRequest([]byte(head))
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.4")
	tests := map[string]string{
		"remote_addr":   "192.0.2.4",
		"uri":           "/chat/7?room=blue&x=1&room=red",
		"header:X-User": "alice",
		"header:X-None": "",
		"query:room":    "blue",
		"query:none":    "",
	}
	for spec, want := range tests {
		f, err := hashKeyFunc(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if got := f(&req, ip); got != want {
			t.Errorf("%s = %q, want %q", spec, got, want)
		}
	}
}
