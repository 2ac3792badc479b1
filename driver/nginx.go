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
	"time"

	"github.com/wsbench/wsbench/internal/typo"
	"github.com/wsbench/wsbench/stack"
	"github.com/wsbench/wsbench/units"
)

// KindNginx is nginx with a configuration rendered from
// nginx/nginx.conf.tmpl.
const KindNginx = "nginx"

// nginx configuration variants (Target.Config).
const (
	ConfigPlain   = "plain"   // S1: proxy_pass only
	ConfigUpgrade = "upgrade" // S2: HTTP/1.1 + Upgrade + Connection "upgrade"
	ConfigMap     = "map"     // S3: map $http_upgrade $connection_upgrade
)

// ParamInfo documents one template parameter.
type ParamInfo struct {
	Name, Value, Description string
}

type nginx struct{}

func (nginx) Kind() string    { return KindNginx }
func (nginx) Takes() []string { return []string{FieldConfig, FieldParams, FieldConfigFile} }
func (nginx) Proxies() bool   { return true }
func (nginx) Image() string   { return stack.ImageNginx }

func (n nginx) Check(t Target) []error {
	if t.ConfigFile != "" {
		return userConfigCheck(n, t)
	}
	_, errs := nginxTargetView(t)
	return errs
}

// TLS reports params tls: on.
func (nginx) TLS(t Target) bool {
	on, _ := parseSwitch(t.Params["tls"])
	return on
}

// Service renders the target's nginx.conf (or rewrites its config_file)
// and runs nginx on it.
func (n nginx) Service(t Target, env Env) (Service, bool, error) {
	conf, src, err := n.conf(t, env)
	if err != nil {
		return Service{}, true, err
	}
	files := map[string][]byte{"/tmp/.keep": nil}
	for k, v := range env.Files {
		files[k] = v
	}
	files[stack.NginxConf] = conf
	return Service{Service: stack.Service{Role: KindNginx, Image: stack.ImageNginx, Files: files},
		Config: conf, ConfigName: "nginx.conf", Source: src}, true, nil
}

func (n nginx) conf(t Target, env Env) ([]byte, *Source, error) {
	if t.ConfigFile == "" {
		conf, err := RenderNginx(t, env)
		return conf, nil, err
	}
	if err := checkErr(t, n.Check(t)); err != nil {
		return nil, nil, err
	}
	return n.UserConfig(t.ConfigFile, t.ConfigText, env)
}

//go:embed nginx/nginx.conf.tmpl
var nginxTemplateText string

var nginxTemplate = template.Must(template.New("nginx.conf").Option("missingkey=error").Parse(nginxTemplateText))

// nginxView is the template's data: every value already checked and in
// nginx syntax, so the template only places them.
type nginxView struct {
	Name, Seed, Variant string
	Workers             string
	TempDir, Listen     string
	TLS                 bool
	Cert, Key           string
	Map, Upgrade        bool
	Connection          string
	Balance             string
	Upstreams           []string
	LimitConn           int
	Headers             bool
	ReadTimeout         string
	SendTimeout         string
	ResetTimedout       bool
	ConnectTimeout      string
	BufferSize, Buffers string
}

// nginxParams are the parameters a target's params may set, in the order
// NginxParams lists them.
var nginxParams = []param[nginxView]{
	{ParamInfo{"read_timeout", "duration", "proxy_read_timeout (S4): an upgraded connection with no bytes either way for this long is closed"},
		func(v *nginxView, s string) (err error) { v.ReadTimeout, err = nginxTime(s); return }, ""},
	{ParamInfo{"send_timeout", "duration", "proxy_send_timeout and send_timeout (S4): a write to the backend or the client blocked this long closes the connection"},
		func(v *nginxView, s string) (err error) { v.SendTimeout, err = nginxTime(s); return }, ""},
	{ParamInfo{"reset_timedout", "on | off", "reset_timedout_connection: close a timed-out client with RST, so a client that stopped reading learns of it (a FIN would wait behind the unsent bytes)"},
		func(v *nginxView, s string) (err error) { v.ResetTimedout, err = parseSwitch(s); return }, ""},
	{ParamInfo{"connect_timeout", "duration", "proxy_connect_timeout (S5): TCP connect to a backend; then the next one, or 504 (nginx caps it at about 75s)"},
		func(v *nginxView, s string) (err error) { v.ConnectTimeout, err = nginxTime(s); return }, ""},
	{ParamInfo{"balance", "round_robin | least_conn | ip_hash | hash", "upstream balancing (S6); ip_hash uses the first three octets of an IPv4 client"},
		setBalance, ""},
	{ParamInfo{"hash_key", "nginx variables", "what balance: hash hashes, consistently (ketama), e.g. $arg_room or $remote_addr"},
		func(*nginxView, string) error { return nil }, ""}, // applied by setBalance
	{ParamInfo{"limit_conn", "count", "limit_conn per client address with a limit_conn_zone (S7); more connections get 503"},
		func(v *nginxView, s string) (err error) { v.LimitConn, err = positiveInt(s, 1_000_000); return }, ""},
	{ParamInfo{"tls", "on | off", "listen … ssl with the certificate the stack makes (S8); clients dial wss://"},
		func(v *nginxView, s string) (err error) { v.TLS, err = parseSwitch(s); return }, ""},
	{ParamInfo{"headers", "on | off", "send X-Real-IP, X-Forwarded-For ($proxy_add_x_forwarded_for) and Host $host (S9)"},
		func(v *nginxView, s string) (err error) { v.Headers, err = parseSwitch(s); return }, ""},
	{ParamInfo{"buffer_size", "size", "proxy_buffer_size (S10): an upgraded connection relays through a buffer this size each way"},
		func(v *nginxView, s string) (err error) { v.BufferSize, err = nginxSize(s); return }, ""},
	{ParamInfo{"buffers", "count size", `proxy_buffers (S10), e.g. "4 16k"; used for buffered HTTP responses, not for upgraded connections`},
		setBuffers, ""},
	{ParamInfo{"workers", "count | auto", "worker_processes (default 1)"},
		setWorkers, ""},
}

