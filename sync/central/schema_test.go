package central

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The contract in docs/mqtt.md: its examples (each after a line
// "<!-- example: NAME -->") and JSON Schemas ("<!-- schema: NAME -->").
var (
	docOnce     sync.Once
	docExamples map[string]string
	docSchemas  map[string]map[string]any
	docErr      error
)

func loadDoc(t testing.TB) {
	t.Helper()
	docOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", "mqtt.md"))
		if err != nil {
			docErr = err
			return
		}
		docExamples, docSchemas = map[string]string{}, map[string]map[string]any{}
		marker := regexp.MustCompile("(?s)<!-- (example|schema): ([a-z-]+) -->\\s*```json\\n(.*?)```")
		for _, m := range marker.FindAllStringSubmatch(string(b), -1) {
			switch m[1] {
			case "example":
				docExamples[m[2]] = m[3]
			case "schema":
				var s map[string]any
				if err := json.Unmarshal([]byte(m[3]), &s); err != nil {
					docErr = fmt.Errorf("schema %s: %w", m[2], err)
					return
				}
				docSchemas[m[2]] = s
			}
		}
	})
	if docErr != nil {
		t.Fatal(docErr)
	}
}

// conforms checks a message against the named schema of docs/mqtt.md.
func conforms(t testing.TB, schema string, payload []byte) {
	t.Helper()
	loadDoc(t)
	s, ok := docSchemas[schema]
	if !ok {
		t.Fatalf("docs/mqtt.md has no schema %q", schema)
	}
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if errs := validate(s, v, "$"); len(errs) > 0 {
		t.Errorf("message does not conform to schema %s:\n  %s\n%s", schema, strings.Join(errs, "\n  "), payload)
	}
}

// validate checks v against the JSON Schema subset the contract uses: type,
// properties, required, additionalProperties: false, items, enum, const,
// minimum, maximum, pattern and format date-time.
func validate(s map[string]any, v any, at string) []string {
	var errs []string
	fail := func(f string, a ...any) { errs = append(errs, at+": "+fmt.Sprintf(f, a...)) }
	if c, ok := s["const"]; ok && fmt.Sprint(c) != fmt.Sprint(v) {
		fail("want %v, have %v", c, v)
	}
	if e, ok := s["enum"].([]any); ok {
		found := false
		for _, x := range e {
			found = found || fmt.Sprint(x) == fmt.Sprint(v)
		}
		if !found {
			fail("%v not in %v", v, e)
		}
	}
	switch s["type"] {
	case "object":
		o, ok := v.(map[string]any)
		if !ok {
			fail("want an object")
			return errs
		}
		props, _ := s["properties"].(map[string]any)
		required, _ := s["required"].([]any)
		for _, r := range required {
			if _, ok := o[r.(string)]; !ok {
				fail("missing %s", r)
			}
		}
		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ps, known := props[k].(map[string]any)
			if !known {
				if s["additionalProperties"] == false {
					fail("unexpected field %s", k)
				}
				continue
			}
			errs = append(errs, validate(ps, o[k], at+"."+k)...)
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			fail("want an array")
			return errs
		}
		if is, ok := s["items"].(map[string]any); ok {
			for i, x := range a {
				errs = append(errs, validate(is, x, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			fail("want a string")
			return errs
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				fail("%q is not a date-time", str)
			}
		}
	case "integer", "number":
		n, ok := v.(float64)
		if !ok || (s["type"] == "integer" && n != math.Trunc(n)) {
			fail("want %s", s["type"])
			return errs
		}
		if m, ok := s["minimum"].(float64); ok && n < m {
			fail("%v below %v", n, m)
		}
		if m, ok := s["maximum"].(float64); ok && n > m {
			fail("%v above %v", n, m)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			fail("want true or false")
		}
	}
	return errs
}
