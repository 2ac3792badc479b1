package driver

import (
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/wsbench/wsbench/internal/typo"
	"github.com/wsbench/wsbench/stack"
	"github.com/wsbench/wsbench/units"
)

// KindApache is Apache httpd (2.4, as Debian ships it) with mod_proxy_http
// tunnelling the upgrade, configured from apache/httpd.conf.tmpl.
const KindApache = "apache"

// ApacheConf is where the service reads its configuration; its directory
// also holds the pid file and shared memory (the config's own directory
// exists in both runtimes).
const ApacheConf = "/etc/apache2/httpd.conf"

// apacheModules is where Debian installs the modules the template loads.
const apacheModules = "/usr/lib/apache2/modules"

// apacheThreads is ThreadsPerChild: mod_proxy_http tunnels synchronously,
// one thread per upgraded connection, so a process holds this many.
const apacheThreads = 256

// apacheModuleFiles are the modules the template may load; the image
// carries them and their libraries.
// The template loads the first eleven; the others are there for a user's
// own httpd.conf (config_file) that loads them: the other MPMs, the
// classic mod_rewrite + mod_proxy_wstunnel WebSocket recipe, and a few
// that such files commonly load. All of them link only libc.
var apacheModuleFiles = []string{"mpm_event", "authz_core", "proxy", "proxy_http", "proxy_balancer",
	"slotmem_shm", "lbmethod_byrequests", "lbmethod_bybusyness", "headers", "socache_shmcb", "ssl",
	"mpm_worker", "mpm_prefork", "proxy_wstunnel", "rewrite", "lbmethod_bytraffic", "remoteip",
	"setenvif", "authz_host", "status"}

// apachePasswd names the uid and gid the children switch to: httpd looks
// the numeric User up (getpwuid), and a scratch image has no passwd.
// www-data is Debian's User, for a user's own httpd.conf.
var apachePasswd = map[string][]byte{
	"/etc/passwd": []byte("root:x:0:0:root:/root:/sbin/nologin\nwww-data:x:33:33:www-data:/var/www:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"),
	"/etc/group":  []byte("root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n"),
}

//go:embed apache/httpd.conf.tmpl
var apacheTemplateText string

var apacheTemplate = template.Must(template.New("httpd.conf").Option("missingkey=error").Parse(apacheTemplateText))

// apacheVersion names the proxy in "not supported by" messages.
const apacheVersion = "apache 2.4"

type apache struct{}

func (apache) Kind() string    { return KindApache }
func (apache) Takes() []string { return []string{FieldParams, FieldConfigFile} }
func (apache) Proxies() bool   { return true }
func (apache) Image() string   { return KindApache }

func (apache) TLS(t Target) bool {
	on, _ := parseSwitch(t.Params["tls"])
	return on
}

func (a apache) Check(t Target) []error {
	if t.ConfigFile != "" {
		return userConfigCheck(a, t)
	}
	_, errs := apacheTargetView(t)
	return errs
}

// Program is how the stack obtains and starts httpd: the host's binary
// and modules, in the foreground, on the rendered configuration alone (no
// /etc/apache2/envvars).
func (apache) Program() stack.Program {
	mods := make([]string, len(apacheModuleFiles))
	for i, m := range apacheModuleFiles {
		mods[i] = apacheModules + "/mod_" + m + ".so"
	}
	// glibc dlopens libgcc_s when a thread exits (mpm_event retires
	// threads); ldd does not list it, and without it a child aborts.
	for _, pattern := range []string{"/lib/*/libgcc_s.so.1", "/usr/lib/*/libgcc_s.so.1", "/lib64/libgcc_s.so.1", "/usr/lib64/libgcc_s.so.1"} {
		if found, _ := filepath.Glob(pattern); len(found) > 0 {
			mods = append(mods, found[0])
			break
		}
	}
	// No official image: httpd:2.4 keeps its modules under
	// /usr/local/apache2/modules, not Debian's apacheModules that the
	// rendered httpd.conf loads.
	return stack.Program{Kind: KindApache, Binary: "/usr/sbin/apache2", Version: []string{"-v"},
		Package: "apache2", Conf: ApacheConf, Modules: mods,
		Args:  func(conf string) []string { return []string{"-DFOREGROUND", "-f", conf} },
		Check: func(conf string) []string { return []string{"-t", "-f", conf} }}
}

