package driver

import (
	_ "embed"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"github.com/wsbench/wsbench/internal/typo"
	"github.com/wsbench/wsbench/stack"
	"github.com/wsbench/wsbench/units"
)

// KindHaproxy is HAProxy (2.6, as Debian ships it) in mode http with a
// configuration rendered from haproxy/haproxy.cfg.tmpl.
const KindHaproxy = "haproxy"

// HaproxyConf is where the service reads its configuration.
const HaproxyConf = "/etc/haproxy/haproxy.cfg"

// haproxyPEM is the certificate and key in one file, as `bind … ssl crt`
// reads them.
const haproxyPEM = "/etc/haproxy/wss.pem"

// UnsupportedError is a knob a proxy has no equivalent for: the harness
// reports the row as not supported instead of running something else.
type UnsupportedError struct {
	Proxy, Param, Why string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("not supported by %s: %s: %s", e.Proxy, e.Param, e.Why)
}

//go:embed haproxy/haproxy.cfg.tmpl
var haproxyTemplateText string

var haproxyTemplate = template.Must(template.New("haproxy.cfg").Option("missingkey=error").
	Funcs(template.FuncMap{"inc": func(i int) int { return i + 1 }}).Parse(haproxyTemplateText))

// haproxyVersion names the proxy in "not supported by" messages.
const haproxyVersion = "haproxy 2.6"

type haproxy struct{}

func (haproxy) Kind() string    { return KindHaproxy }
func (haproxy) Takes() []string { return []string{FieldParams, FieldConfigFile} }
func (haproxy) Proxies() bool   { return true }
func (haproxy) Image() string   { return KindHaproxy }

func (haproxy) TLS(t Target) bool {
	on, _ := parseSwitch(t.Params["tls"])
	return on
}

func (h haproxy) Check(t Target) []error {
	if t.ConfigFile != "" {
		return userConfigCheck(h, t)
	}
	_, errs := haproxyTargetView(t)
	return errs
}

// Program is how the stack obtains and starts haproxy: the official 2.6
// image, else the host's binary (Debian's package), in the foreground
// (-db), logging to stderr.
func (haproxy) Program() stack.Program {
	return stack.Program{Kind: KindHaproxy, Binary: "/usr/sbin/haproxy", Version: []string{"-v"},
		Image: "haproxy:2.6", Package: "haproxy",
		Conf: HaproxyConf, Dirs: []string{"/run", "/var/lib/haproxy"},
		Args:  func(conf string) []string { return []string{"-db", "-f", conf} },
		Check: func(conf string) []string { return []string{"-c", "-f", conf} }}
}

// Service renders the target's haproxy.cfg (or rewrites its config_file)
// and runs haproxy on it.
func (h haproxy) Service(t Target, env Env) (Service, bool, error) {
	var conf []byte
	var src *Source
	var err error
	if t.ConfigFile == "" {
		conf, err = RenderHaproxy(t, env)
	} else if err = checkErr(t, h.Check(t)); err == nil {
		conf, src, err = h.UserConfig(t.ConfigFile, t.ConfigText, env)
	}
	if err != nil {
		return Service{}, true, err
	}
	files := map[string][]byte{HaproxyConf: conf}
	if h.TLS(t) {
		files[haproxyPEM] = append(append([]byte(nil), env.CertPEM...), env.KeyPEM...)
	}
	return Service{Service: stack.Service{Role: KindHaproxy, Image: KindHaproxy, Files: files},
		Config: conf, ConfigName: "haproxy.cfg", Source: src}, true, nil
}

// haproxyView is the template's data, every value checked and in haproxy
// syntax.
type haproxyView struct {
	Name, Seed     string
	Threads        string
	BufSize        int
	ConnectTimeout string
	TunnelTimeout  string
	FinTimeout     string
	Listen         string
	TLS            bool
	Cert           string
	LimitConn      int
	Headers        bool
	Balance        string
	HashConsistent bool
	MaxConn        int
	Upstreams      []string
}

