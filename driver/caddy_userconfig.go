package driver

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
)

// caddy's config_file rule. Caddy has no named upstream group to fill in
// (nginx's upstream, haproxy's backend), so the file names the echo
// backends the way a Caddy user names any upstream: `reverse_proxy
// wsbench_backends { … }` (or `to wsbench_backends` in its block), the
// word standing for every backend, as nginx's `proxy_pass
// http://wsbench_backends` does. The harness replaces that word with the
// backends' addresses; the block's lb_policy, transport, timeouts … stay,
// other reverse_proxy directives are left alone, and the file stays a
// valid Caddyfile outside wsbench. The file's one site block gets the
// address http://:<port>; global options the harness needs (no admin
// endpoint, no automatic HTTPS, nothing persisted, the listener bound
// where the harness dials) are added at the end of the file's global
// options block, or as one: the last of an option wins in Caddy, so they
// override the file's. Lines added share the line of the block's "}".

// CheckCommand is caddy's own check.
func (caddy) CheckCommand() string { return "caddy validate" }

// caddyGlobals are the global options the harness adds; host is where
// the site listens.
func caddyGlobals(host string) string {
	return "\t# added by wsbench: no admin endpoint, no automatic HTTPS, the site on the harness's address\n" +
		"\tadmin off\n\tauto_https off\n\tpersist_config off\n\tdefault_bind " + host + "\n"
}

// UserConfig rewrites a user's Caddyfile for env.
func (caddy) UserConfig(file string, data []byte, env Env) ([]byte, *Source, error) {
	fail := func(line int, format string, args ...any) ([]byte, *Source, error) {
		return nil, nil, &FileError{File: file, Line: line, Err: fmt.Errorf(format, args...)}
	}
	host, port, err := net.SplitHostPort(env.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("driver: listen address %q: %w", env.Listen, err)
	}
	toks, err := caddyTokens(data)
	var blocks []*caddyBlock
	if err == nil {
		blocks, err = caddyBlocks(toks)
	}
	if fe, ok := errors.AsType[*FileError](err); ok {
		fe.File = file
	}
	if err != nil {
		return nil, nil, err
	}
	var global *caddyBlock
	var sites []*caddyBlock
	for i, b := range blocks {
		switch k := b.keys; {
		case len(k) == 0 && i == 0:
			global = b
		case len(k) == 0, k[0].text == "import", strings.HasPrefix(k[0].text, "(") || strings.HasPrefix(k[0].text, "&("):
			// caddy's to refuse, an import, a snippet or a named route
		default:
			sites = append(sites, b)
		}
	}
	switch {
	case len(sites) == 0:
		return fail(0, "no site block: the harness serves the file's one site at its own address")
	case len(sites) > 1:
		return fail(sites[1].keys[0].line, "a second site block (the first is at line %d): the harness serves exactly one site at its address; keep one", sites[0].keys[0].line)
	case len(sites[0].keys) > 1:
		return fail(sites[0].keys[1].line, "site block with more than one address (%s, %s): the harness serves it at one address; keep one", sites[0].keys[0].text, sites[0].keys[1].text)
	}
	if global != nil {
		for _, d := range global.dirs {
			if d.parent == nil && d.name.text == "default_bind" {
				return fail(d.name.line, "default_bind: the harness binds the site to its own address; remove it")
			}
		}
	}
	var marker *caddyToken
	var proxy *caddyDirective
	for _, b := range blocks {
		if b == global {
			continue
		}
		for _, d := range b.dirs {
			switch {
			case d.parent == nil && d.name.text == "bind":
				return fail(d.name.line, "bind: the harness binds the site to its own address; remove it")
			case d.parent == nil && d.name.text == "tls":
				return fail(d.name.line, "tls: TLS is not supported with config_file (wsbench dials ws://); use the built-in template's tls: on")
			case d.name.text != "reverse_proxy":
				continue
			}
			ups := caddyUpstreams(d, b)
			var mine *caddyToken
			for i, u := range ups {
				switch {
				case u.text == UpstreamName:
					mine = &ups[i]
				case strings.Contains(u.text, UpstreamName):
					return fail(u.line, "reverse_proxy upstream %q: write the bare word %s, which the harness replaces with its echo backends", u.text, UpstreamName)
				}
			}
			switch {
			case mine == nil:
				continue
			case proxy != nil:
				return fail(d.name.line, "a second reverse_proxy %s (the first is at line %d)", UpstreamName, proxy.name.line)
			case len(ups) > 1:
				return fail(d.name.line, "reverse_proxy: %s stands for every echo backend; give it as the only upstream, not with %d others", UpstreamName, len(ups)-1)
			}
			marker, proxy = mine, d
		}
	}
	if proxy == nil {
		return fail(0, "no `reverse_proxy %s`: the harness replaces that upstream with its echo backends; proxy to %s (lb_policy, transport … in its block apply to every backend)", UpstreamName, UpstreamName)
	}
	site := sites[0].keys[0]
	edits := []edit{
		{marker.start, marker.end, strings.Join(env.Upstreams, " ")},
		{site.start, site.end, "http://:" + port},
	}
	if global != nil {
		at := toks[global.close].start
		edits = append(edits, edit{at, at, caddyGlobals(host)})
	} else {
		at := 0
		if bytes.HasPrefix(data, caddyBOM) {
			at = len(caddyBOM)
		}
		edits = append(edits, edit{at, at, "{\n" + caddyGlobals(host) + "}\n"})
	}
	out, lines := applyEdits(data, edits)
	return out, &Source{File: file, Lines: lines}, nil
}

