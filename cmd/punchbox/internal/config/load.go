package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Load reads, decodes, completes and validates the configuration file at
// path. Any error it returns matches ErrInvalid; a *Error lists each problem
// with its key and line.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrInvalid, path, errors.Unwrap(err))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, path, err)
	}
	c, err := Parse(data, filepath.Dir(abs), os.LookupEnv)
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			ce.File = path
		}
		return nil, err
	}
	c.file = path
	return c, nil
}

// Parse decodes a configuration from data. Relative paths in it are taken
// relative to dir; env looks up secrets from the environment (os.LookupEnv
// in production). The result has defaults applied and has been validated.
func Parse(data []byte, dir string, env func(string) (string, bool)) (*Config, error) {
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, &Error{Problems: []Problem{yamlProblem(err, keyIndex{})}}
	}
	if len(file.Docs) > 1 {
		return nil, &Error{Problems: []Problem{{Msg: "the file holds more than one YAML document"}}}
	}
	var body ast.Node
	if len(file.Docs) == 1 {
		body = file.Docs[0].Body
	}
	keys := indexKeys(body)
	if _, ok := unwrap(body).(*ast.MappingNode); !ok && body != nil {
		return nil, &Error{Problems: []Problem{{Line: line(body), Msg: "the file must be a mapping of keys such as site: and box:"}}}
	}

	var c Config
	if probs := unknownKeys(body, reflect.TypeOf(c), ""); len(probs) > 0 {
		return nil, &Error{Problems: probs}
	}
	if body != nil {
		if err := decode(body, &c); err != nil {
			return nil, &Error{Problems: []Problem{yamlProblem(err, keys)}}
		}
	}
	c.applyDefaults()
	c.applySecrets(env)
	c.resolvePaths(dir)
	if probs := c.validate(); len(probs) > 0 {
		for i := range probs {
			probs[i].Line = keys.line(probs[i].Key)
		}
		return nil, &Error{Problems: probs}
	}
	return &c, nil
}

// decode fills c from the document body. The YAML decoder is third-party
// code fed with operator input; a panic in it becomes an error, not a crash.
func decode(body ast.Node, c *Config) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("line %d: the file cannot be decoded: check its indentation and tags", line(body))
		}
	}()
	return yaml.NodeToValue(body, c, yaml.Strict())
}

// keyIndex maps the dotted path of every key in a file to the line it is on.
type keyIndex struct {
	lines map[string]int    // path → line
	at    map[[2]int]string // (line, column) of a key → path
}

func (k keyIndex) line(path string) int { return k.lines[path] }

func indexKeys(n ast.Node) keyIndex {
	k := keyIndex{lines: map[string]int{}, at: map[[2]int]string{}}
	var walk func(n ast.Node, path string)
	walk = func(n ast.Node, path string) {
		switch n := unwrap(n).(type) {
		case *ast.MappingNode:
			for _, mv := range n.Values {
				p := joinKey(path, mv.Key.String())
				pos := mv.Key.GetToken().Position
				k.lines[p] = pos.Line
				k.at[[2]int{pos.Line, pos.Column}] = p
				walk(mv.Value, p)
			}
		case *ast.SequenceNode:
			for i, v := range n.Values {
				p := path + "[" + strconv.Itoa(i) + "]"
				k.lines[p] = line(v)
				walk(v, p)
			}
		}
	}
	walk(n, "")
	return k
}

// unknownKeys reports every key in n that has no field in t, recursively.
func unknownKeys(n ast.Node, t reflect.Type, path string) []Problem {
	var probs []Problem
	switch n := unwrap(n).(type) {
	case *ast.MappingNode:
		if t.Kind() != reflect.Struct {
			return nil // a type mismatch; the decoder reports it
		}
		for _, mv := range n.Values {
			name := mv.Key.String()
			p := joinKey(path, name)
			f, ok := fieldByTag(t, name)
			if !ok {
				probs = append(probs, Problem{Key: p, Line: mv.Key.GetToken().Position.Line, Msg: fmt.Sprintf("unknown key %q%s", name, suggest(t, name))})
				continue
			}
			probs = append(probs, unknownKeys(mv.Value, f.Type, p)...)
		}
	case *ast.SequenceNode:
		if t.Kind() != reflect.Slice {
			return nil
		}
		for i, v := range n.Values {
			probs = append(probs, unknownKeys(v, t.Elem(), path+"["+strconv.Itoa(i)+"]")...)
		}
	}
	return probs
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag == name && f.IsExported() {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// suggest names the known key closest to name when it is a likely slip: the
// same but for case, dashes or underscores, at most two edits away, or a
// shortened form of it ("insecure" for "insecure_http").
func suggest(t reflect.Type, name string) string {
	norm := func(s string) string { return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(s)) }
	best, bestDist := "", 3
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == "" {
			continue
		}
		d := editDistance(norm(tag), norm(name))
		if len(name) >= 4 && strings.HasPrefix(norm(tag), norm(name)) {
			d = min(d, 2)
		}
		if d < bestDist {
			best, bestDist = tag, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// yamlProblem turns a parser or decoder error into a Problem with a line and,
// where the index knows it, the key.
func yamlProblem(err error, keys keyIndex) Problem {
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil {
		return Problem{Msg: err.Error()}
	}
	pos := ye.GetToken().Position
	p := Problem{Line: pos.Line, Msg: ye.GetMessage()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		p.Msg = "want " + describe(te.DstType)
		p.Key = keys.keyOnLine(pos.Line)
	}
	var oe *yaml.OverflowError
	if errors.As(err, &oe) {
		p.Msg = "number out of range"
		p.Key = keys.keyOnLine(pos.Line)
	}
	return p
}

// keyOnLine returns the innermost key that starts on line l.
func (k keyIndex) keyOnLine(l int) string {
	best, bestCol := "", -1
	for pos, path := range k.at {
		if pos[0] == l && pos[1] > bestCol {
			best, bestCol = path, pos[1]
		}
	}
	return best
}

func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a mapping of keys"
	}
	return t.String()
}

func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		default:
			return n
		}
	}
}

func line(n ast.Node) int {
	if n == nil || n.GetToken() == nil {
		return 0
	}
	return n.GetToken().Position.Line
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// applySecrets takes credentials from the environment or from systemd
// credentials ($CREDENTIALS_DIRECTORY), which override the file.
func (c *Config) applySecrets(env func(string) (string, bool)) {
	for _, s := range []struct {
		name string
		dst  *string
	}{
		{"mqtt_username", &c.MQTT.Username},
		{"mqtt_password", &c.MQTT.Password},
	} {
		if dir, ok := env("CREDENTIALS_DIRECTORY"); ok && dir != "" {
			if b, err := os.ReadFile(filepath.Join(dir, s.name)); err == nil {
				*s.dst = string(bytes.TrimRight(b, "\r\n"))
			}
		}
		if v, ok := env("PUNCHBOX_" + strings.ToUpper(s.name)); ok {
			*s.dst = v
		}
	}
}
