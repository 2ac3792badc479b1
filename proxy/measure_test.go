package proxy

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsbench/wsbench/internal/testenv"
)

// Process measurements for benchmarks: CPU time, resident memory and open
// descriptors, of this process or another (nginx's worker).

// cpuTime is a process's user+system CPU time. For this process it comes
// from getrusage (microseconds); for others from /proc/PID/stat (clock
// ticks, 10 ms here: fine over the seconds a benchmark runs).
func cpuTime(pid int) time.Duration {
	if pid == os.Getpid() {
		var ru unix.Rusage
		unix.Getrusage(unix.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parens.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // CLK_TCK is 100 on Linux
}

// rssKiB is a process's resident set (VmRSS).
func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func fdsOf(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents)
}

// nginxProc is nginx (one worker, the map idiom of the seeds) in front of
// one backend, run as a user process with everything under a temp dir.
type nginxProc struct {
	cmd    *exec.Cmd
	addr   string
	worker int
}

const nginxBin = "/usr/sbin/nginx"

const nginxConf = `daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 20000;
pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log warn;
events { worker_connections 19900; use epoll; }
http {
  access_log off;
  client_body_temp_path {{dir}}/body;
  proxy_temp_path {{dir}}/proxy;
  fastcgi_temp_path {{dir}}/fastcgi;
  uwsgi_temp_path {{dir}}/uwsgi;
  scgi_temp_path {{dir}}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream backend { server {{upstream}}; }
  server {
    listen {{listen}};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
    }
  }
}
`

// startNginx runs nginx in front of upstream, or skips when it is not
// installed (apt-get install nginx) and WSBENCH_REQUIRE_NGINX is not 1.
func startNginx(tb testing.TB, upstream string) *nginxProc {
	tb.Helper()
	if _, err := os.Stat(nginxBin); err != nil {
		testenv.Need(tb, fmt.Errorf("nginx is not installed: %w", err), "WSBENCH_REQUIRE_NGINX")
	}
	dir := tb.TempDir()
	os.Chmod(dir, 0o755) // the worker may run as nobody
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	conf := strings.NewReplacer("{{dir}}", dir, "{{upstream}}", upstream, "{{listen}}", addr).Replace(nginxConf)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(nginxBin, "-c", path, "-p", dir, "-e", filepath.Join(dir, "error.log"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	n := &nginxProc{cmd: cmd, addr: addr}
	tb.Cleanup(func() {
		cmd.Process.Signal(unix.SIGQUIT)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	for end := time.Now().Add(10 * time.Second); n.worker == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			tb.Fatalf("nginx did not start a worker: %s", log)
		}
		n.worker = childPID(cmd.Process.Pid)
	}
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(end) {
			tb.Fatalf("nginx does not listen on %s", addr)
		}
	}
	return n
}

// childPID finds a child process of pid (nginx's worker).
func childPID(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}