// caddyUpstreams are a reverse_proxy's upstreams: its arguments after an
// optional matcher (*, /path, @name), then those of its `to` lines.
func caddyUpstreams(d *caddyDirective, b *caddyBlock) []caddyToken {
	ups := d.args
	if len(ups) > 0 && (ups[0].text == "*" || strings.HasPrefix(ups[0].text, "/") || strings.HasPrefix(ups[0].text, "@")) {
		ups = ups[1:]
	}
	ups = append([]caddyToken(nil), ups...)
	for _, c := range b.dirs {
		if c.parent == d && c.name.text == "to" {
			ups = append(ups, c.args...)
		}
	}
	return ups
}

var caddyBOM = []byte("\xef\xbb\xbf")

// caddyToken is a token of a Caddyfile, as caddy's lexer splits it.
type caddyToken struct {
	text       string
	quoted     bool
	line       int // caddy's line: where the token starts, a continued line counting as its first
	endLine    int // the line it ends on (a quoted token or heredoc may span lines)
	start, end int // byte offsets, quotes included
}

// brace reports whether t opens ("{") or closes ("}") a block.
func (t caddyToken) brace(b string) bool { return t.text == b && !t.quoted }

// caddyTokens splits a Caddyfile as caddy's lexer does: blanks separate
// tokens, # at a token's start comments out the line, "…" and `…` quote,
// <<MARKER starts a heredoc, a backslash before a newline continues the
// line.
func caddyTokens(data []byte) ([]caddyToken, error) {
	var out []caddyToken
	line, joined := 1, 0 // joined: lines continued by a backslash, counted at the next newline
	newline := func() { line, joined = line+1+joined, 0 }
	continuation := func(i int) int { // the length of "\\\n" or "\\\r\n" at i, else 0
		switch {
		case bytes.HasPrefix(data[i:], []byte("\\\n")):
			return 2
		case bytes.HasPrefix(data[i:], []byte("\\\r\n")):
			return 3
		}
		return 0
	}
	blank := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f' }
	i := 0
	if bytes.HasPrefix(data, caddyBOM) {
		i = len(caddyBOM)
	}
	for i < len(data) {
		c := data[i]
		if n := continuation(i); n > 0 {
			joined++
			i += n
			continue
		}
		switch {
		case c == '\n':
			newline()
			i++
		case blank(c):
			i++
		case c == '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
		case c == '"' || c == '`':
			t := caddyToken{quoted: true, line: line, start: i}
			var b strings.Builder
			for i++; ; i++ {
				if i >= len(data) {
					return nil, &FileError{Line: t.line, Err: errors.New("quoted string not closed")}
				}
				ch := data[i]
				if c == '"' && ch == '\\' && i+1 < len(data) && data[i+1] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				if ch == c {
					i++
					break
				}
				if ch == '\n' {
					newline()
				}
				b.WriteByte(ch)
			}
			t.text, t.endLine, t.end = b.String(), line, i
			out = append(out, t)
		default:
			t := caddyToken{line: line, start: i}
			for i < len(data) && !blank(data[i]) && continuation(i) == 0 {
				i++
			}
			t.text, t.end = string(data[t.start:i]), i
			rest := data[i:]
			if marker, ok := strings.CutPrefix(t.text, "<<"); ok && marker != "" && (bytes.HasPrefix(rest, []byte("\n")) || bytes.HasPrefix(rest, []byte("\r\n"))) {
				body := i + bytes.IndexByte(rest, '\n') + 1
				n := bytes.Index(data[body:], []byte(marker))
				if n < 0 {
					return nil, &FileError{Line: t.line, Err: fmt.Errorf("heredoc <<%s: no ending marker %s", marker, marker)}
				}
				i = body + n + len(marker)
				t.text, t.quoted, t.end = string(data[body:body+n]), true, i
				line += bytes.Count(data[t.start:i], []byte("\n"))
			}
			t.endLine = line
			out = append(out, t)
		}
	}
	return out, nil
}

