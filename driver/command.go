package driver

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/wsbench/wsbench/stack"
)

// KindCommand is the user's own proxy as a local binary (--runtime
// local): Target.Command with Target.Args, listening on Target.Port.
const KindCommand = "command"

// DefaultPort is where a user's own proxy listens when the target sets no
// port: the port every proxy of the stack listens on.
const DefaultPort = 8080

type command struct{}

func (command) Kind() string    { return KindCommand }
func (command) Takes() []string { return []string{FieldCommand, FieldArgs, FieldPort} }
func (command) Proxies() bool   { return true }
func (command) Image() string   { return "" }
func (command) TLS(Target) bool { return false }

func (command) Check(t Target) []error {
	var errs []error
	if t.Command == "" {
		errs = append(errs, &ParamError{FieldCommand, errors.New("missing: kind command runs a local binary, e.g. command: ./bin/myproxy (relative to the scenario file, or a name in PATH)")})
	}
	return append(errs, ownCheck(t)...)
}

// Service runs the binary with the target's args, placeholders filled.
func (command) Service(t Target, env Env) (Service, bool, error) {
	if err := checkErr(t, Check(t)); err != nil {
		return Service{}, true, err
	}
	if env.Runtime != stack.RuntimeLocal {
		return Service{}, true, fmt.Errorf("driver: target %s: kind command runs a local binary, only with --runtime local; in containers use kind: image", t.Name)
	}
	return Service{Service: stack.Service{Role: KindCommand, Binary: t.Command, Args: ownArgs(t.Args, env)}}, true, nil
}

// ownCheck checks what kinds command and image share: the port and the
// placeholders in args.
func ownCheck(t Target) []error {
	var errs []error
	if t.Port < 0 || t.Port > 65535 {
		errs = append(errs, &ParamError{FieldPort, fmt.Errorf("%d: want 1-65535 (default %d)", t.Port, DefaultPort)})
	}
	for i, a := range t.Args {
		for _, m := range placeholderRE.FindAllString(a, -1) {
			if !slices.Contains(placeholders, m) {
				errs = append(errs, &ParamError{fmt.Sprintf("args[%d]", i), fmt.Errorf("%q: unknown placeholder %s; want %s", a, m, strings.Join(placeholders, ", "))})
			}
		}
	}
	return errs
}

// Placeholders in the args of a command or image target.
var (
	placeholders  = []string{"{{listen}}", "{{port}}", "{{upstreams}}", "{{upstream}}"}
	placeholderRE = regexp.MustCompile(`\{\{[^}]*\}\}`)
)

// ownArgs fills the placeholders: {{listen}} is the address the harness
// dials (host:port), {{port}} its port, {{upstreams}} the backends'
// addresses joined by commas; an arg holding {{upstream}} is repeated
// once per backend, with its address.
func ownArgs(args []string, env Env) []string {
	listen := or(env.Listen, defaultListen)
	port := listen[strings.LastIndexByte(listen, ':')+1:]
	r := strings.NewReplacer("{{listen}}", listen, "{{port}}", port, "{{upstreams}}", strings.Join(env.Upstreams, ","))
	var out []string
	for _, a := range args {
		if !strings.Contains(a, "{{upstream}}") {
			out = append(out, r.Replace(a))
			continue
		}
		for _, u := range env.Upstreams {
			out = append(out, r.Replace(strings.ReplaceAll(a, "{{upstream}}", u)))
		}
	}
	return out
}

// ListenPort is the port target t listens on: its port, or DefaultPort.
func ListenPort(t Target) int {
	if t.Port > 0 {
		return t.Port
	}
	return DefaultPort
}
