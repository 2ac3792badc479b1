// Package driver gives every kind of target one home: a Driver per kind
// (direct, refproxy, nginx, haproxy, apache, caddy, command, image) says
// which target fields it reads (config, params, args, config_file …),
// checks them, renders the proxy's configuration and describes the stack
// service that runs it. The harness asks the driver of a target's kind and
// never names a kind; scenarios validates a target by asking Check.
//
// A kind is registered once, in the drivers list of driver.go. A proxy run
// from the host's binary also returns a stack.Program (how its image is
// built FROM scratch, its version flags, its command line), which this
// package registers with the stack at init. Adding a proxy is then one file
// <kind>.go, its template under <kind>/ and its golden files under
// testdata/<kind>/.
//
// # nginx
//
// RenderNginx fills nginx/nginx.conf.tmpl for one target: the seed
// articles' directives, verbatim, switched on by config and params, with
// the stack's addresses and paths from Env. Every built-in's rendered
// config is kept under testdata/nginx (go test -update rewrites them) and
// passes the real `nginx -t`.
//
// # haproxy
//
// RenderHaproxy fills haproxy/haproxy.cfg.tmpl: mode http (haproxy sees
// the upgrade itself), the same knobs as nginx mapped onto haproxy's
// directives, and an UnsupportedError naming haproxy 2.6 for a knob it has
// no equivalent for. The rendered cases are kept under testdata/haproxy
// and pass the real `haproxy -c`.
//
// # The user's own proxy
//
// A kind that implements UserConfigurer runs the user's own file
// (config_file): UserConfig points the file's upstream wsbench_backends
// at the echo backends and its one listener at the harness's address,
// and returns a Source mapping the result back to the user's lines; the
// harness runs the proxy's own check (stack.Stack.Check: nginx -t, or
// stack.Program.Check) before any load. nginx, haproxy, apache and caddy
// implement it (<kind>_userconfig.go: upstream wsbench_backends,
// backend wsbench_backends, <Proxy "balancer://wsbench_backends">,
// reverse_proxy wsbench_backends); another kind opts in with
// FieldConfigFile in Takes, UserConfig, CheckCommand, a Program.Check,
// and a branch in Service on Target.ConfigFile. Kinds command and image
// run the user's own binary or image with placeholders filled in its args
// ({{listen}}, {{upstream}} …).
//
// # caddy
//
// RenderCaddy fills caddy/Caddyfile.tmpl: reverse_proxy with the knobs
// mapped onto its subdirectives, caddy's own stream knobs, nothing that
// reaches the network (no admin endpoint, no ACME), and an
// UnsupportedError naming caddy v2.11 for a knob it has no equivalent
// for. The rendered cases are kept under testdata/caddy and pass the real
// `caddy validate`.
package driver
