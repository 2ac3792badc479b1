package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wsbench/wsbench/internal/typo"
	"github.com/wsbench/wsbench/internal/yamlnode"
)

// MaxFileSize bounds a scenario file: they are a few kilobytes; anything
// much larger is not a scenario.
const MaxFileSize = 1 << 20

// maxErrors bounds how many problems one Parse reports.
const maxErrors = 20

// Error is one problem in a scenario file, located by line and key.
type Error struct {
	File string // as given to Parse, or "builtin:<name>.yaml"
	Line int    // 1-based; 0 when the problem has no line (an empty file)
	Key  string // e.g. "workloads[0].load.duration"; "" for the file as a whole
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("scenarios: ")
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// LoadFile reads and parses the scenario file at path. (It is not called
// Load: that name is the schema's load-generator settings type.)
func LoadFile(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scenarios: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("scenarios: read %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse decodes and validates one scenario file. file names it in errors.
// Decoding is strict: an unknown key, a value of the wrong type or unit, a
// duplicate key, or a reference to a target, backend or metric that does
// not exist is an error naming the file, the line and the key. Every
// problem found is reported (joined), up to 20.
func Parse(file string, data []byte) (*Scenario, error) {
	fail := func(line int, key string, err error) (*Scenario, error) {
		return nil, &Error{File: file, Line: line, Key: key, Err: err}
	}
	if len(data) > MaxFileSize {
		return fail(0, "", fmt.Errorf("%d bytes, larger than the %d KiB a scenario file may be", len(data), MaxFileSize>>10))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fail(0, "", errors.New("empty file, want a scenario (name, targets, workloads)"))
	}
	root, err := parseNode(data)
	if err != nil {
		line, msg := locate(err)
		if wildcardLine(data, line) {
			msg = fmt.Errorf("%w (a bare * starts a YAML alias: quote the wildcard, \"*\":)", msg)
		}
		return fail(line, "", msg)
	}
	if root.Kind != yaml.MappingNode {
		return fail(root.Line, "", fmt.Errorf("want a mapping (name: …, targets: …, workloads: …), got %s", yamlnode.KindName(root.Kind)))
	}
	w := &walker{file: file, pos: positions{}}
	w.walk(root, reflect.TypeOf(Scenario{}), "")
	if len(w.errs) > 0 {
		return nil, join(w.errs)
	}
	var s Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		// The walk checks what the decoder does; this is a safety net
		// (excessive aliasing, say), still with a line when yaml gives one.
		line, msg := locate(err)
		return fail(line, "", msg)
	}
	s.File = file
	if errs := validate(&s, w.pos, file); len(errs) > 0 {
		return nil, join(errs)
	}
	return &s, nil
}

// parseNode parses data into its document's root node, refusing files that
// hold more than one document (the rest would be silently ignored).
func parseNode(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == io.EOF:
	case err != nil:
		return nil, err
	default:
		return nil, fmt.Errorf("yaml: line %d: a second YAML document; a scenario file holds one", next.Line)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, errors.New("no YAML document")
	}
	return doc.Content[0], nil
}

var lineRE = regexp.MustCompile(`line (\d+): `)

// wildcardLine reports whether line (1-based) of data holds an unquoted "*"
// key, the usual cause of a YAML alias error in an expect block.
func wildcardLine(data []byte, line int) bool {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return false
	}
	return bytes.HasPrefix(bytes.TrimSpace(lines[line-1]), []byte("*:"))
}

// locate pulls the first "line N: " out of a yaml error.
func locate(err error) (int, error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	m := lineRE.FindStringSubmatchIndex(msg)
	if m == nil {
		return 0, errors.New(msg)
	}
	line, _ := strconv.Atoi(msg[m[2]:m[3]])
	return line, errors.New(msg[:m[0]] + msg[m[1]:])
}

