package scenarios

import (
	"github.com/wsbench/wsbench/loadgen"
	"github.com/wsbench/wsbench/units"
)

// Scenario is one scenario file: backends, the targets that proxy to them,
// and workloads run against every target.
type Scenario struct {
	Name        string     `yaml:"name"`
	Description string     `yaml:"description"`
	Seeds       []string   `yaml:"seeds"` // DESIGN.md seed configurations covered: S1 … S11
	Backends    Backends   `yaml:"backends"`
	Targets     []Target   `yaml:"targets"`
	Workloads   []Workload `yaml:"workloads"`

	// File is where the scenario was read from ("builtin:<name>.yaml" for
	// embedded ones), for error messages and the results.
	File string `yaml:"-"`
}

// Backends are the echo backends (`wsbench echo`), named backend-1 … backend-N.
type Backends struct {
	Count int      `yaml:"count"` // default 1
	Args  []string `yaml:"args"`  // extra `wsbench echo` flags for every backend, e.g. --allowed-origin
	// Blackhole adds backends that never complete a TCP connect (a full
	// accept queue drops SYNs), for proxy_connect_timeout (S5). They are
	// named blackhole-1 … and listed after the echo backends in upstreams.
	Blackhole int  `yaml:"blackhole"`
	TLS       bool `yaml:"tls"` // backends serve wss:// with a certificate made at run time (S8 direct)
}

// Target is one system under test. Kind "direct" reaches backend-1 (or
// every backend through the load generator's URL list, see Load.Path) with
// no proxy; "refproxy" runs `wsbench proxy`; "nginx" renders Config;
// "haproxy" renders its own. Each kind is a driver (package driver).
type Target struct {
	Name        string   `yaml:"name"` // unique in the scenario; names the results directory
	Kind        string   `yaml:"kind"` // direct | refproxy | nginx | haproxy | command | image
	Description string   `yaml:"description"`
	Seed        string   `yaml:"seed"` // the seed configuration it reproduces, e.g. S1
	Args        []string `yaml:"args"` // refproxy: extra `wsbench proxy` flags; command, image: the command line, with {{listen}}, {{upstream}} …
	// Config is the nginx configuration variant: plain (S1), upgrade (S2),
	// map (S3), and the map config with features switched on by Params.
	Config string `yaml:"config"`
	// Params set template parameters (nginx) — read_timeout, send_timeout,
	// reset_timedout, connect_timeout, balance, hash_key, limit_conn,
	// buffer_size, buffers, headers, tls, workers — see driver.NginxParams
	// (haproxy: driver.HaproxyParams).
	Params map[string]string `yaml:"params"`
	// Upstreams names the backends this target proxies to, in order
	// (e.g. [blackhole-1] for a proxy_connect_timeout case); empty = every
	// echo backend, then every blackhole. See Scenario.Upstreams.
	Upstreams []string `yaml:"upstreams"`
	// ConfigFile is the user's own nginx.conf, haproxy.cfg, httpd.conf or
	// Caddyfile, relative to the scenario file: run as it is, but for its
	// upstream wsbench_backends and its listener (see
	// driver.UserConfigurer).
	ConfigFile string `yaml:"config_file"`
	// Command is the user's own proxy as a local binary (kind command):
	// a path relative to the scenario file, or a name in PATH.
	Command string `yaml:"command"`
	// Image is the user's own proxy as a local image (kind image).
	Image string `yaml:"image"`
	// Port is where a command or image listens (default 8080).
	Port int `yaml:"port"`
	// Mounts puts files into an image's container: path in the
	// container → file relative to the scenario file.
	Mounts map[string]string `yaml:"mounts"`

	// ConfigText and MountData are those files' contents, read by Parse.
	ConfigText []byte            `yaml:"-"`
	MountData  map[string][]byte `yaml:"-"`
}

// Workload is one load-generator run against each target.
type Workload struct {
	Name    string   `yaml:"name"`
	Targets []string `yaml:"targets"` // default: every target
	Load    Load     `yaml:"load"`
	// Kill stops a backend part-way through the load phase (S5: a crashed
	// backend must show up as dropped connections, not a hung run).
	Kill *Kill `yaml:"kill"`
	// Expect maps a target name, or "*" for every target, to expectations
	// such as "hold.median_drop == 5s ± 0.5s".
	Expect map[string][]Expectation `yaml:"expect"`
}

// Load is the load generator's settings (see `wsbench loadgen --help`);
// zero values take the loadgen defaults. Durations and sizes take units.
type Load struct {
	Workload     string         `yaml:"workload"`                     // rtt | throughput | push | hold
	Path         string         `yaml:"path"`                         // request path and query, e.g. /echo?hello=1
	Conns        units.Count    `yaml:"conns"`                        //
	ConnectRate  units.Rate     `yaml:"connect_rate"`                 //
	Rate         units.Rate     `yaml:"rate"`                         // rtt
	Size         loadgen.Sizes  `yaml:"size"`                         // 64, 16..4096 or 64:9,16KiB:1
	Opcode       string         `yaml:"opcode"`                       // binary | text
	Window       int            `yaml:"window"`                       // throughput
	PushRate     units.Rate     `yaml:"push_rate"`                    // push
	Duration     units.Duration `yaml:"duration"`                     // scaled by --scale
	Warmup       units.Duration `yaml:"warmup"`                       // rtt, throughput, push: load first, unrecorded; scaled by --scale
	PingInterval units.Duration `yaml:"ping_interval"`                // hold
	HoldSend     string         `yaml:"hold_send"`                    // hold: ping | data
	NoRead       bool           `yaml:"no_read"`                      // hold: never read (send-timeout case)
	Reconnect    bool           `yaml:"reconnect"`                    // reopen connections that drop
	Churn        units.Rate     `yaml:"churn"`                        // hold: connections closed and reopened per second
	Headers      []string       `yaml:"headers"`                      // "Name: value"
	Subprotocol  []string       `yaml:"subprotocol"`                  // offered in Sec-WebSocket-Protocol, most wanted first
	Compression  bool           `yaml:"compression"`                  // offer permessage-deflate
	Takeover     string         `yaml:"compression_context_takeover"` // on (default) | off
	SourceIPs    string         `yaml:"source_ips"`                   // host network / local runtime only
	Workers      int            `yaml:"workers"`                      // load-generator processes (default 1)
	Timeout      units.Duration `yaml:"handshake_timeout"`
}

// Kill names a backend and when, after the measurement starts (after the
// load's warm-up, if it has one), to kill it.
type Kill struct {
	Backend string         `yaml:"backend"` // e.g. backend-2
	After   units.Duration `yaml:"after"`
}
