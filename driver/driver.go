package driver

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wsbench/wsbench/internal/typo"
	"github.com/wsbench/wsbench/stack"
)

// Driver is everything wsbench knows about one kind of target: which of a
// target's fields it reads, how it checks them, and the stack service that
// runs it (its rendered configuration included).
type Driver interface {
	// Kind is the name scenarios use (`kind: nginx`).
	Kind() string
	// Takes lists the target fields the kind reads: FieldConfig,
	// FieldParams, FieldArgs. The others must be empty.
	Takes() []string
	// Proxies reports whether the kind starts a proxy that load goes
	// through; a direct target has none and dials one backend itself.
	Proxies() bool
	// Image is the stack image kind the service runs (stack.ImageNginx,
	// …), recorded with its version in the run; "" when it runs none.
	Image() string
	// Check validates the fields Takes lists; errors are *ParamError.
	Check(t Target) []error
	// TLS reports whether the target serves wss://, so that the stack
	// makes a certificate and the load generator dials wss://.
	TLS(t Target) bool
	// Service is how target t starts in env. ok is false for a kind with
	// no service (direct).
	Service(t Target, env Env) (svc Service, ok bool, err error)
}

// drivers is the one place a kind registers: Kinds lists them in this
// order.
var drivers = []Driver{direct{}, refproxy{}, nginx{}, haproxy{}, apache{}, caddy{}, command{}, image{}}

// programmer is a driver whose proxy the stack runs from the host's
// binary (stack.Program); nginx predates it and the stack builds it itself.
type programmer interface {
	Program() stack.Program
}

func init() {
	for _, d := range drivers {
		if p, ok := d.(programmer); ok {
			stack.RegisterProgram(p.Program())
		}
	}
}

// Lookup returns the driver of a kind.
func Lookup(kind string) (Driver, bool) {
	for _, d := range drivers {
		if d.Kind() == kind {
			return d, true
		}
	}
	return nil, false
}

// Kinds lists every kind.
func Kinds() []string {
	out := make([]string, len(drivers))
	for i, d := range drivers {
		out[i] = d.Kind()
	}
	return out
}

// Target fields a driver may read (Driver.Takes).
const (
	FieldConfig     = "config"
	FieldParams     = "params"
	FieldArgs       = "args"
	FieldConfigFile = "config_file" // the user's own configuration file (UserConfigurer)
	FieldCommand    = "command"     // kind command: a local binary
	FieldImage      = "image"       // kind image: a local image
	FieldPort       = "port"        // the port a user's own proxy listens on
	FieldMounts     = "mounts"      // kind image: files put into the container
)

// Target is what a scenario says about one system under test, as far as
// its driver reads it.
type Target struct {
	Name, Kind, Seed string
	Config           string            // a configuration variant (nginx: plain, upgrade, map)
	Params           map[string]string // template parameters
	Args             []string          // extra command-line flags (refproxy; command and image: the whole command line)
	// ConfigFile is the user's configuration file as the scenario names
	// it (config_file, relative to the scenario file), ConfigText its
	// contents, read when the scenario was parsed.
	ConfigFile string
	ConfigText []byte
	Command    string            // kind command: the binary, a path or a name in PATH
	Image      string            // kind image: a local image reference
	Port       int               // the port a command or image listens on; 0 = 8080
	Mounts     map[string][]byte // kind image: path in the container → contents
}

// Env is what the stack knows and a scenario does not: addresses and paths
// as the target's service will see them.
type Env struct {
	Listen    string   // "0.0.0.0:8080" (or "127.200.1.5:8080" locally); "" = "0.0.0.0:8080"
	Upstreams []string // backend addresses "backend-1:9000", … then blackholes (Scenario.Upstreams order)
	// TLSCert and TLSKey are paths as the service sees them, when TLS is
	// on; Files holds them (and anything else every service needs), and
	// CertPEM, KeyPEM their contents, for a proxy that wants them another
	// way.
	TLSCert, TLSKey string
	Files           map[string][]byte
	CertPEM, KeyPEM []byte
	TempDir         string // where pid files and temporary files go; "" = "/tmp"
	Admin           string // where a proxy that has one serves wsbench's admin endpoint (refproxy)
	// Path maps a file of Service.Files to the path the service sees
	// (stack.Stack.Path); nil = the path itself, as in a container.
	Path func(p string) string
	// Runtime is the stack's runtime (stack.RuntimeDocker or
	// stack.RuntimeLocal), for kinds that run in only one of them.
	Runtime string
}