// haproxyParams map the scenario knobs (nginx's names, so one scenario
// runs on both) onto haproxy's directives. unsupported says why a knob
// has no haproxy equivalent; such a target validates, and its rows say
// "not supported by haproxy 2.6: …".
var haproxyParams = []param[haproxyView]{
	{ParamInfo{"read_timeout", "duration", "timeout tunnel: an upgraded connection with no bytes either way for this long is closed"},
		func(v *haproxyView, s string) (err error) { v.TunnelTimeout, err = haproxyTime(s); return }, ""},
	{ParamInfo{"fin_timeout", "duration", "timeout client-fin and server-fin: how long a half-closed tunnel may stay idle"},
		func(v *haproxyView, s string) (err error) { v.FinTimeout, err = haproxyTime(s); return }, ""},
	{ParamInfo{"send_timeout", "duration", "(nginx's proxy_send_timeout)"}, durationOnly,
		"no timeout for a blocked write apart from the idle timeouts (timeout tunnel)"},
	{ParamInfo{"reset_timedout", "on | off", "(nginx's reset_timedout_connection)"}, switchOnly,
		"option nolinger resets every close, not only timed-out connections"},
	{ParamInfo{"connect_timeout", "duration", "timeout connect: TCP connect to a backend, then 503"},
		func(v *haproxyView, s string) (err error) { v.ConnectTimeout, err = haproxyTime(s); return }, ""},
	{ParamInfo{"balance", "round_robin | least_conn | ip_hash | source | hash", "balance roundrobin, leastconn, source (ip_hash and source hash the whole client address), or a consistent hash of hash_key"},
		setHaproxyBalance, ""},
	{ParamInfo{"hash_key", "$remote_addr | $arg_NAME", "what balance: hash hashes consistently: the client address (balance source) or a query parameter (balance url_param)"},
		func(*haproxyView, string) error { return nil }, ""}, // applied by haproxyHash
	{ParamInfo{"limit_conn", "count", "concurrent connections per client address (stick-table conn_cur); more get 503"},
		func(v *haproxyView, s string) (err error) { v.LimitConn, err = positiveInt(s, 1_000_000); return }, ""},
	{ParamInfo{"maxconn", "count", "maxconn per server: connections beyond it wait in the backend's queue"},
		func(v *haproxyView, s string) (err error) { v.MaxConn, err = positiveInt(s, 1_000_000); return }, ""},
	{ParamInfo{"tls", "on | off", "bind … ssl crt with the certificate the stack makes; clients dial wss://"},
		func(v *haproxyView, s string) (err error) { v.TLS, err = parseSwitch(s); return }, ""},
	{ParamInfo{"headers", "on | off", "option forwardfor (X-Forwarded-For) and X-Real-IP; Host passes through as sent"},
		func(v *haproxyView, s string) (err error) { v.Headers, err = parseSwitch(s); return }, ""},
	{ParamInfo{"buffer_size", "size", "tune.bufsize: the buffer each direction of a connection relays through"},
		setBufSize, ""},
	{ParamInfo{"buffers", "count size", "(nginx's proxy_buffers)"},
		func(*haproxyView, string) error { return nil }, "one buffer per direction (tune.bufsize, see buffer_size), no count"},
	{ParamInfo{"workers", "count | auto", "nbthread (default 1; auto = every CPU)"},
		setThreads, ""},
}

// HaproxyParams documents the parameters haproxy targets take.
func HaproxyParams() []ParamInfo { return paramInfos(haproxyParams) }

// RenderHaproxy renders target t's haproxy.cfg for env. A knob haproxy
// has no equivalent for is an *UnsupportedError.
func RenderHaproxy(t Target, env Env) ([]byte, error) {
	v, errs := haproxyTargetView(t)
	if err := checkErr(t, errs); err != nil {
		return nil, err
	}
	if err := unsupportedParam(haproxyParams, t, haproxyVersion); err != nil {
		return nil, err
	}
	if err := v.setEnv(env); err != nil {
		return nil, fmt.Errorf("driver: target %s: %w", t.Name, err)
	}
	return execute(haproxyTemplate, t, "haproxy.cfg", v)
}

