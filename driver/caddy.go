package driver

import (
	_ "embed"
	"errors"
	"fmt"
	"net"
	"path"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"github.com/wsbench/wsbench/internal/typo"
	"github.com/wsbench/wsbench/stack"
	"github.com/wsbench/wsbench/units"
)

// KindCaddy is Caddy (v2.11.9, built from its Go module) with a Caddyfile
// rendered from caddy/Caddyfile.tmpl.
const KindCaddy = "caddy"

// CaddyConf is where the service reads its Caddyfile.
const CaddyConf = "/etc/caddy/Caddyfile"

// CaddyModule is what the caddy kind's binary is built from when the host
// has none: `go install` of it with CGO_ENABLED=0 makes a static binary,
// so its scratch image holds nothing else.
const CaddyModule = "github.com/caddyserver/caddy/v2/cmd/caddy@v2.11.9"

// caddyVersion names the proxy in "not supported by" messages.
const caddyVersion = "caddy v2.11"

//go:embed caddy/Caddyfile.tmpl
var caddyTemplateText string

var caddyTemplate = template.Must(template.New("Caddyfile").Option("missingkey=error").Parse(caddyTemplateText))

type caddy struct{}

func (caddy) Kind() string    { return KindCaddy }
func (caddy) Takes() []string { return []string{FieldParams, FieldConfigFile} }
func (caddy) Proxies() bool   { return true }
func (caddy) Image() string   { return KindCaddy }

func (caddy) TLS(t Target) bool {
	on, _ := parseSwitch(t.Params["tls"])
	return on
}

func (c caddy) Check(t Target) []error {
	if t.ConfigFile != "" {
		return userConfigCheck(c, t)
	}
	_, errs := caddyTargetView(t)
	return errs
}

// Program is how the stack obtains and starts caddy. A binary built by go
// install reports "unknown" to `caddy version`, so the version is read
// from its build information (`caddy build-info`).
func (caddy) Program() stack.Program {
	return stack.Program{Kind: KindCaddy, Binary: "/usr/local/bin/caddy", Version: []string{"build-info"},
		VersionOf: caddyBuildVersion, Image: "caddy:2.11.9", GoInstall: CaddyModule, Conf: CaddyConf,
		Args:  func(conf string) []string { return []string{"run", "--config", conf, "--adapter", "caddyfile"} },
		Check: func(conf string) []string { return []string{"validate", "--config", conf, "--adapter", "caddyfile"} }}
}

// caddyBuildVersion turns `caddy build-info` into "caddy v2.11.9 (go1.26.8)":
// the version of the caddy module the binary was built from.
func caddyBuildVersion(out string) string {
	version, goVersion := "unknown", ""
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && (f[0] == "mod" || f[0] == "dep") && f[1] == "github.com/caddyserver/caddy/v2":
			version = f[2]
		case len(f) == 2 && f[0] == "go":
			goVersion = " (" + f[1] + ")"
		}
	}
	return "caddy " + version + goVersion
}

// Service renders the target's Caddyfile (or rewrites its config_file)
// and runs caddy on it, with its data and config directories (instance
// id, storage) in the temp dir. A user's own file runs with Go's default
// GOMAXPROCS (every CPU): it has no knob for it, and that is how caddy
// runs it elsewhere.
func (c caddy) Service(t Target, env Env) (Service, bool, error) {
	var conf []byte
	var src *Source
	procs := ""
	var err error
	if t.ConfigFile == "" {
		var v *caddyView
		if conf, v, err = renderCaddy(t, env); err == nil {
			procs = v.Procs
		}
	} else if err = checkErr(t, c.Check(t)); err == nil {
		conf, src, err = c.UserConfig(t.ConfigFile, t.ConfigText, env)
	}
	if err != nil {
		return Service{}, true, err
	}
	files := map[string][]byte{CaddyConf: conf}
	for k, data := range env.Files {
		files[k] = data
	}
	tmp := caddyTempDir(env)
	vars := map[string]string{"HOME": tmp, "XDG_DATA_HOME": tmp + "/caddy", "XDG_CONFIG_HOME": tmp + "/caddy"}
	if procs != "" {
		vars["GOMAXPROCS"] = procs
	}
	return Service{Service: stack.Service{Role: KindCaddy, Image: KindCaddy, Files: files, Env: vars},
		Config: conf, ConfigName: "Caddyfile", Source: src}, true, nil
}

// caddyTempDir is where caddy keeps its data (storage, instance id).
func caddyTempDir(env Env) string { return path.Clean(or(env.TempDir, "/tmp")) }

// caddyView is the template's data, every value checked and in Caddyfile
// syntax.
type caddyView struct {
	Name, Seed       string
	Host, Port       string
	TempDir          string
	TLS              bool
	Cert, Key        string
	Headers          bool
	Balance          string
	FailDuration     string
	DialTimeout      string
	ReadTimeout      string
	StreamTimeout    string
	StreamCloseDelay string
	StreamBufferSize int
	Procs            string // GOMAXPROCS; "" = every CPU
	Upstreams        []string
}

