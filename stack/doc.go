// Package stack brings a wsbench topology up and down: echo backends,
// proxies under test (the reference proxy, nginx) and load-generator
// workers, as containers under testcontainers-go (the default) or as local
// processes. It knows nothing of metrics: it starts things, reports what
// they cost (CPU time and memory over a window), collects the result
// directories the load generators write, and removes everything again.
//
// # A run
//
//	s, err := stack.Up(ctx, stack.Spec{})  // docker, one bridge network per run
//	defer s.Down(ctx)                      // always, even when Up failed
//	s.Start(ctx, stack.Service{Name: "echo-1", Port: 9000,
//		Args: []string{"echo", "--listen", s.Bind("echo-1", 9000), "--id", "echo-1"}})
//	conf := render(s.Addr("echo-1", 9000))  // nginx.conf naming the backend
//	s.Start(ctx, stack.Service{Name: "nginx", Image: stack.ImageNginx, Port: 8080,
//		Files: map[string][]byte{stack.NginxConf: conf}})
//	w, _ := s.StartWindow(ctx, "nginx")
//	res, err := s.RunLoadgen(ctx, stack.Loadgen{Workers: 2, OutDir: dir, StartAt: true,
//		Args: func(i int) []string { return []string{"loadgen", "--url", "ws://" + s.Addr("nginx", 8080) + "/", …} }})
//	w.Stop(ctx)                             // w.CPU("nginx"), w.MemoryGrowth("nginx")
//
// Start services in dependency order: nginx resolves upstream names when
// it starts, so its backends must exist first.
//
// # Addresses
//
// Addr(name, port) is where other services reach a service; Bind(name,
// port) is what it listens on. Both are known before the service starts,
// so configurations can be rendered first. On the per-run bridge network
// Addr is the alias ("echo-1:9000") and Bind is 0.0.0.0:port; the load
// generators run on the same network, so no published port (docker-proxy)
// is in the measured path. In host network mode and in the local runtime
// every service gets its own loopback address in a /24 chosen per run
// (127.200-249.x.N), so all can use the same port. Handle.HostAddr is
// where this process reaches a service, for checks.
//
// # Images
//
// A proxy (nginx, or a Program a driver registers: haproxy, apache,
// caddy) comes from, in this order, and Image.Source says which:
//
//  1. in the docker runtime, its image — Spec.Images' entry, else its
//     pinned official one (nginx:1.22, haproxy:2.6, caddy:2.11.9; none
//     fits apache's rendered httpd.conf) — when present, else pulled. A
//     pull that fails (no registry) is tried once per process; one with
//     no progress for 20 s is given up. The image's binary runs by name,
//     from its PATH;
//  2. the host's binary (PATH, then Program.Binary), in the docker
//     runtime in an image FROM scratch with the binary, the libraries ldd
//     lists and the files and directories it names (nginx's: mime.types,
//     passwd/group entries, writable /tmp, /var/lib/nginx, /var/log/nginx);
//  3. as root, and unless Spec.Install is InstallNever, the binary
//     installed: the Debian package with apt-get (the service the package
//     starts is stopped), else the Go module with go install; each
//     command is printed to Spec.Log before it runs. As another user the
//     error says the command to run.
//
// Find looks all this up without pulling, building or installing (wsbench
// doctor). The wsbench image is FROM scratch with a static build of the
// current source (CGO_ENABLED=0, -trimpath); outside a source tree, with
// this executable when it is wsbench (a dynamic one with its libraries).
// Built images are tagged wsbench-local/<kind>:<hash of the build
// context>, so a second run with the same binary finds them and builds
// nothing. Image records the ids and the proxy's version (`nginx -v`).
// nginx runs as `nginx -e stderr -g 'daemon off;' -c
// /etc/nginx/nginx.conf`: the configuration must not set daemon, and
// should put pid and every *_temp_path under /tmp (Stack.Path of it in
// the local runtime).
//
// # Cleanup
//
// Every container and network is labelled wsbench.run=<run id> and
// wsbench.stack=<stack id> (a run's stacks share the run id). Down
// removes by the stack label, so it also finds what a cancelled Start
// half-made and leaves the run's other stacks alone, and it runs to
// completion even with a cancelled context (after Ctrl-C). Cleanup(ctx,
// runID) — or Cleanup(ctx, "") for every run — is the safety net after a
// crash: it matches the run label, so it finds every stack of a killed
// run without knowing their ids. testcontainers' reaper (Ryuk) needs an
// image that a registry-less engine lacks, so when it is missing the
// stack sets TESTCONTAINERS_RYUK_DISABLED=true (read
// once, before the first testcontainers call) and, inside a container
// (/.dockerenv), TESTCONTAINERS_HOST_OVERRIDE=localhost. The engine's API
// version is negotiated: Docker 20.10 (API 1.41) works as is. Local
// processes die with the harness (PDEATHSIG) and Down kills their groups.
//
// # Costs and limits
//
// Usage is a container's cgroup accounting (CPU in ns; memory = usage
// minus page cache), read from its cgroup files when this process sees
// them — exact at the instant of the call — else through the Docker stats
// API; locally, /proc of the process tree (CPU in 10 ms ticks; RSS, which
// unlike a cgroup's count includes shared library pages). A window reads
// all its services at once. Every service gets RLIMIT_NOFILE = Spec.FileLimit
// (20,000, the hard limit here): load beyond one process's files is split
// over Loadgen.Workers.
package stack