func haproxyTargetView(t Target) (*haproxyView, []error) {
	if err := checkIdentity(t, KindHaproxy, "a haproxy.cfg"); err != nil {
		return nil, []error{err}
	}
	// nginx's defaults, so that a knob left out means the same on both.
	v := &haproxyView{Name: t.Name, Seed: t.Seed, Threads: "1", ConnectTimeout: "60s", TunnelTimeout: "60s", Balance: "roundrobin"}
	errs := setParams(v, haproxyParams, t.Params)
	if err := haproxyHash(v, t.Params); err != nil {
		errs = append(errs, err)
	}
	return v, errs
}

func (v *haproxyView) setEnv(env Env) error {
	v.Listen = or(env.Listen, defaultListen)
	if !addrRE.MatchString(v.Listen) {
		return fmt.Errorf("listen address %q: want host:port", v.Listen)
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
		v.Cert = env.path(haproxyPEM)
		if !path.IsAbs(v.Cert) || !pathRE.MatchString(v.Cert) {
			return fmt.Errorf("tls is on: certificate path %q: want an absolute path without spaces or ;{}", v.Cert)
		}
	}
	return nil
}

func setHaproxyBalance(v *haproxyView, s string) error {
	switch s {
	case "round_robin":
		v.Balance = "roundrobin"
	case "least_conn":
		v.Balance = "leastconn"
	case "ip_hash", "source":
		v.Balance = "source"
	case "hash":
		v.Balance = "hash" // completed by haproxyHash
	default:
		known := []string{"round_robin", "least_conn", "ip_hash", "source", "hash"}
		return fmt.Errorf("want round_robin, least_conn, ip_hash, source or hash%s", typo.DidYouMean(s, known))
	}
	return nil
}

var argKeyRE = regexp.MustCompile(`^\$arg_([A-Za-z0-9_-]+)$`)

// haproxyHash turns balance: hash with nginx's key syntax into haproxy's
// consistent hashing: $remote_addr is balance source, $arg_NAME is balance
// url_param NAME; haproxy has nothing for other keys.
func haproxyHash(v *haproxyView, params map[string]string) error {
	key, hasKey := params["hash_key"]
	key = strings.TrimSpace(key)
	switch {
	case v.Balance == "hash" && !hasKey:
		return paramErr("hash_key", errors.New("missing: balance: hash needs a key, e.g. $arg_room or $remote_addr"))
	case v.Balance == "hash" && key == "$remote_addr":
		v.Balance, v.HashConsistent = "source", true
	case v.Balance == "hash" && argKeyRE.MatchString(key):
		v.Balance, v.HashConsistent = "url_param "+argKeyRE.FindStringSubmatch(key)[1], true
	case v.Balance == "hash":
		return paramErr("hash_key", fmt.Errorf("%q: haproxy hashes $remote_addr or one $arg_NAME", key))
	case hasKey:
		return paramErr("hash_key", fmt.Errorf("%q: only with balance: hash, got balance %q", key, params["balance"]))
	}
	return nil
}

// setBufSize places tune.bufsize; below 1k haproxy cannot hold a request
// head, and it refuses most sizes above 1 MiB on memory grounds.
func setBufSize(v *haproxyView, s string) error {
	n, err := units.ParseSize(s)
	if err != nil {
		return err
	}
	if n < 1<<10 || n > 1<<20 {
		return errors.New("want from 1KiB to 1MiB")
	}
	v.BufSize = int(n)
	return nil
}

func setThreads(v *haproxyView, s string) error {
	if s == "auto" {
		v.Threads = "" // haproxy's default: every CPU it may run on
		return nil
	}
	n, err := positiveInt(s, 64)
	if err != nil {
		return fmt.Errorf("%w, or auto", err)
	}
	v.Threads = strconv.Itoa(n)
	return nil
}

// durationOnly and switchOnly check a knob's value though haproxy does
// not take it, so a typo still points at its line.
func durationOnly(_ *haproxyView, s string) error { _, err := haproxyTime(s); return err }
func switchOnly(_ *haproxyView, s string) error   { _, err := parseSwitch(s); return err }

// haproxyTime renders a duration in haproxy's syntax: whole seconds as
// "5s", anything finer in milliseconds.
func haproxyTime(s string) (string, error) { return nginxTime(s) }