// Service renders the target's httpd.conf (or rewrites its config_file)
// and runs httpd on it.
func (a apache) Service(t Target, env Env) (Service, bool, error) {
	var conf []byte
	var src *Source
	var err error
	if t.ConfigFile == "" {
		conf, err = RenderApache(t, env)
	} else if err = checkErr(t, a.Check(t)); err == nil {
		conf, src, err = a.UserConfig(t.ConfigFile, t.ConfigText, env)
	}
	if err != nil {
		return Service{}, true, err
	}
	files := maps.Clone(env.Files)
	if files == nil {
		files = map[string][]byte{}
	}
	maps.Copy(files, apachePasswd)
	files[ApacheConf] = conf
	return Service{Service: stack.Service{Role: KindApache, Image: KindApache, Files: files},
		Config: conf, ConfigName: "httpd.conf", Source: src}, true, nil
}

// apacheView is the template's data, every value checked and in httpd
// syntax.
type apacheView struct {
	Name, Seed      string
	RunDir, Modules string
	Processes       int
	Threads         int
	MaxWorkers      int
	Timeout         string
	ConnectTimeout  string
	Listen          string
	TLS             bool
	Cert, Key       string
	Headers         bool
	LBMethod        string
	noBalance       string // ip_hash or hash: validated, not supported
	Upstreams       []string
}

// apacheParams map the scenario knobs (nginx's names) onto httpd's
// directives. unsupported says why a knob has no httpd equivalent; such a
// target validates, and its rows say "not supported by apache 2.4: …".
var apacheParams = []param[apacheView]{
	{ParamInfo{"read_timeout", "duration (whole seconds)", "Timeout, ProxyTimeout and each member's timeout=: an upgraded connection with no bytes either way for this long is closed (the tunnel waits the longer of Timeout and timeout=)"},
		func(v *apacheView, s string) (err error) { v.Timeout, err = apacheSeconds(s); return }, ""},
	{ParamInfo{"send_timeout", "duration", "(nginx's proxy_send_timeout)"},
		func(_ *apacheView, s string) error { _, err := nginxTime(s); return err },
		"no write timeout of its own: a blocked write waits as long as an idle read (Timeout, see read_timeout)"},
	{ParamInfo{"connect_timeout", "duration", "connectiontimeout= of each member: TCP connect to a backend, then 503"},
		func(v *apacheView, s string) (err error) { v.ConnectTimeout, err = nginxTime(s); return }, ""},
	{ParamInfo{"balance", "round_robin | least_conn", "mod_proxy_balancer lbmethod=byrequests or bybusyness (fewest active requests); ip_hash and hash have no equivalent (stickysession pins by cookie or parameter, not by hash)"},
		setApacheBalance, ""},
	{ParamInfo{"hash_key", "nginx variables", "(nginx's hash key: only with balance: hash, which httpd lacks)"},
		func(*apacheView, string) error { return nil }, ""}, // checked by apacheTargetView
	{ParamInfo{"limit_conn", "count", "(nginx's limit_conn)"},
		func(_ *apacheView, s string) error { _, err := positiveInt(s, 1_000_000); return err },
		"no per-client connection limit in httpd's own modules"},
	{ParamInfo{"tls", "on | off", "mod_ssl: SSLEngine on with the certificate the stack makes; clients dial wss://"},
		func(v *apacheView, s string) (err error) { v.TLS, err = parseSwitch(s); return }, ""},
	{ParamInfo{"headers", "on | off", "X-Forwarded-For (ProxyAddHeaders, else off), X-Real-IP (RequestHeader) and Host as sent (ProxyPreserveHost)"},
		func(v *apacheView, s string) (err error) { v.Headers, err = parseSwitch(s); return }, ""},
	{ParamInfo{"buffer_size", "size", "(nginx's proxy_buffer_size)"},
		func(_ *apacheView, s string) error { _, err := units.ParseSize(s); return err },
		"no directive sizes the buffer an upgraded tunnel relays through"},
	{ParamInfo{"buffers", "count size", "(nginx's proxy_buffers)"},
		func(*apacheView, string) error { return nil }, "no buffered-response knob that applies to upgraded connections"},
	{ParamInfo{"workers", "count", "mpm_event processes (ServerLimit, StartServers; default 1) of 256 threads each"},
		func(v *apacheView, s string) (err error) { v.Processes, err = positiveInt(s, 64); return }, ""},
}

