package driver

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// UpstreamName is the upstream (nginx) or backend (haproxy) of a user's
// configuration file whose server lines the harness points at its echo
// backends.
const UpstreamName = "wsbench_backends"

// UserConfigurer is a driver that runs the user's own configuration file
// (config_file:) instead of a rendered template. A kind opts in by
// implementing it, taking FieldConfigFile, and in Service running
// UserConfig's result when Target.ConfigFile is set (see nginx.go).
type UserConfigurer interface {
	// UserConfig rewrites the file (named file, for messages) for env:
	// the servers of its UpstreamName at env.Upstreams, its one listener
	// at env.Listen, nothing else. A rule the file breaks is a
	// *FileError naming the file and line.
	UserConfig(file string, data []byte, env Env) ([]byte, *Source, error)
	// CheckCommand names the proxy's own check (`nginx -t`), for messages;
	// the stack runs it (stack.Program.Check, or nginx's -t).
	CheckCommand() string
}

// Source maps a configuration rewritten from the user's file back to it,
// so that the proxy's own messages name the user's file and line.
type Source struct {
	File  string // as the scenario names it: "./my-nginx.conf"
	Lines []int  // Lines[i] is the user's line of line i+1 of the rewritten file
}

// Map rewrites every "<conf>:<line>" in a proxy's message (conf: the
// configuration's path as the proxy saw it) into the user's file and line.
func (s *Source) Map(msg, conf string) string {
	re := regexp.MustCompile(regexp.QuoteMeta(conf) + `:(\d+)`)
	msg = re.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(m[strings.LastIndexByte(m, ':')+1:])
		if n >= 1 && n <= len(s.Lines) {
			n = s.Lines[n-1]
		}
		return s.File + ":" + strconv.Itoa(n)
	})
	return strings.ReplaceAll(msg, conf, s.File)
}

// FileError is a rule of config_file the user's file breaks, at a line
// (0: the file as a whole).
type FileError struct {
	File string
	Line int
	Err  error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// checkEnv is an environment for checking a file's rules without a
// stack: two upstreams and the default listener.
var checkEnv = Env{Listen: defaultListen, Upstreams: []string{"127.0.0.1:9000", "127.0.0.1:9001"}}

// userConfigCheck checks a config_file target: the file applies the
// rules, and nothing the file replaces is set.
func userConfigCheck(d UserConfigurer, t Target) []error {
	var errs []error
	if t.Config != "" {
		errs = append(errs, &ParamError{FieldConfig, fmt.Errorf("%q: a target with config_file runs that file, not a variant; remove one of them", t.Config)})
	}
	if len(t.Params) > 0 {
		errs = append(errs, &ParamError{FieldParams, errors.New("a target with config_file is configured by that file; params apply to the built-in template only")})
	}
	if _, _, err := d.UserConfig(t.ConfigFile, t.ConfigText, checkEnv); err != nil {
		errs = append(errs, &ParamError{FieldConfigFile, err})
	}
	return errs
}

// lineMap is the identity map of a file's n lines, for a rewrite that
// keeps every line where it was.
func lineMap(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}
