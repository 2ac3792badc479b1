package stack_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/wsbench/wsbench/stack"
)

// A run: two echo backends, nginx in front, two load generators started
// together, nginx's CPU over the window. (Not run as a test: it needs
// Docker; the package's integration tests do the same.)
func Example() {
	ctx := context.Background()
	s, err := stack.Up(ctx, stack.Spec{Log: os.Stderr})
	defer s.Down(ctx) // always: it also removes what a failed Up created
	if err != nil {
		log.Fatal(err) // errors.Is(err, stack.ErrNoDocker): suggest --runtime local
	}
	for _, name := range []string{"echo-1", "echo-2"} {
		if _, err := s.Start(ctx, stack.Service{Name: name, Role: "echo", Port: 9000,
			WaitLog: "listening on",
			Args:    []string{"echo", "--listen", s.Bind(name, 9000), "--id", name}}); err != nil {
			log.Fatal(err)
		}
	}
	conf := fmt.Appendf(nil, `pid /tmp/nginx.pid;
events {}
http {
  upstream b { server %s; server %s; }
  server { listen %s; location / { proxy_pass http://b; proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; } }
}`, s.Addr("echo-1", 9000), s.Addr("echo-2", 9000), s.Bind("nginx", 8080))
	if _, err := s.Start(ctx, stack.Service{Name: "nginx", Image: stack.ImageNginx, Port: 8080,
		Files: map[string][]byte{stack.NginxConf: conf}}); err != nil {
		log.Fatal(err)
	}
	w, _ := s.StartWindow(ctx, "nginx")
	res, err := s.RunLoadgen(ctx, stack.Loadgen{Workers: 2, StartAt: true, OutDir: "runs/example",
		Args: func(i int) []string {
			return []string{"loadgen", "--url", "ws://" + s.Addr("nginx", 8080) + "/echo",
				"--conns", "25", "--rate", "5k", "--duration", "10s", "--quiet"}
		}})
	if err != nil {
		log.Fatal(err)
	}
	w.Stop(ctx)
	fmt.Println(len(res), "result directories; nginx used", w.CPU("nginx"))
}

func ExampleParseCPUSet() {
	cpus, err := stack.ParseCPUSet("0,2-3")
	fmt.Println(cpus, err)
	_, err = stack.ParseCPUSet("3-1")
	fmt.Println(err)
	// Output:
	// [0 2 3] <nil>
	// cpuset "3-1": bad element "3-1"; want a list like 0 or 0-1 or 0,2
}