// NginxParams documents the parameters nginx targets take.
func NginxParams() []ParamInfo { return paramInfos(nginxParams) }

// NginxConfigs lists the nginx configuration variants.
func NginxConfigs() []string { return []string{ConfigPlain, ConfigUpgrade, ConfigMap} }

// RenderNginx renders target t's nginx.conf for env.
func RenderNginx(t Target, env Env) ([]byte, error) {
	v, errs := nginxTargetView(t)
	if len(errs) > 0 {
		return nil, checkErr(t, errs)
	}
	if err := v.setEnv(env); err != nil {
		return nil, fmt.Errorf("driver: target %s: %w", t.Name, err)
	}
	return execute(nginxTemplate, t, "nginx.conf", v)
}

// nginxTargetView checks t's config and params and turns them into template
// data (without the environment).
func nginxTargetView(t Target) (*nginxView, []error) {
	if err := checkIdentity(t, KindNginx, "an nginx.conf"); err != nil {
		return nil, []error{err}
	}
	v := &nginxView{Name: t.Name, Seed: t.Seed, Variant: t.Config, Workers: "1"}
	switch t.Config {
	case ConfigPlain:
	case ConfigUpgrade:
		v.Upgrade, v.Connection = true, `"upgrade"`
	case ConfigMap:
		v.Upgrade, v.Map, v.Connection = true, true, "$connection_upgrade"
	default:
		return nil, []error{configError(fmt.Errorf("config %q: want %s%s", t.Config,
			strings.Join(NginxConfigs(), ", "), typo.DidYouMean(t.Config, NginxConfigs())))}
	}
	errs := setParams(v, nginxParams, t.Params)
	if err := hashBalance(v, t.Params); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		if err := checkBuffers(t.Params); err != nil {
			errs = append(errs, err)
		}
	}
	return v, errs
}