// caddyBlock is a top-level block of a Caddyfile: the global options (no
// keys), a snippet, a named route or a site.
type caddyBlock struct {
	keys  []caddyToken // site addresses, "(snippet)", "&(route)"
	close int          // the token index of its "}"; -1 without braces
	dirs  []*caddyDirective
}

// caddyDirective is a directive or subdirective: its name, the rest of
// its line (without a block's "{"), and the directive whose block it is
// in (nil: the top-level block's own).
type caddyDirective struct {
	name   caddyToken
	args   []caddyToken
	parent *caddyDirective
}

// caddyBlocks parses tokens into blocks as caddy's parser does, closely
// enough to find directives and their subdirectives.
func caddyBlocks(toks []caddyToken) ([]*caddyBlock, error) {
	newLine := func(i int) bool { return i == 0 || toks[i-1].endLine != toks[i].line }
	var blocks []*caddyBlock
	for i := 0; i < len(toks); {
		b := &caddyBlock{close: -1}
		blocks = append(blocks, b)
		// Keys: one line, continued past a trailing comma.
		for i < len(toks) && !toks[i].brace("{") {
			k := toks[i]
			if strings.HasSuffix(k.text, "{") && !k.quoted {
				return nil, &FileError{Line: k.line, Err: fmt.Errorf("site address %q ends with a curly brace: put a space between the address and the brace", k.text)}
			}
			if k.text = strings.TrimSuffix(k.text, ","); k.text != "" {
				b.keys = append(b.keys, k)
			}
			i++
			if i < len(toks) && newLine(i) && !strings.HasSuffix(toks[i-1].text, ",") {
				break
			}
		}
		if len(b.keys) > 0 && b.keys[0].text == "import" {
			continue
		}
		braced := i < len(toks) && toks[i].brace("{")
		if braced {
			i++
		}
		var closed bool
		var err error
		if i, closed, err = caddyDirectives(toks, i, b, nil, newLine); err != nil {
			return nil, err
		}
		switch {
		case braced && !closed:
			line := toks[len(toks)-1].line
			if len(b.keys) > 0 {
				line = b.keys[0].line
			}
			return nil, &FileError{Line: line, Err: errors.New("block not closed: unexpected end of file, expecting \"}\"")}
		case braced:
			b.close = i - 1
		case closed:
			return nil, &FileError{Line: toks[i-1].line, Err: errors.New("unexpected \"}\"")}
		}
	}
	return blocks, nil
}

// caddyDirectives reads directives from toks[i] into b with parent, up
// to and including the "}" that closes their block (closed) or to the end.
func caddyDirectives(toks []caddyToken, i int, b *caddyBlock, parent *caddyDirective, newLine func(int) bool) (next int, closed bool, err error) {
	for i < len(toks) {
		if toks[i].brace("}") {
			return i + 1, true, nil
		}
		d := &caddyDirective{name: toks[i], parent: parent}
		b.dirs = append(b.dirs, d)
		for i++; i < len(toks) && !newLine(i); i++ {
			if !toks[i].brace("{") {
				d.args = append(d.args, toks[i])
				continue
			}
			end, closed, err := caddyDirectives(toks, i+1, b, d, newLine)
			if err != nil {
				return 0, false, err
			}
			if !closed {
				return 0, false, &FileError{Line: d.name.line, Err: errors.New("block not closed: unexpected end of file, expecting \"}\"")}
			}
			i = end - 1
		}
	}
	return i, false, nil
}
