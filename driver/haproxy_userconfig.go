package driver

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// haproxy's config_file rule: the file's `backend wsbench_backends` (or
// `listen wsbench_backends`) section gets one server line per echo
// backend, named wsbench-1 …, in place of its first server line and with
// that line's options (check, maxconn …); its other server lines go. The
// file's one bind line gets the harness's address; its options stay.

// haproxySections are the keywords that start a section.
var haproxySections = []string{"global", "defaults", "frontend", "backend", "listen", "peers", "resolvers",
	"userlist", "cache", "program", "http-errors", "ring", "mailers", "crt-store", "traces"}

// CheckCommand is haproxy's own check.
func (haproxy) CheckCommand() string { return "haproxy -c" }

// UserConfig rewrites a user's haproxy.cfg for env.
func (haproxy) UserConfig(file string, data []byte, env Env) ([]byte, *Source, error) {
	fail := func(line int, format string, args ...any) ([]byte, *Source, error) {
		return nil, nil, &FileError{File: file, Line: line, Err: fmt.Errorf(format, args...)}
	}
	lines := strings.Split(string(data), "\n")
	section := ""
	upstreamLine, bindLine := 0, 0
	var servers []int // 0-based indexes of the upstream's server lines
	var bindWords []haproxyWord
	for i, l := range lines {
		w := haproxyWords(l)
		if len(w) == 0 {
			continue
		}
		switch kw := w[0].text; {
		case contains(haproxySections, kw):
			section = kw
			if (kw == "backend" || kw == "listen") && len(w) > 1 && w[1].text == UpstreamName {
				if upstreamLine > 0 {
					return fail(i+1, "a second %s %s section (the first is at line %d)", kw, UpstreamName, upstreamLine)
				}
				upstreamLine = i + 1
				section = UpstreamName
			}
		case kw == "server" && section == UpstreamName:
			if len(w) < 3 {
				return fail(i+1, "server: want `server NAME ADDRESS [options]`")
			}
			servers = append(servers, i)
		case kw == "bind":
			if bindLine > 0 {
				return fail(i+1, "a second bind (the first is at line %d): the harness points exactly one bind at its address; keep one", bindLine)
			}
			if len(w) < 2 {
				return fail(i+1, "bind: no address")
			}
			for _, o := range w[2:] {
				if o.text == "ssl" {
					return fail(i+1, "bind … ssl: TLS is not supported with config_file (wsbench dials ws://); use the built-in template's tls: on")
				}
			}
			bindLine, bindWords = i+1, w
		}
	}
	switch {
	case upstreamLine == 0:
		return fail(0, "no `backend %s` section: the harness points that backend's servers at its echo backends; name your backend %s and use it (default_backend %s)", UpstreamName, UpstreamName, UpstreamName)
	case len(servers) == 0:
		return fail(upstreamLine, "backend %s has no server line: give it one (its options apply to every backend)", UpstreamName)
	case bindLine == 0:
		return fail(0, "no bind line: the harness points the file's one bind at its own address")
	}
	var out []string
	var src []int
	for i, l := range lines {
		switch {
		case i+1 == bindLine:
			a := bindWords[1]
			l = l[:a.start] + env.Listen + l[a.end:]
		case i == servers[0]:
			w := haproxyWords(l)
			indent, opts := l[:w[0].start], strings.TrimRight(l[w[2].end:], " \t\r")
			for j, u := range env.Upstreams {
				out = append(out, indent+"server wsbench-"+strconv.Itoa(j+1)+" "+u+opts)
				src = append(src, i+1)
			}
			continue
		case slices.Contains(servers, i):
			l = "" // keeps the line count
		}
		out = append(out, l)
		src = append(src, i+1)
	}
	return []byte(strings.Join(out, "\n")), &Source{File: file, Lines: src}, nil
}

// haproxyWord is a word of a haproxy configuration line.
type haproxyWord struct {
	text       string
	start, end int
}

// haproxyWords splits a line as haproxy does, closely enough to find
// keywords and addresses: blanks separate words, # starts a comment
// outside quotes, a backslash escapes the next character.
func haproxyWords(l string) []haproxyWord {
	var out []haproxyWord
	for i := 0; i < len(l); {
		switch c := l[i]; {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			return out
		default:
			start := i
			var quote byte
			for i < len(l) {
				c := l[i]
				if quote == 0 && (c == ' ' || c == '\t' || c == '\r' || c == '#') {
					break
				}
				switch {
				case c == '\\':
					i++
				case quote == 0 && (c == '"' || c == '\''):
					quote = c
				case c == quote:
					quote = 0
				}
				i++
			}
			i = min(i, len(l))
			out = append(out, haproxyWord{strings.Trim(l[start:i], `"'`), start, i})
		}
	}
	return out
}