// setEnv checks and places the environment. Every string lands in the
// configuration as is, so anything that could end a directive is refused.
func (v *nginxView) setEnv(env Env) error {
	v.Listen, v.TempDir = env.Listen, env.TempDir
	if v.Listen == "" {
		v.Listen = "0.0.0.0:8080"
	}
	if v.TempDir == "" {
		v.TempDir = "/tmp"
	}
	if !addrRE.MatchString(v.Listen) {
		return fmt.Errorf("listen address %q: want host:port", v.Listen)
	}
	if !path.IsAbs(v.TempDir) || !pathRE.MatchString(v.TempDir) {
		return fmt.Errorf("temp dir %q: want an absolute path without spaces or ;{}", v.TempDir)
	}
	if v.TempDir = path.Clean(v.TempDir); v.TempDir == "/" {
		v.TempDir = "" // the template adds the slash: "/nginx.pid", not "//nginx.pid"
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

var (
	addrRE    = regexp.MustCompile(`^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):[0-9]{1,5}$`)
	pathRE    = regexp.MustCompile(`^[A-Za-z0-9/._-]+$`)
	hashKeyRE = regexp.MustCompile(`^[A-Za-z0-9_$.:-]*\$[A-Za-z0-9_$.:-]*$`)
)

// setBalance places the balancing directive; "hash" is completed with the
// key by hashBalance once every parameter is read.
func setBalance(v *nginxView, s string) error {
	switch s {
	case "round_robin":
		v.Balance = "" // nginx's default
	case "least_conn", "ip_hash", "hash":
		v.Balance = s
	default:
		return fmt.Errorf("want round_robin, least_conn, ip_hash or hash%s", typo.DidYouMean(s, []string{"round_robin", "least_conn", "ip_hash", "hash"}))
	}
	return nil
}

// hashBalance checks hash_key against balance: hash needs it, nothing else
// takes it.
func hashBalance(v *nginxView, params map[string]string) error {
	key, hasKey := params["hash_key"]
	key = strings.TrimSpace(key)
	switch {
	case v.Balance == "hash" && !hasKey:
		return paramErr("hash_key", errors.New("missing: balance: hash needs a key, e.g. $arg_room or $remote_addr"))
	case v.Balance == "hash" && !hashKeyRE.MatchString(key):
		return paramErr("hash_key", fmt.Errorf("%q: want nginx variables such as $arg_room or $remote_addr$remote_port", key))
	case v.Balance == "hash":
		v.Balance = "hash " + key + " consistent"
	case hasKey:
		return paramErr("hash_key", fmt.Errorf("%q: only with balance: hash, got balance %q", key, params["balance"]))
	}
	return nil
}

func setBuffers(v *nginxView, s string) error {
	n, size, ok := strings.Cut(strings.Join(strings.Fields(s), " "), " ")
	if !ok {
		return errors.New(`want "count size", e.g. "4 16k"`)
	}
	count, err := positiveInt(n, 1024)
	if err != nil {
		return fmt.Errorf("count: %w", err)
	}
	sz, err := nginxSize(size)
	if err != nil {
		return fmt.Errorf("size: %w", err)
	}
	v.Buffers = strconv.Itoa(count) + " " + sz
	return nil
}

// nginx's defaults, where a page is 4 KiB (x86-64, arm64 with 4k pages).
const (
	defaultBufferSize   = 4 << 10
	defaultBuffersCount = 8
)

// checkBuffers applies nginx's rule for the derived proxy_busy_buffers_size
// (twice the larger of proxy_buffer_size and one proxy_buffers buffer),
// which must be less than all proxy_buffers but one; nginx refuses to start
// otherwise. Catching it here names the parameter and the fix.
func checkBuffers(params map[string]string) error {
	bufSize, count, size := int64(defaultBufferSize), int64(defaultBuffersCount), int64(defaultBufferSize)
	if s, ok := params["buffer_size"]; ok {
		n, _ := units.ParseSize(strings.TrimSpace(s)) // already checked
		bufSize = int64(n)
	}
	if s, ok := params["buffers"]; ok {
		c, sz, _ := strings.Cut(strings.Join(strings.Fields(s), " "), " ")
		n, _ := strconv.ParseInt(c, 10, 64)
		z, _ := units.ParseSize(sz)
		count, size = n, int64(z)
	}
	biggest := max(bufSize, size)
	if 2*biggest <= (count-1)*size {
		return nil
	}
	param := "buffers"
	if _, ok := params["buffers"]; !ok {
		param = "buffer_size"
	}
	return paramErr(param, fmt.Errorf("nginx would refuse this: its proxy_busy_buffers_size (2 × %s) must fit in all proxy_buffers but one ((%d-1) × %s); set buffers too, e.g. buffers: 4 %s",
		formatNginxSize(biggest), count, formatNginxSize(size), formatNginxSize(biggest)))
}

func formatNginxSize(n int64) string {
	s, err := nginxSize(strconv.FormatInt(n, 10))
	if err != nil {
		return strconv.FormatInt(n, 10)
	}
	return s
}

func setWorkers(v *nginxView, s string) error {
	if s == "auto" {
		v.Workers = s
		return nil
	}
	n, err := positiveInt(s, 64)
	if err != nil {
		return fmt.Errorf("%w, or auto", err)
	}
	v.Workers = strconv.Itoa(n)
	return nil
}

func positiveInt(s string, most int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > most {
		return 0, fmt.Errorf("want a whole number from 1 to %d", most)
	}
	return n, nil
}

// parseSwitch reads on/off (also true/false, yes/no, 1/0); "" is off.
func parseSwitch(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "on", "true", "yes", "1":
		return true, nil
	case "off", "false", "no", "0", "":
		return false, nil
	}
	return false, errors.New("want on or off")
}

// nginxTime renders a duration in nginx's time syntax: whole seconds as
// "5s", anything finer in milliseconds, nginx's resolution.
func nginxTime(s string) (string, error) {
	d, err := units.ParseDuration(s)
	if err != nil {
		return "", err
	}
	dd := time.Duration(d)
	switch {
	case dd < time.Millisecond:
		return "", errors.New("want at least 1ms")
	case dd > 24*time.Hour:
		return "", errors.New("want at most 24h")
	case dd%time.Second == 0:
		return strconv.FormatInt(int64(dd/time.Second), 10) + "s", nil
	}
	return strconv.FormatInt(dd.Round(time.Millisecond).Milliseconds(), 10) + "ms", nil
}

// nginxSize renders a size in nginx's syntax, where k and m are binary.
func nginxSize(s string) (string, error) {
	n, err := units.ParseSize(s)
	if err != nil {
		return "", err
	}
	switch {
	case n < 1 || n > 1<<30:
		return "", errors.New("want from 1 byte to 1GiB")
	case n%(1<<20) == 0:
		return strconv.FormatInt(int64(n>>20), 10) + "m", nil
	case n%(1<<10) == 0:
		return strconv.FormatInt(int64(n>>10), 10) + "k", nil
	}
	return strconv.FormatInt(int64(n), 10), nil
}

func configError(err error) error { return &ParamError{FieldConfig, err} }

func paramErr(name string, err error) error { return &ParamError{FieldParams + "." + name, err} }

// nameRE and seedRE: the name and seed land in a comment of the config.
var (
	nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	seedRE = regexp.MustCompile(`^S([1-9]|1[01])$`)
)
