package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wsbench/wsbench/internal/testenv"
)

var (
	fakeOnce sync.Once
	fakeBin  string
	fakeErr  error
)

// fakeBinary builds internal/fakewsbench once per test process: a static
// stand-in for wsbench with a WebSocket echo server and a client that
// writes a result directory.
func fakeBinary(t *testing.T) string {
	t.Helper()
	fakeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wsbench-stack-test-")
		if err != nil {
			fakeErr = err
			return
		}
		fakeBin = filepath.Join(dir, "wsbench")
		cmd := exec.Command("go", "build", "-trimpath", "-o", fakeBin, "./internal/fakewsbench")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fakeErr = fmt.Errorf("build fakewsbench: %v: %s", err, out)
		}
	})
	if fakeErr != nil {
		t.Fatal(fakeErr)
	}
	return fakeBin
}

// needDocker skips the test when no Docker engine answers, or fails it
// when WSBENCH_REQUIRE_DOCKER=1 (as CI sets).
func needDocker(t *testing.T) {
	t.Helper()
	cli, err := dockerClient(context.Background())
	if err == nil {
		cli.Close()
		return
	}
	testenv.Need(t, fmt.Errorf("docker is not usable: %w", err), "WSBENCH_REQUIRE_DOCKER")
}

// testLog collects the stack's progress lines into the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// nginxConf is an S2-style configuration: an upstream of backends and the
// upgrade headers, every writable path under the service's /tmp.
func nginxConf(s *Stack, name string, port int, backends ...string) []byte {
	tmp := s.Path(name, "/tmp")
	var up strings.Builder
	for _, b := range backends {
		fmt.Fprintf(&up, "    server %s;\n", b)
	}
	return fmt.Appendf(nil, `worker_processes 1;
pid %[1]s/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %[1]s/client_body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  upstream backends {
%[2]s  }
  server {
    listen %[3]s;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
    }
  }
}
`, tmp, up.String(), s.Bind(name, port))
}

// wsEcho dials ws://addr/, checks one echoed message and returns the
// backend that answered.
func wsEcho(t *testing.T, addr string) string {
	t.Helper()
	var backend string
	d := ws.Dialer{Timeout: 5 * time.Second, OnHeader: func(k, v []byte) error {
		if strings.EqualFold(string(k), "X-Wsbench-Backend") {
			backend = string(v)
		}
		return nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, _, err := d.Dial(ctx, "ws://"+addr+"/")
	if err != nil {
		t.Fatalf("websocket handshake with %s: %v", addr, err)
	}
	defer conn.Close()
	if err := wsutil.WriteClientText(conn, []byte("ping")); err != nil {
		t.Fatalf("write to %s: %v", addr, err)
	}
	got, err := wsutil.ReadServerText(conn)
	if err != nil || string(got) != "ping" {
		t.Fatalf("echo from %s = %q, %v; want \"ping\"", addr, got, err)
	}
	return backend
}

// fakeResult reads what a fake loadgen worker wrote.
type fakeResult struct {
	URL      string `json:"url"`
	Backend  string `json:"backend"`
	Messages int    `json:"messages"`
	StartAt  int64  `json:"start_at"`
}

func readFakeResult(t *testing.T, dir string) fakeResult {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatalf("worker results: %v", err)
	}
	var r fakeResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("worker summary %s: %v", b, err)
	}
	if nested, err := os.ReadFile(filepath.Join(dir, "sub", "note.txt")); err != nil || !bytes.Equal(nested, []byte("nested\n")) {
		t.Errorf("nested result file = %q, %v; want \"nested\\n\"", nested, err)
	}
	return r
}

// leftovers lists, with the docker CLI, the containers and networks still
// labelled with runID.
func leftovers(t *testing.T, runID string) string {
	t.Helper()
	var out []string
	for _, args := range [][]string{
		{"ps", "-a", "--filter", "label=" + LabelRun + "=" + runID, "--format", "{{.Names}}"},
		{"network", "ls", "--filter", "label=" + LabelRun + "=" + runID, "--format", "{{.Name}}"},
	} {
		b, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, b)
		}
		if s := strings.TrimSpace(string(b)); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, "\n")
}
