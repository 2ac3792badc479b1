package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wsbench/wsbench/echo"
	"github.com/wsbench/wsbench/internal/syncbuf"
)

func TestProxyFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "--upstream: none given"},
		{[]string{"--upstream", "echo1"}, `--upstream: proxy: upstream "echo1"`},
		{[]string{"--upstream", "a:1,weight=0"}, "weight"},
		{[]string{"--upstream", "a:1", "--balance", "fastest"}, "--balance: balance: unknown method"},
		{[]string{"--upstream", "a:1", "--next-upstream", "502,200"}, `--next-upstream "502,200": "200"`},
		{[]string{"--upstream", "a:1", "--max-fails", "-1"}, "--max-fails -1"},
		{[]string{"--upstream", "a:1", "--read-timeout", "0"}, "--read-timeout 0s"},
		{[]string{"--upstream", "a:1", "--read-timeout", "soon"}, `invalid argument "soon" for "--read-timeout"`},
		{[]string{"--upstream", "a:1", "--read-timeout-mode", "client"}, `mode "client"`},
		{[]string{"--upstream", "a:1", "--hash-key", "cookie:x"}, `HashKey "cookie:x"`},
		{[]string{"--upstream", "a:1", "--forwarded-proto", "ftp"}, "ForwardedProto"},
		{[]string{"--upstream", "a:1", "--relay", "threads"}, `engine "threads"`},
		{[]string{"--upstream", "a:1", "extra"}, "proxy takes no arguments"},
		{[]string{"--upstream", "a:1", "--resolve-interval", "-1s"}, `invalid argument "-1s" for "--resolve-interval"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errs := runCLI(append([]string{"proxy"}, tt.args...)...)
			if code != exitUsage || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 mentioning %q", code, errs, tt.want)
			}
		})
	}
}

func TestProxyHelpHasExamples(t *testing.T) {
	code, out, _ := runCLI("proxy", "--help")
	for _, want := range []string{"--upstream", "--read-timeout-mode", "--resolve-interval", "only at start", "--inject-delay", "FOR TESTING THE REGRESSION GATE", "Examples:", "wsbench proxy --listen :8080"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("help (exit %d) lacks %q", code, want)
		}
	}
}

// TestProxyCommand runs `wsbench proxy` in front of an echo backend: the
// listening line, a relayed message, the admin counters, and a clean stop.
func TestProxyCommand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := echo.New(echo.Config{ID: "cli-echo"})
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncbuf.Buffer
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"proxy", "--listen", "127.0.0.1:0", "--upstream", ln.Addr().String(),
			"--admin", "127.0.0.1:0", "--log-level", "warn", "--shutdown-grace", "200ms"}, &env{stdout: &stdout, stderr: &stderr})
	}()
	listening := regexp.MustCompile(`wsbench proxy: listening on (\S+)\n`)
	admin := regexp.MustCompile(`wsbench proxy: admin counters on (\S+)\n`)
	var addr, adminURL string
	for end := time.Now().Add(10 * time.Second); addr == ""; time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			addr = m[1]
		}
		if time.Now().After(end) {
			t.Fatalf("no listening line; stdout %q stderr %q", stdout.String(), stderr.String())
		}
	}
	if m := admin.FindStringSubmatch(stdout.String()); m != nil {
		adminURL = m[1]
	} else {
		t.Fatalf("no admin line in %q", stdout.String())
	}

	conn, _, _, err := ws.Dial(context.Background(), "ws://"+addr+"/echo")
	if err != nil {
		t.Fatal(err)
	}
	if err := wsutil.WriteClientText(conn, []byte("via the CLI")); err != nil {
		t.Fatal(err)
	}
	if msg, err := wsutil.ReadServerText(conn); err != nil || string(msg) != "via the CLI" {
		t.Fatalf("echo %q, %v", msg, err)
	}

	resp, err := http.Get(adminURL)
	if err != nil {
		t.Fatal(err)
	}
	var counters struct {
		TunnelsOpen int64            `json:"tunnels_open"`
		Handshakes  map[string]int64 `json:"handshakes"`
		BytesUp     int64            `json:"bytes_up"`
	}
	err = json.NewDecoder(resp.Body).Decode(&counters)
	resp.Body.Close()
	if err != nil || counters.TunnelsOpen != 1 || counters.Handshakes["ok"] != 1 || counters.BytesUp == 0 {
		t.Errorf("admin counters %+v, %v", counters, err)
	}

	cancel() // as SIGTERM does: the open tunnel gets the grace period, then is closed
	select {
	case code := <-exited:
		if code != 0 || !strings.Contains(stderr.String(), "stopped after 1 tunnels") {
			t.Errorf("exit %d, stderr %q", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("proxy did not stop")
	}
	conn.Close()
}
