package driver

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// nginx's config_file rule: the file's `upstream wsbench_backends { … }`
// gets one server line per echo backend, with the parameters of its first
// server line (max_fails=…); its other directives (least_conn, hash …,
// keepalive) stay. The file's one listen directive gets the harness's
// address; its other parameters stay. Every directive stays on the line
// it was on (the servers share the first server's line), so nginx's line
// numbers are the user's.

// CheckCommand is nginx's own check.
func (nginx) CheckCommand() string { return "nginx -t" }

// UserConfig rewrites a user's nginx.conf for env.
func (nginx) UserConfig(file string, data []byte, env Env) ([]byte, *Source, error) {
	fail := func(line int, format string, args ...any) ([]byte, *Source, error) {
		return nil, nil, &FileError{File: file, Line: line, Err: fmt.Errorf(format, args...)}
	}
	dirs, err := nginxDirectives(data)
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			fe.File = file
		}
		return nil, nil, err
	}
	var upstream *nginxDirective
	var listens []*nginxDirective
	for _, d := range dirs {
		switch {
		case d.name() == "upstream" && len(d.args) == 2 && d.args[1].text == UpstreamName && d.block:
			if upstream != nil {
				return fail(d.line, "a second upstream %s (the first is at line %d)", UpstreamName, upstream.line)
			}
			upstream = d
		case d.name() == "listen":
			listens = append(listens, d)
		}
	}
	if upstream == nil {
		return fail(0, "no `upstream %s { server …; }`: the harness points that upstream's servers at its echo backends; name your upstream %s and proxy_pass to http://%s", UpstreamName, UpstreamName, UpstreamName)
	}
	var servers []*nginxDirective
	for _, d := range dirs {
		if d.parent == upstream && d.name() == "server" {
			servers = append(servers, d)
		}
	}
	if len(servers) == 0 {
		return fail(upstream.line, "upstream %s has no server line: give it one (its parameters apply to every backend)", UpstreamName)
	}
	if len(servers[0].args) < 2 {
		return fail(servers[0].line, "server: no address")
	}
	switch {
	case len(listens) == 0:
		return fail(0, "no listen directive: the harness points the file's one listen at its own address")
	case len(listens) > 1:
		return fail(listens[1].line, "a second listen (the first is at line %d): the harness points exactly one listen at its address; keep one", listens[0].line)
	case len(listens[0].args) < 2:
		return fail(listens[0].line, "listen: no address")
	}
	for _, a := range listens[0].args[2:] {
		if a.text == "ssl" || a.text == "quic" {
			return fail(listens[0].line, "listen … %s: TLS is not supported with config_file (wsbench dials ws://); use the built-in template's tls: on", a.text)
		}
	}
	var edits []edit
	addr := listens[0].args[1]
	edits = append(edits, edit{addr.start, addr.end, env.Listen})
	first := servers[0]
	params := ""
	for _, a := range first.args[2:] {
		params += " " + string(data[a.start:a.end])
	}
	var b strings.Builder
	for i, u := range env.Upstreams {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("server " + u + params + ";")
	}
	for i, s := range servers {
		// What a directive spanned keeps its newlines, so no line moves.
		text := strings.Repeat("\n", bytes.Count(data[s.start:s.end], []byte("\n")))
		if i == 0 {
			text = b.String() + text
		}
		edits = append(edits, edit{s.start, s.end, text})
	}
	out, lines := applyEdits(data, edits)
	return out, &Source{File: file, Lines: lines}, nil
}

// nginxToken is a word of an nginx configuration, or ";", "{", "}".
type nginxToken struct {
	text       string // unquoted
	start, end int    // byte offsets in the file, quotes included
	line       int
}

// nginxDirective is one directive: its words (name first), where it
// starts (its name) and ends (after its ";" or "{"), and its block.
type nginxDirective struct {
	args       []nginxToken
	start, end int
	line       int
	block      bool            // it opens a block
	parent     *nginxDirective // the block it is in; nil at the top
}

func (d *nginxDirective) name() string { return d.args[0].text }

// nginxDirectives lists every directive of a configuration, in order, as
// nginx's own parser splits it: words, quoted strings, # comments, ";",
// "{" and "}".
func nginxDirectives(data []byte) ([]*nginxDirective, error) {
	toks, err := nginxTokens(data)
	if err != nil {
		return nil, err
	}
	var out []*nginxDirective
	var stack []*nginxDirective
	var cur *nginxDirective
	parent := func() *nginxDirective {
		if len(stack) == 0 {
			return nil
		}
		return stack[len(stack)-1]
	}
	for _, t := range toks {
		switch t.text {
		case ";", "{":
			if cur == nil {
				return nil, &FileError{Line: t.line, Err: fmt.Errorf("unexpected %q", t.text)}
			}
			cur.end = t.end
			if t.text == "{" {
				cur.block = true
				stack = append(stack, cur)
			}
			cur = nil
		case "}":
			if cur != nil {
				return nil, &FileError{Line: cur.line, Err: fmt.Errorf("directive %q has no ending \";\"", cur.name())}
			}
			if len(stack) == 0 {
				return nil, &FileError{Line: t.line, Err: errors.New("unexpected \"}\"")}
			}
			stack = stack[:len(stack)-1]
		default:
			if cur == nil {
				cur = &nginxDirective{start: t.start, line: t.line, parent: parent()}
				out = append(out, cur)
			}
			cur.args = append(cur.args, t)
		}
	}
	if cur != nil {
		return nil, &FileError{Line: cur.line, Err: fmt.Errorf("directive %q has no ending \";\"", cur.name())}
	}
	if len(stack) > 0 {
		return nil, &FileError{Line: stack[len(stack)-1].line, Err: errors.New("block not closed: unexpected end of file, expecting \"}\"")}
	}
	return out, nil
}

func nginxTokens(data []byte) ([]nginxToken, error) {
	var out []nginxToken
	line := 1
	for i := 0; i < len(data); {
		c := data[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
		case c == ';' || c == '{' || c == '}':
			out = append(out, nginxToken{string(c), i, i + 1, line})
			i++
		case c == '"' || c == '\'':
			start, startLine := i, line
			var b strings.Builder
			for i++; i < len(data) && data[i] != c; i++ {
				if data[i] == '\\' && i+1 < len(data) {
					i++
				}
				if data[i] == '\n' {
					line++
				}
				b.WriteByte(data[i])
			}
			if i >= len(data) {
				return nil, &FileError{Line: startLine, Err: errors.New("quoted string not closed")}
			}
			i++
			out = append(out, nginxToken{b.String(), start, i, startLine})
		default:
			start := i
			for i < len(data) && !strings.ContainsRune(" \t\r\n;{}", rune(data[i])) {
				if data[i] == '$' && i+1 < len(data) && data[i+1] == '{' { // ${var}
					for i < len(data) && data[i] != '}' {
						i++
					}
				}
				i++
			}
			out = append(out, nginxToken{string(data[start:i]), start, i, line})
		}
	}
	return out, nil
}
