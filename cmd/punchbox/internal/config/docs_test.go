package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestReferenceDocumentsEveryKey keeps docs/configuration.md in step with the
// Config type: every key has a row, and every default in a row is the one
// the code applies.
func TestReferenceDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{} // key → cells; terminal keys as terminals[].key
	prefix := ""
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "#") {
			prefix = ""
			if strings.Contains(line, "Terminal entries") {
				prefix = "terminals[]."
			}
		}
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows[prefix+strings.Trim(cells[0], "`")] = cells
	}
	defaults := Default()
	defaults.Terminals = []Terminal{{Kind: "zk"}} // kind-specific defaults apply to a zk entry
	defaults.applyDefaults()
	var walk func(t reflect.Type, v reflect.Value, prefix string)
	walk = func(typ reflect.Type, v reflect.Value, prefix string) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if tag == "" || !f.IsExported() {
				continue
			}
			key := prefix + tag
			fv := v.Field(i)
			switch f.Type.Kind() {
			case reflect.Struct:
				walk(f.Type, fv, key+".")
				continue
			case reflect.Slice:
				if _, ok := rows[key]; !ok {
					t.Errorf("docs/configuration.md has no row for %s", key)
				}
				if f.Type.Elem().Kind() == reflect.Struct {
					walk(f.Type.Elem(), fv.Index(0), key+"[].")
				}
				continue
			}
			row, ok := rows[key]
			if !ok {
				t.Errorf("docs/configuration.md has no row for %s", key)
				continue
			}
			documented := strings.Join(row[1:len(row)-1], " ")
			if strings.Contains(documented, "(required)") {
				continue
			}
			if s, ok := fv.Interface().(string); ok && s != "" && !strings.Contains(documented, "`"+s+"`") {
				t.Errorf("docs/configuration.md: %s defaults to %q in the code, row says %q", key, s, row)
			}
		}
	}
	walk(reflect.TypeOf(defaults), reflect.ValueOf(defaults), "")
}
