package driver

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// UpstreamName is the upstream (nginx), backend (haproxy), balancer
// (apache) or reverse_proxy upstream (caddy) of a user's configuration
// file that the harness points at its echo backends.
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
// configuration's path as the proxy saw it), and httpd's "line <line> of
// <conf>", into the user's file and line.
func (s *Source) Map(msg, conf string) string {
	q := regexp.QuoteMeta(conf)
	re := regexp.MustCompile(`line (\d+) of ` + q + `|` + q + `:(\d+)`)
	msg = re.ReplaceAllStringFunc(msg, func(m string) string {
		sub := re.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[1] + sub[2])
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

// edit replaces the bytes start:end of a user's file with text.
type edit struct {
	start, end int
	text       string
}

// applyEdits applies non-overlapping edits to data and maps each line of
// the result to the user's line it came from: the j-th line an edit's text
// starts is the j-th line of what it replaced (the last one once the
// replaced lines run out), so text that keeps the replaced lines' newlines
// keeps every line where it was, and lines an edit adds all point at the
// user's line they stand for.
func applyEdits(data []byte, edits []edit) ([]byte, []int) {
	edits = slices.Clone(edits)
	// An insertion (start == end) goes before a replacement at its place.
	slices.SortFunc(edits, func(a, b edit) int { return cmp.Or(a.start-b.start, a.end-b.end) })
	var out []byte
	lines := []int{1}
	line, at := 1, 0 // the user's line of data[at]
	for _, e := range edits {
		for _, c := range data[at:e.start] {
			out = append(out, c)
			if c == '\n' {
				line++
				lines = append(lines, line)
			}
		}
		end := line + bytes.Count(data[e.start:e.end], []byte("\n"))
		j := 0
		for _, c := range []byte(e.text) {
			out = append(out, c)
			if c == '\n' {
				j++
				lines = append(lines, min(line+j, end))
			}
		}
		line, at = end, e.end
	}
	for _, c := range data[at:] {
		out = append(out, c)
		if c == '\n' {
			line++
			lines = append(lines, line)
		}
	}
	return out, lines
}
