package harness

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wsbench/wsbench/driver"
	"github.com/wsbench/wsbench/scenarios"
	"github.com/wsbench/wsbench/stack"
)

// ConfigError is a user's configuration file (config_file) that the
// proxy's own check refused: the run stops before any load. Output is the
// proxy's message, its file and line names the user's file.
type ConfigError struct {
	Scenario, Target string
	File             string // as the scenario names it
	Check            string // "nginx -t"
	Output           string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("harness: %s: target %s: %s refused %s:\n%s", e.Scenario, e.Target, e.Check, e.File, strings.TrimRight(e.Output, "\n"))
}

// checkConfigs runs the proxy's own check (nginx -t, haproxy -c …) of
// every target with a config_file, where the proxy will run (a container
// of its image, or the local binary), before any scenario starts. The
// backends are not up yet, so the file's upstreams point at numeric
// loopback addresses for the check: nginx and haproxy resolve names then.
func (h *harness) checkConfigs(ctx context.Context) error {
	type job struct {
		sc *scenarios.Scenario
		tg scenarios.Target
		d  driver.UserConfigurer
	}
	var jobs []job
	for _, sc := range h.o.Scenarios {
		for _, tg := range sc.Targets {
			d, ok := driver.Lookup(tg.Kind)
			uc, takes := d.(driver.UserConfigurer)
			if ok && takes && tg.ConfigFile != "" {
				jobs = append(jobs, job{sc, tg, uc})
			}
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	spec := h.o.Spec
	spec.StackID, spec.Log = h.o.Spec.RunID+"-check", h.live.lines()
	st, err := stack.Up(ctx, spec)
	defer func() { _ = st.Down(context.WithoutCancel(ctx)) }()
	if err != nil {
		return fmt.Errorf("harness: checking configuration files: %w", err)
	}
	for _, j := range jobs {
		h.live.printf("   checking %s with %s\n", j.tg.ConfigFile, j.d.CheckCommand())
		env := driver.Env{Listen: st.Bind(j.tg.Name, driver.ListenPort(j.tg.Driver())), Runtime: st.Spec().Runtime,
			TempDir: st.Path(j.tg.Name, "/tmp"), Path: func(p string) string { return st.Path(j.tg.Name, p) }}
		for i := range j.sc.Upstreams(j.tg) {
			env.Upstreams = append(env.Upstreams, "127.0.0.1:"+strconv.Itoa(backendPort+i))
		}
		d, _ := driver.Lookup(j.tg.Kind)
		svc, _, err := d.Service(j.tg.Driver(), env)
		if err != nil {
			return fmt.Errorf("harness: %s: %s: %w", j.sc.Name, j.tg.Name, err)
		}
		svc.Name, svc.Port = j.tg.Name, driver.ListenPort(j.tg.Driver())
		err = st.Check(ctx, svc.Service)
		if ce, ok := errors.AsType[*stack.CheckError](err); ok {
			out := string(ce.Output)
			if svc.Source != nil {
				out = svc.Source.Map(out, ce.Conf)
			}
			return &ConfigError{Scenario: j.sc.Name, Target: j.tg.Name, File: j.tg.ConfigFile, Check: j.d.CheckCommand(), Output: out}
		}
		if err != nil {
			return fmt.Errorf("harness: %s: %s: %w", j.sc.Name, j.tg.Name, err)
		}
	}
	return nil
}
