package stack

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/results"
)

// realTopology runs the real thing on spec's runtime: two `wsbench echo`
// backends, nginx (S2 configuration) in front, two `wsbench loadgen`
// workers started together, and a usage window on nginx. The workers'
// results must merge into one run that reached both backends.
func realTopology(t *testing.T, spec Spec) {
	ctx := context.Background()
	s, err := Up(ctx, spec)
	t.Cleanup(func() { _ = s.Down(ctx) })
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"echo-1", "echo-2"} {
		_, err := s.Start(ctx, Service{Name: name, Role: "echo", Port: 9000, WaitLog: `wsbench echo: listening on`,
			Args: []string{"echo", "--listen", s.Bind(name, 9000), "--id", name}})
		if err != nil {
			t.Fatal(err)
		}
	}
	conf := nginxConf(s, "nginx", 8080, s.Addr("echo-1", 9000), s.Addr("echo-2", 9000))
	ng, err := s.Start(ctx, Service{Name: "nginx", Image: ImageNginx, Port: 8080,
		Files: map[string][]byte{NginxConf: conf, "/tmp/.keep": nil}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.StartWindow(ctx, "nginx", "echo-1", "echo-2")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.RunLoadgen(ctx, Loadgen{Workers: 2, StartAt: true, OutDir: t.TempDir(),
		Args: func(int) []string {
			return []string{"loadgen", "--url", "ws://" + s.Addr("nginx", 8080) + "/echo", "--workload", "rtt",
				"--conns", "10", "--rate", "500", "--duration", "2s", "--quiet"}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	var runs []*results.Run
	for _, r := range res {
		run, err := results.Read(r.Dir)
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		runs = append(runs, run)
	}
	merged, err := results.Merge(runs...)
	if err != nil {
		t.Fatal(err)
	}
	sum := merged.Summary
	if sum.Connections.Opened != 20 || sum.Connections.Failed != 0 || sum.Messages.Received == 0 {
		t.Errorf("merged: connections %+v, messages %+v; want 20 opened, none failed, messages received",
			sum.Connections, sum.Messages)
	}
	if sum.Backends["echo-1"] == 0 || sum.Backends["echo-2"] == 0 {
		t.Errorf("merged backends = %v; want both echo-1 and echo-2 through nginx round robin", sum.Backends)
	}
	if !strings.HasPrefix(ng.Image.Version, "nginx version:") {
		t.Errorf("nginx version = %q", ng.Image.Version)
	}
	// A figure, not an assertion: the window also holds the connection
	// setup and the loadgen's start-at wait.
	if n := sum.Messages.Received; n > 0 {
		t.Logf("%s: nginx %s (%s), %d round trips: nginx CPU %v (%.1f µs per round trip), RSS %d KiB at the end; echo-1 CPU %v",
			s.Spec().Runtime, ng.Image.Ref, ng.Image.Version, n, w.CPU("nginx"),
			float64(w.CPU("nginx")/time.Microsecond)/float64(n), w.End["nginx"].Memory>>10, w.CPU("echo-1"))
	}
}