// ApacheParams documents the parameters apache targets take.
func ApacheParams() []ParamInfo { return paramInfos(apacheParams) }

// RenderApache renders target t's httpd.conf for env. A knob httpd has no
// equivalent for is an *UnsupportedError.
func RenderApache(t Target, env Env) ([]byte, error) {
	v, errs := apacheTargetView(t)
	if err := checkErr(t, errs); err != nil {
		return nil, err
	}
	if err := unsupportedParam(apacheParams, t, apacheVersion); err != nil {
		return nil, err
	}
	if v.noBalance != "" {
		return nil, &UnsupportedError{apacheVersion, "balance", v.noBalance + ": mod_proxy_balancer has no hash method (stickysession pins by cookie or parameter)"}
	}
	if err := v.setEnv(env); err != nil {
		return nil, fmt.Errorf("driver: target %s: %w", t.Name, err)
	}
	return execute(apacheTemplate, t, "httpd.conf", v)
}

func apacheTargetView(t Target) (*apacheView, []error) {
	if err := checkIdentity(t, KindApache, "an httpd.conf"); err != nil {
		return nil, []error{err}
	}
	// nginx's defaults (60 s, one worker), so that a knob left out means
	// the same on both; 60 s is also httpd's own Timeout.
	v := &apacheView{Name: t.Name, Seed: t.Seed, Modules: apacheModules, Processes: 1, Threads: apacheThreads,
		Timeout: "60", ConnectTimeout: "60s", LBMethod: "byrequests"}
	errs := setParams(v, apacheParams, t.Params)
	if key, ok := t.Params["hash_key"]; ok && strings.TrimSpace(t.Params["balance"]) != "hash" {
		errs = append(errs, paramErr("hash_key", fmt.Errorf("%q: only with balance: hash, got balance %q", key, t.Params["balance"])))
	}
	v.MaxWorkers = v.Processes * v.Threads
	return v, errs
}

func (v *apacheView) setEnv(env Env) error {
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
	v.RunDir = path.Dir(env.path(ApacheConf))
	paths := []string{v.RunDir}
	if v.TLS {
		v.Cert, v.Key = env.TLSCert, env.TLSKey
		paths = append(paths, v.Cert, v.Key)
	}
	for _, p := range paths {
		if !path.IsAbs(p) || !pathRE.MatchString(p) {
			return fmt.Errorf("path %q: want an absolute path without spaces or quotes", p)
		}
	}
	return nil
}

// setApacheBalance picks the lbmethod; ip_hash and hash validate but have
// no equivalent (RenderApache says so).
func setApacheBalance(v *apacheView, s string) error {
	switch s {
	case "round_robin":
		v.LBMethod = "byrequests"
	case "least_conn":
		v.LBMethod = "bybusyness"
	case "ip_hash", "hash":
		v.noBalance = s
	default:
		known := []string{"round_robin", "least_conn", "ip_hash", "hash"}
		return fmt.Errorf("want round_robin, least_conn, ip_hash or hash%s", typo.DidYouMean(s, known))
	}
	return nil
}

// apacheSeconds renders a duration as whole seconds: ProxyTimeout and
// timeout= read an integer.
func apacheSeconds(s string) (string, error) {
	d, err := units.ParseDuration(s)
	if err != nil {
		return "", err
	}
	dd := time.Duration(d)
	switch {
	case dd < time.Second || dd%time.Second != 0:
		return "", errors.New("want whole seconds, at least 1s (httpd's timeout= and ProxyTimeout take seconds)")
	case dd > 24*time.Hour:
		return "", errors.New("want at most 24h")
	}
	return strconv.FormatInt(int64(dd/time.Second), 10), nil
}
