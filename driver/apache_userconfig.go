package driver

import (
	"bytes"
	"fmt"
	"net"
	"strings"
)

// apache's config_file rule: the file's `<Proxy "balancer://wsbench_backends">`
// section gets one BalancerMember per echo backend in place of its first
// member, with that member's scheme, path and parameters (upgrade=websocket
// timeout=…); its other members are blanked, its other directives
// (ProxySet lbmethod=…) stay. The file's one Listen gets the harness's
// address, and each <VirtualHost> (on the Listen's port, or any) becomes
// *:<the harness's port>, so that it still serves what the Listen accepts.
// Every other line stays where it was; the members added share the first
// member's line.

// apacheBalancer is the balancer whose members the harness replaces.
const apacheBalancer = "balancer://" + UpstreamName

// CheckCommand is httpd's own check.
func (apache) CheckCommand() string { return "apache2 -t" }

// UserConfig rewrites a user's httpd.conf for env.
func (apache) UserConfig(file string, data []byte, env Env) ([]byte, *Source, error) {
	fail := func(line int, format string, args ...any) ([]byte, *Source, error) {
		return nil, nil, &FileError{File: file, Line: line, Err: fmt.Errorf(format, args...)}
	}
	_, port, err := net.SplitHostPort(env.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("driver: listen address %q: %w", env.Listen, err)
	}
	var proxy *apacheLine
	var members, listens, vhosts []*apacheLine
	var sections []bool // open sections: true for the wsbench balancer's
	inProxy := func() bool {
		for _, p := range sections {
			if p {
				return true
			}
		}
		return false
	}
	for _, l := range apacheLines(data) {
		w := l.words
		switch name := strings.ToLower(w[0].text); {
		case strings.HasPrefix(name, "</"):
			if len(sections) > 0 {
				sections = sections[:len(sections)-1]
			}
		case strings.HasPrefix(name, "<"):
			args := sectionArgs(w[1:])
			ours := strings.TrimSuffix(name, ">") == "<proxy" && len(args) == 1 && isApacheBalancer(args[0].text)
			if ours && proxy != nil {
				return fail(l.line, "a second <Proxy %q> section (the first is at line %d)", apacheBalancer, proxy.line)
			}
			if ours {
				proxy = l
			}
			if strings.TrimSuffix(name, ">") == "<virtualhost" {
				vhosts = append(vhosts, l)
			}
			sections = append(sections, ours)
		case name == "listen":
			listens = append(listens, l)
		case name == "sslengine" && len(w) > 1 && !strings.EqualFold(w[1].text, "off"):
			return fail(l.line, "SSLEngine %s: TLS is not supported with config_file (wsbench dials ws://); use the built-in template's tls: on", w[1].text)
		case name == "balancermember" && inProxy():
			members = append(members, l)
		case name == "balancermember" && len(w) > 1 && isApacheBalancer(w[1].text):
			return fail(l.line, "BalancerMember %s outside its <Proxy> section: the harness replaces the members inside <Proxy %q>; move it there", w[1].text, apacheBalancer)
		}
	}
	switch {
	case proxy == nil:
		return fail(0, "no <Proxy %q> section: the harness points its BalancerMember lines at its echo backends; name your balancer %s and ProxyPass to %s/", apacheBalancer, UpstreamName, apacheBalancer)
	case len(members) == 0:
		return fail(proxy.line, "<Proxy %q> has no BalancerMember line: give it one (its parameters apply to every backend)", apacheBalancer)
	case len(listens) == 0:
		return fail(0, "no Listen directive: the harness points the file's one Listen at its own address")
	case len(listens) > 1:
		return fail(listens[1].line, "a second Listen (the first is at line %d): the harness points exactly one Listen at its address; keep one", listens[0].line)
	case len(listens[0].words) < 2:
		return fail(listens[0].line, "Listen: no address")
	}
	listen := listens[0]
	if len(listen.words) > 2 && strings.EqualFold(listen.words[2].text, "https") {
		return fail(listen.line, "Listen … https: TLS is not supported with config_file (wsbench dials ws://); use the built-in template's tls: on")
	}
	userPort := listen.words[1].text
	if i := strings.LastIndexByte(userPort, ':'); i >= 0 {
		userPort = userPort[i+1:]
	}
	edits := []edit{{listen.words[1].start, listen.words[1].end, env.Listen}}
	for _, v := range vhosts {
		addrs := sectionArgs(v.words[1:])
		if len(addrs) == 0 {
			return fail(v.line, "<VirtualHost>: no address")
		}
		for _, a := range addrs {
			if p := apachePort(a.text); p != "" && p != "*" && p != userPort {
				return fail(v.line, "<VirtualHost %s>: port %s, but the file's one Listen (line %d) is port %s: the harness serves every virtual host on that one listener", a.text, p, listen.line, userPort)
			}
		}
		edits = append(edits, edit{addrs[0].start, addrs[len(addrs)-1].end, "*:" + port})
	}
	first := members[0]
	if len(first.words) < 2 {
		return fail(first.line, "BalancerMember: no URL")
	}
	url := first.words[1]
	scheme, rest, ok := strings.Cut(url.text, "://")
	if !ok || rest == "" {
		return fail(first.line, "BalancerMember %q: want a URL such as http://host:port", url.text)
	}
	switch strings.ToLower(scheme) {
	case "https", "wss", "h2":
		return fail(first.line, "BalancerMember %s: the echo backends speak plain HTTP; use http:// (or ws://)", url.text)
	}
	path := ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		path = rest[i:]
	}
	quote := ""
	if c := data[url.start]; c == '"' || c == '\'' {
		quote = string(c)
	}
	params := ""
	for _, p := range first.words[2:] {
		params += " " + string(data[p.start:p.end])
	}
	indent := string(data[first.start:first.words[0].start])
	lines := make([]string, len(env.Upstreams))
	for i, u := range env.Upstreams {
		lines[i] = indent + "BalancerMember " + quote + scheme + "://" + u + path + quote + params
	}
	for i, m := range members {
		// A member continued over lines (\) leaves its lines blank.
		text := strings.Repeat("\n", bytes.Count(data[m.start:m.end], []byte("\n")))
		if i == 0 {
			text = strings.Join(lines, "\n") + text
		}
		edits = append(edits, edit{m.start, m.end, text})
	}
	out, src := applyEdits(data, edits)
	return out, &Source{File: file, Lines: src}, nil
}