// join returns the errors as one, ordered by line, at most maxErrors.
func join(errs []*Error) error {
	sortErrors(errs)
	out := make([]error, 0, min(len(errs), maxErrors)+1)
	for i, e := range errs {
		if i == maxErrors {
			out = append(out, fmt.Errorf("scenarios: %s: %d more problems not shown", e.File, len(errs)-maxErrors))
			break
		}
		out = append(out, e)
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

func sortErrors(errs []*Error) {
	for i := 1; i < len(errs); i++ { // insertion sort: stable, and lists are short
		for j := i; j > 0 && errs[j].Line < errs[j-1].Line; j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
}

// positions maps a key path ("workloads[0].load.conns") to its line.
type positions map[string]int

// line returns the line of path, or of its closest ancestor that has one.
func (p positions) line(path string) int {
	for path != "" {
		if l, ok := p[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// walker checks a YAML node tree against the Go types it will decode into,
// keeping the key path so that every error can name it: unknown and
// duplicate keys, lists where mappings belong, and values that do not
// decode (each leaf is decoded on its own, so a units type reports its own
// message).
type walker struct {
	file string
	pos  positions
	errs []*Error
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

func (w *walker) fail(n *yaml.Node, path string, format string, args ...any) {
	w.errs = append(w.errs, &Error{File: w.file, Line: n.Line, Key: path, Err: fmt.Errorf(format, args...)})
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode || isNull(n) {
		return // aliases are checked by the decoder (which bounds their expansion)
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		w.leaf(n, t, path)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		w.walk(n, t.Elem(), path)
	case reflect.Struct:
		w.mapping(n, t, path)
	case reflect.Map:
		w.dict(n, t, path)
	case reflect.Slice:
		w.list(n, t, path)
	default:
		w.leaf(n, t, path)
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func (w *walker) mapping(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.fail(n, path, "want a mapping (key: value, …), got %s", yamlnode.KindName(n.Kind))
		return
	}
	fields := yamlFields(t)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			w.fail(k, path, "a key must be a plain word, got %s", yamlnode.KindName(k.Kind))
			continue
		}
		if k.Value == "<<" { // a YAML merge key; the decoder applies it
			continue
		}
		p := join2(path, k.Value)
		if prev, dup := seen[k.Value]; dup {
			w.fail(k, p, "duplicate key (first at line %d)", prev)
			continue
		}
		seen[k.Value] = k.Line
		f, ok := fields[k.Value]
		if !ok {
			w.fail(k, p, "unknown key%s", hint(k.Value, sortedKeys(fields)))
			continue
		}
		w.pos[p] = k.Line
		w.walk(v, f.Type, p)
	}
}

func (w *walker) dict(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.fail(n, path, "want a mapping (key: value, …), got %s", yamlnode.KindName(n.Kind))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			w.fail(k, path, "a key must be a plain word, got %s", yamlnode.KindName(k.Kind))
			continue
		}
		p := join2(path, k.Value)
		if prev, dup := seen[k.Value]; dup {
			w.fail(k, p, "duplicate key (first at line %d)", prev)
			continue
		}
		seen[k.Value] = k.Line
		w.pos[p] = k.Line
		w.walk(v, t.Elem(), p)
	}
}

func (w *walker) list(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.SequenceNode {
		w.fail(n, path, "want a list (- item, or [a, b]), got %s", yamlnode.KindName(n.Kind))
		return
	}
	for i, item := range n.Content {
		p := path + "[" + strconv.Itoa(i) + "]"
		w.pos[p] = item.Line
		w.walk(item, t.Elem(), p)
	}
}

// leaf decodes one scalar on its own to find a bad value.
func (w *walker) leaf(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode && !reflect.PointerTo(t).Implements(unmarshalerType) {
		w.fail(n, path, "want %s, got %s", typePhrase(t), yamlnode.KindName(n.Kind))
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		msg := err.Error() // an Unmarshaler's own message ("line 14: count \"many\": …")
		if !reflect.PointerTo(t).Implements(unmarshalerType) {
			msg = fmt.Sprintf("want %s, got %q", typePhrase(t), n.Value)
		}
		_, e := locate(errors.New(msg))
		w.fail(n, path, "%v", e)
	}
}

func typePhrase(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	case reflect.Float64, reflect.Float32:
		return "a number"
	}
	return "a " + t.Name()
}

// yamlFields maps a struct's yaml keys to its fields.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f
	}
	return out
}

func join2(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// hint suggests the closest known word, or lists them all.
func hint(got string, known []string) string { return typo.Hint(got, known) }

// didYouMean suggests the closest known word, if any is close; for messages
// that list the choices already.
func didYouMean(got string, known []string) string { return typo.DidYouMean(got, known) }

// suggest returns the known word closest to got when it is a likely typo.
func suggest(got string, known []string) string { return typo.Closest(got, known) }