// caddyParams map the scenario knobs (nginx's names, so one scenario runs
// on every proxy) onto reverse_proxy's subdirectives, plus caddy's own
// stream knobs. unsupported says why a knob has no caddy equivalent; such
// a target validates, and its rows say "not supported by caddy v2.11: …".
var caddyParams = []param[caddyView]{
	{ParamInfo{"read_timeout", "duration", "transport http read_timeout (default 60s, nginx's): a read from the backend, the tunnel's included, that waits this long closes the connection"},
		func(v *caddyView, s string) (err error) { v.ReadTimeout, err = nginxTime(s); return }, ""},
	{ParamInfo{"send_timeout", "duration", "(nginx's proxy_send_timeout)"}, caddyDuration,
		"transport write_timeout bounds writes to the backend only; nothing bounds a write to a client that stopped reading"},
	{ParamInfo{"reset_timedout", "on | off", "(nginx's reset_timedout_connection)"}, caddySwitch,
		"a timed-out tunnel is always closed with a FIN"},
	{ParamInfo{"fin_timeout", "duration", "(haproxy's timeout client-fin)"}, caddyDuration,
		"a half-closed tunnel has no timeout of its own (read_timeout still applies)"},
	{ParamInfo{"connect_timeout", "duration", "transport http dial_timeout (default 60s, nginx's): TCP connect to a backend, then 502"},
		func(v *caddyView, s string) (err error) { v.DialTimeout, err = nginxTime(s); return }, ""},
	{ParamInfo{"balance", "round_robin | least_conn | ip_hash | source | client_ip_hash | hash", "lb_policy round_robin, least_conn, ip_hash (ip_hash and source hash the client address), client_ip_hash (the client address behind trusted proxies), or a hash of hash_key"},
		setCaddyBalance, ""},
	{ParamInfo{"hash_key", "$remote_addr | $arg_NAME | $http_NAME", "what balance: hash hashes (rendezvous hashing): the client address (lb_policy ip_hash), a query parameter (lb_policy query) or a request header (lb_policy header)"},
		func(*caddyView, string) error { return nil }, ""}, // applied by caddyHash
	{ParamInfo{"limit_conn", "count", "(nginx's limit_conn)"}, func(_ *caddyView, s string) error { _, err := positiveInt(s, 1_000_000); return err },
		"the standard modules have no limit of connections per client"},
	{ParamInfo{"tls", "on | off", "tls with the certificate the stack makes (no automatic HTTPS, no ACME); clients dial wss://"},
		func(v *caddyView, s string) (err error) { v.TLS, err = parseSwitch(s); return }, ""},
	{ParamInfo{"headers", "on | off", "header_up X-Real-IP; caddy sends X-Forwarded-For, -Proto and -Host either way; Host passes through as sent"},
		func(v *caddyView, s string) (err error) { v.Headers, err = parseSwitch(s); return }, ""},
	{ParamInfo{"buffer_size", "size", "stream_buffer_size: the buffer each direction of an upgraded connection copies through (default 32KiB)"},
		setStreamBufferSize, ""},
	{ParamInfo{"buffers", "count size", "(nginx's proxy_buffers)"}, func(*caddyView, string) error { return nil },
		"one buffer per direction of a tunnel (stream_buffer_size, see buffer_size), no count"},
	{ParamInfo{"workers", "count | auto", "GOMAXPROCS (default 1; auto = every CPU)"},
		setProcs, ""},
	{ParamInfo{"stream_timeout", "duration", "stream_timeout: a tunnel is closed this long after the upgrade, busy or not (default none)"},
		func(v *caddyView, s string) (err error) { v.StreamTimeout, err = nginxTime(s); return }, ""},
	{ParamInfo{"stream_close_delay", "duration", "stream_close_delay: on a config reload, tunnels stay open this long (default 0: closed at once)"},
		func(v *caddyView, s string) (err error) { v.StreamCloseDelay, err = nginxTime(s); return }, ""},
	{ParamInfo{"fail_duration", "duration", "passive health: a backend a request failed on is left out this long (default 10s, nginx's fail_timeout)"},
		func(v *caddyView, s string) (err error) { v.FailDuration, err = nginxTime(s); return }, ""},
}

// CaddyParams documents the parameters caddy targets take.
func CaddyParams() []ParamInfo { return paramInfos(caddyParams) }

// RenderCaddy renders target t's Caddyfile for env. A knob caddy has no
// equivalent for is an *UnsupportedError.
func RenderCaddy(t Target, env Env) ([]byte, error) {
	conf, _, err := renderCaddy(t, env)
	return conf, err
}

func renderCaddy(t Target, env Env) ([]byte, *caddyView, error) {
	v, errs := caddyTargetView(t)
	if err := checkErr(t, errs); err != nil {
		return nil, nil, err
	}
	if err := unsupportedParam(caddyParams, t, caddyVersion); err != nil {
		return nil, nil, err
	}
	if err := v.setEnv(env); err != nil {
		return nil, nil, fmt.Errorf("driver: target %s: %w", t.Name, err)
	}
	conf, err := execute(caddyTemplate, t, "Caddyfile", v)
	return conf, v, err
}

