package driver

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wsbench/wsbench/stack"
)

// KindRefproxy is `wsbench proxy`, the reference proxy, configured by its
// flags (Target.Args).
const KindRefproxy = "refproxy"

type refproxy struct{}

func (refproxy) Kind() string    { return KindRefproxy }
func (refproxy) Takes() []string { return []string{FieldArgs} }
func (refproxy) Proxies() bool   { return true }
func (refproxy) Image() string   { return stack.ImageWsbench }
func (refproxy) TLS(Target) bool { return false }

// Check refuses the flags the stack sets itself.
func (refproxy) Check(t Target) []error {
	var errs []error
	for j, a := range t.Args {
		for _, flag := range []string{"--listen", "--upstream"} {
			if a == flag || strings.HasPrefix(a, flag+"=") {
				errs = append(errs, &ParamError{fmt.Sprintf("args[%d]", j), fmt.Errorf("%s is set by the stack (from the scenario's backends and upstreams)", flag)})
			}
		}
	}
	return errs
}

// Service runs `wsbench proxy` with an admin endpoint at env.Admin, unless
// the scenario's args set one themselves.
func (d refproxy) Service(t Target, env Env) (Service, bool, error) {
	if err := checkErr(t, Check(t)); err != nil {
		return Service{}, true, err
	}
	args := []string{"proxy", "--listen", or(env.Listen, defaultListen)}
	for _, u := range env.Upstreams {
		args = append(args, "--upstream", u)
	}
	args = append(args, t.Args...)
	admin := env.Admin != "" && !slices.Contains(t.Args, "--admin")
	if admin {
		args = append(args, "--admin", env.Admin)
	}
	return Service{Service: stack.Service{Role: KindRefproxy, Args: args, WaitLog: "wsbench proxy: listening on"}, Admin: admin}, true, nil
}

const defaultListen = "0.0.0.0:8080"

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