func isApacheBalancer(s string) bool {
	return strings.EqualFold(strings.TrimSuffix(s, "/"), apacheBalancer)
}

// apachePort is the port of a <VirtualHost> address ("*:80" → "80",
// "[::1]:80" → "80"), "" when it names none.
func apachePort(addr string) string {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 || strings.HasSuffix(addr, "]") {
		return ""
	}
	return addr[i+1:]
}

// sectionArgs are the arguments of a section's opening line without its
// closing ">" (a word of its own after a quoted argument, else the last
// word's end).
func sectionArgs(w []apacheWord) []apacheWord {
	if len(w) == 0 {
		return nil
	}
	last := &w[len(w)-1]
	switch {
	case last.text == ">":
		return w[:len(w)-1]
	case strings.HasSuffix(last.text, ">") && !last.quoted:
		last.text = strings.TrimSuffix(last.text, ">")
		last.end--
	}
	return w
}

// apacheLine is one directive of an httpd.conf: a line, continued onto the
// next ones by a trailing backslash.
type apacheLine struct {
	line       int // its first line
	start, end int // byte offsets: its first line's start, its last line's end (before the newline)
	words      []apacheWord
}

// apacheWord is a word of a directive, as httpd splits it: blanks separate
// words, "…" and '…' quote, a backslash escapes the quote.
type apacheWord struct {
	text       string
	start, end int // byte offsets, quotes included
	quoted     bool
}

// apacheLines lists the directives of an httpd.conf, comments and blank
// lines left out.
func apacheLines(data []byte) []*apacheLine {
	var out []*apacheLine
	line := 1
	for at := 0; at < len(data); {
		l := &apacheLine{line: line, start: at}
		end := at
		for {
			nl := bytes.IndexByte(data[end:], '\n')
			if nl < 0 {
				end = len(data)
				break
			}
			end += nl
			line++
			if !bytes.HasSuffix(bytes.TrimRight(data[at:end], "\r"), []byte(`\`)) {
				break
			}
			end++
		}
		l.end = end
		at = min(end+1, len(data))
		l.words = apacheWords(data, l.start, l.end)
		if len(l.words) > 0 && !strings.HasPrefix(l.words[0].text, "#") {
			out = append(out, l)
		}
	}
	return out
}

func apacheWords(data []byte, start, end int) []apacheWord {
	var out []apacheWord
	blank := func(i int) bool {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			return true
		case '\\': // a continuation counts as a blank
			j := i + 1
			for j < end && data[j] == '\r' {
				j++
			}
			return j >= end || data[j] == '\n'
		}
		return false
	}
	for i := start; i < end; {
		if blank(i) {
			i++
			continue
		}
		w := apacheWord{start: i}
		if q := data[i]; q == '"' || q == '\'' {
			w.quoted = true
			var b strings.Builder
			for i++; i < end && data[i] != q; i++ {
				if data[i] == '\\' && i+1 < end && data[i+1] == q {
					i++
				}
				b.WriteByte(data[i])
			}
			i = min(i+1, end)
			w.text = b.String()
		} else {
			for i < end && !blank(i) {
				i++
			}
			w.text = string(data[w.start:i])
		}
		w.end = i
		out = append(out, w)
	}
	return out
}