func caddyTargetView(t Target) (*caddyView, []error) {
	if err := checkIdentity(t, KindCaddy, "a Caddyfile"); err != nil {
		return nil, []error{err}
	}
	// nginx's defaults, so that a knob left out means the same on both.
	v := &caddyView{Name: t.Name, Seed: t.Seed, Procs: "1", Balance: "round_robin",
		DialTimeout: "60s", ReadTimeout: "60s", FailDuration: "10s"}
	errs := setParams(v, caddyParams, t.Params)
	if err := caddyHash(v, t.Params); err != nil {
		errs = append(errs, err)
	}
	return v, errs
}

// setEnv checks and places the environment; every string lands in the
// Caddyfile as is, so anything that could end a token is refused.
func (v *caddyView) setEnv(env Env) error {
	listen := or(env.Listen, defaultListen)
	if !addrRE.MatchString(listen) {
		return fmt.Errorf("listen address %q: want host:port", listen)
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", listen, err)
	}
	v.Host, v.Port = host, port
	v.TempDir = caddyTempDir(env)
	if !path.IsAbs(v.TempDir) || !pathRE.MatchString(v.TempDir) {
		return fmt.Errorf("temp dir %q: want an absolute path without spaces or ;{}", env.TempDir)
	}
	if len(env.Upstreams) == 0 {
		return errors.New("no upstream address: want at least one backend")
	}
	for _, u := range env.Upstreams {
		if !addrRE.MatchString(u) {
			return fmt.Errorf("upstream address %q: want host:port", u)
		}
	}
	v.Upstreams = env.Upstreams
	if v.TLS {
		for _, p := range []struct{ what, path string }{{"certificate", env.TLSCert}, {"key", env.TLSKey}} {
			if p.path == "" || !path.IsAbs(p.path) || !pathRE.MatchString(p.path) {
				return fmt.Errorf("tls is on: TLS %s path %q: want an absolute path without spaces or ;{}", p.what, p.path)
			}
		}
		v.Cert, v.Key = env.TLSCert, env.TLSKey
	}
	return nil
}

func setCaddyBalance(v *caddyView, s string) error {
	switch s {
	case "round_robin", "least_conn", "ip_hash", "client_ip_hash":
		v.Balance = s
	case "source":
		v.Balance = "ip_hash"
	case "hash":
		v.Balance = "hash" // completed by caddyHash
	default:
		known := []string{"round_robin", "least_conn", "ip_hash", "source", "client_ip_hash", "hash"}
		return fmt.Errorf("want round_robin, least_conn, ip_hash, source, client_ip_hash or hash%s", typo.DidYouMean(s, known))
	}
	return nil
}

var httpKeyRE = regexp.MustCompile(`^\$http_([A-Za-z0-9_]+)$`)

// caddyHash turns balance: hash with nginx's key syntax into one of
// caddy's hashing policies: $remote_addr is ip_hash, $arg_NAME is query
// NAME, $http_NAME is header NAME (nginx's underscores as dashes).
func caddyHash(v *caddyView, params map[string]string) error {
	key, hasKey := params["hash_key"]
	key = strings.TrimSpace(key)
	switch {
	case v.Balance == "hash" && !hasKey:
		return paramErr("hash_key", errors.New("missing: balance: hash needs a key, e.g. $arg_room or $remote_addr"))
	case v.Balance == "hash" && key == "$remote_addr":
		v.Balance = "ip_hash"
	case v.Balance == "hash" && argKeyRE.MatchString(key):
		v.Balance = "query " + argKeyRE.FindStringSubmatch(key)[1]
	case v.Balance == "hash" && httpKeyRE.MatchString(key):
		v.Balance = "header " + strings.ReplaceAll(httpKeyRE.FindStringSubmatch(key)[1], "_", "-")
	case v.Balance == "hash":
		return paramErr("hash_key", fmt.Errorf("%q: caddy hashes $remote_addr, one $arg_NAME or one $http_NAME", key))
	case hasKey:
		return paramErr("hash_key", fmt.Errorf("%q: only with balance: hash, got balance %q", key, params["balance"]))
	}
	return nil
}

func setStreamBufferSize(v *caddyView, s string) error {
	n, err := units.ParseSize(s)
	if err != nil {
		return err
	}
	if n < 1<<10 || n > 1<<24 {
		return errors.New("want from 1KiB to 16MiB")
	}
	v.StreamBufferSize = int(n)
	return nil
}

func setProcs(v *caddyView, s string) error {
	if s == "auto" {
		v.Procs = ""
		return nil
	}
	n, err := positiveInt(s, 64)
	if err != nil {
		return fmt.Errorf("%w, or auto", err)
	}
	v.Procs = strconv.Itoa(n)
	return nil
}

// caddyDuration and caddySwitch check a knob's value though caddy does not
// take it, so a typo still points at its line.
func caddyDuration(_ *caddyView, s string) error { _, err := nginxTime(s); return err }
func caddySwitch(_ *caddyView, s string) error   { _, err := parseSwitch(s); return err }
