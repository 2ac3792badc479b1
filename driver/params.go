package driver

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"

	"github.com/wsbench/wsbench/internal/typo"
)

// param is one knob of a built-in template (nginx's name, so that one
// scenario runs on every kind): what it means, how it sets the template's
// data V, and, for a kind with no equivalent, why not. A target that sets
// an unsupported knob is not run: its rows say so (UnsupportedError).
type param[V any] struct {
	ParamInfo
	set         func(v *V, value string) error
	unsupported string
}

// paramInfos lists the knobs' documentation, in order.
func paramInfos[V any](ps []param[V]) []ParamInfo {
	out := make([]ParamInfo, len(ps))
	for i, p := range ps {
		out[i] = p.ParamInfo
	}
	return out
}

// paramNamesOf lists the knobs' names, sorted, for typo hints.
func paramNamesOf[V any](ps []param[V]) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	slices.Sort(out)
	return out
}

// setParams sets params on v through ps, in ps's order (a knob may read
// one set before it); an unknown name is an error with a typo hint. Every
// error is a *ParamError naming the knob.
func setParams[V any](v *V, ps []param[V], params map[string]string) []error {
	names := paramNamesOf(ps)
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(params)) {
		if !slices.Contains(names, name) {
			errs = append(errs, paramErr(name, fmt.Errorf("unknown parameter%s", typo.Hint(name, names))))
		}
	}
	for _, p := range ps {
		value, ok := params[p.Name]
		if !ok {
			continue
		}
		if err := p.set(v, strings.TrimSpace(value)); err != nil {
			errs = append(errs, paramErr(p.Name, fmt.Errorf("%q: %w", value, err)))
		}
	}
	return errs
}

// unsupportedParam is the UnsupportedError of the first knob t sets that
// the kind (version: "haproxy 2.6") has no equivalent for, or nil.
func unsupportedParam[V any](ps []param[V], t Target, version string) error {
	for _, p := range ps {
		if _, ok := t.Params[p.Name]; ok && p.unsupported != "" {
			return &UnsupportedError{version, p.Name, p.unsupported}
		}
	}
	return nil
}

// checkIdentity checks what every template reads of a target besides its
// knobs: its kind (conf names the file the template renders), and its
// name and seed, which land in a comment of the configuration, so a
// newline in either would start a directive.
func checkIdentity(t Target, kind, conf string) error {
	switch {
	case t.Kind != kind:
		return configError(fmt.Errorf("kind %q: only %s targets render %s", t.Kind, kind, conf))
	case !nameRE.MatchString(t.Name):
		return configError(fmt.Errorf("target name %q: want lowercase letters, digits and '-'", t.Name))
	case t.Seed != "" && !seedRE.MatchString(t.Seed):
		return configError(fmt.Errorf("seed %q: want S1 … S11", t.Seed))
	}
	return nil
}

// execute renders a checked view into the configuration named conf.
func execute(tmpl *template.Template, t Target, conf string, v any) ([]byte, error) {
	var b bytes.Buffer
	if err := tmpl.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("driver: target %s: render %s: %w", t.Name, conf, err)
	}
	return b.Bytes(), nil
}