func (e Env) path(p string) string {
	if e.Path == nil {
		return p
	}
	return e.Path(p)
}

// Service is a target's stack service and what the results keep of it.
type Service struct {
	stack.Service
	// Config is the rendered configuration, saved with the results as
	// ConfigName ("nginx.conf"); nil for a kind configured by flags.
	Config     []byte
	ConfigName string
	// Admin reports that the service answers wsbench's admin endpoint
	// (process usage) at Env.Admin.
	Admin bool
	// Source maps Config back to the user's file when Config was
	// rewritten from one (config_file); nil for a rendered template.
	Source *Source
}

// ParamError is a problem with one field of a target, so that the scenario
// parser can point at its line.
type ParamError struct {
	Field string // "config", "params.read_timeout", "args[0]", …
	Err   error
}

func (e *ParamError) Error() string {
	if e.Field == FieldConfig {
		return e.Err.Error()
	}
	return e.Field + ": " + e.Err.Error()
}

func (e *ParamError) Unwrap() error { return e.Err }

// Check validates target t: its kind, the fields its kind does not take,
// then the driver's own checks.
func Check(t Target) []error {
	d, ok := Lookup(t.Kind)
	switch {
	case t.Kind == "":
		return []error{&ParamError{"kind", fmt.Errorf("missing: want %s", strings.Join(Kinds(), ", "))}}
	case !ok:
		return []error{&ParamError{"kind", fmt.Errorf("%q: want %s%s", t.Kind, strings.Join(Kinds(), ", "), typo.DidYouMean(t.Kind, Kinds()))}}
	}
	var errs []error
	takes := func(f string) bool { return contains(d.Takes(), f) }
	if t.Config != "" && !takes(FieldConfig) {
		errs = append(errs, &ParamError{FieldConfig, fmt.Errorf("only %s targets take a config, this one is %s", taking(FieldConfig), t.Kind)})
	}
	if len(t.Params) > 0 && !takes(FieldParams) {
		hint := ""
		if takes(FieldArgs) {
			hint = " (" + t.Kind + ": use args)"
		}
		errs = append(errs, &ParamError{FieldParams, fmt.Errorf("only %s targets take params, this one is %s%s", taking(FieldParams), t.Kind, hint)})
	}
	errs = append(errs, d.Check(t)...)
	if len(t.Args) > 0 && !takes(FieldArgs) {
		errs = append(errs, &ParamError{FieldArgs, fmt.Errorf("only %s targets take args, this one is %s", taking(FieldArgs), t.Kind)})
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{FieldConfigFile, t.ConfigFile != ""}, {FieldCommand, t.Command != ""}, {FieldImage, t.Image != ""},
		{FieldPort, t.Port != 0}, {FieldMounts, len(t.Mounts) > 0}} {
		if f.set && !takes(f.name) {
			errs = append(errs, &ParamError{f.name, fmt.Errorf("only %s targets take %s, this one is %s", taking(f.name), f.name, t.Kind)})
		}
	}
	return errs
}

// taking names the kinds that take field f: "nginx", "nginx or haproxy".
func taking(f string) string {
	var kinds []string
	for _, d := range drivers {
		if contains(d.Takes(), f) {
			kinds = append(kinds, d.Kind())
		}
	}
	return strings.Join(kinds, " or ")
}

// checkErr joins a target's check errors into one, for Service.
func checkErr(t Target, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("driver: target %s: %w", t.Name, errors.Join(errs...))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
