package web

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// The OpenAPI document is generated from the route table, with schemas
// from the Go types the handlers decode and encode, so it cannot drift
// from what is served; a test compares it with gin's routes.

func (p *Panel) openAPIRoutes() []route {
	return []route{{method: "GET", path: "/api/v1/openapi.json", access: viewer, tag: "meta", summary: "This document (OpenAPI 3.1)", h: p.serveOpenAPI}}
}

func (p *Panel) serveOpenAPI(c *gin.Context) {
	b, err := p.openAPI()
	if err != nil {
		p.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json", b)
}

var openAPIOnce struct {
	sync.Once
	b   []byte
	err error
}

func (p *Panel) openAPI() ([]byte, error) {
	openAPIOnce.Do(func() {
		openAPIOnce.b, openAPIOnce.err = json.MarshalIndent(openAPIDoc(p.routes, p.d.Version), "", "  ")
	})
	return openAPIOnce.b, openAPIOnce.err
}

type obj = map[string]any

// openAPIDoc builds the document for the API routes of rs.
func openAPIDoc(rs []route, version string) obj {
	sg := &schemaGen{defs: obj{}}
	paths := obj{}
	for _, r := range rs {
		if r.kind != api {
			continue
		}
		path, params := openAPIPath(r.path)
		item, _ := paths[path].(obj)
		if item == nil {
			item = obj{}
			paths[path] = item
		}
		op := obj{"summary": r.summary, "tags": []string{r.tag}, "operationId": operationID(r)}
		for _, q := range r.query {
			params = append(params, obj{"name": q.name, "in": "query", "description": q.doc, "schema": obj{"type": q.typ}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if r.access == public {
			op["security"] = []obj{}
		} else {
			desc := "Needs a signed-in user or an API token."
			switch {
			case r.access == admin || (r.access == viewer && !safeMethod(r.method)):
				desc = "Needs the admin role."
			}
			if !safeMethod(r.method) {
				desc += " With the session cookie, send the session's CSRF token in X-CSRF-Token."
			}
			op["description"] = desc
		}
		switch {
		case r.mime != "":
			op["requestBody"] = obj{"required": true, "content": obj{r.mime: obj{"schema": obj{"type": "string", "format": "binary"}}}}
		case r.in != nil:
			op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": sg.schema(reflect.TypeOf(r.in))}}}
		}
		status := r.status
		if status == 0 {
			status = http.StatusOK
		}
		ok := obj{"description": http.StatusText(status)}
		switch {
		case r.outMime != "":
			ok["content"] = obj{r.outMime: obj{"schema": obj{"type": "string", "format": "binary"}}}
		case r.out != nil:
			ok["content"] = obj{"application/json": obj{"schema": sg.schema(reflect.TypeOf(r.out))}}
		}
		op["responses"] = obj{
			itoa(status): ok,
			"default":    obj{"description": "An error", "content": obj{"application/json": obj{"schema": sg.schema(reflect.TypeOf(APIError{}))}}},
		}
		item[strings.ToLower(r.method)] = op
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "punchbox",
			"version":     version,
			"description": "The API of a punchbox site box. Errors always have the shape {\"error\": {\"code\", \"message\", \"field\"}}.",
		},
		"paths": paths,
		"components": obj{
			"schemas": sg.defs,
			"securitySchemes": obj{
				"token":   obj{"type": "http", "scheme": "bearer", "description": "An API token (pbx_…) made in the panel."},
				"session": obj{"type": "apiKey", "in": "cookie", "name": "__Host-punchbox_session", "description": "The panel's session cookie, set by POST /api/v1/login."},
			},
		},
		"security": []obj{{"token": []string{}}, {"session": []string{}}},
	}
}

// openAPIPath turns gin's /a/:id into /a/{id} and lists the parameters.
func openAPIPath(p string) (string, []obj) {
	parts := strings.Split(p, "/")
	var params []obj
	for i, s := range parts {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			name := s[1:]
			parts[i] = "{" + name + "}"
			params = append(params, obj{"name": name, "in": "path", "required": true, "schema": obj{"type": "string"}})
		}
	}
	return strings.Join(parts, "/"), params
}

// operationID is method and path in camel case: getApiV1TerminalsId.
func operationID(r route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(r.method))
	for _, s := range strings.FieldsFunc(r.path, func(c rune) bool { return c == '/' || c == ':' || c == '-' || c == '_' || c == '.' }) {
		b.WriteString(strings.ToUpper(s[:1]) + s[1:])
	}
	return b.String()
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// schemaGen makes JSON Schemas for Go types as encoding/json encodes them;
// named structs become components.
type schemaGen struct {
	defs obj
}

var (
	timeType = reflect.TypeOf(time.Time{})
	rawType  = reflect.TypeOf(json.RawMessage{})
)

func (sg *schemaGen) schema(t reflect.Type) obj {
	switch {
	case t == timeType:
		return obj{"type": "string", "format": "date-time"}
	case t == rawType:
		return obj{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return sg.schema(t.Elem())
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return obj{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return obj{"type": "number"}
	case reflect.Slice, reflect.Array:
		return obj{"type": "array", "items": sg.schema(t.Elem())}
	case reflect.Map:
		return obj{"type": "object", "additionalProperties": sg.schema(t.Elem())}
	case reflect.Interface:
		return obj{}
	case reflect.Struct:
		name := schemaName(t)
		if name == "" {
			return sg.object(t)
		}
		if _, ok := sg.defs[name]; !ok {
			sg.defs[name] = obj{} // placeholder against recursion
			sg.defs[name] = sg.object(t)
		}
		return obj{"$ref": "#/components/schemas/" + name}
	}
	return obj{}
}

// schemaName is a struct's name, with a generic's type argument folded in:
// Page[PunchView] becomes PagePunchView.
func schemaName(t reflect.Type) string {
	n := t.Name()
	if i := strings.IndexByte(n, '['); i >= 0 {
		arg := n[i+1 : len(n)-1]
		if j := strings.LastIndexByte(arg, '.'); j >= 0 {
			arg = arg[j+1:]
		}
		n = n[:i] + arg
	}
	return n
}

func (sg *schemaGen) object(t reflect.Type) obj {
	props := obj{}
	var required []string
	sg.fields(t, props, &required)
	o := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		slices.Sort(required)
		o["required"] = required
	}
	return o
}

func (sg *schemaGen) fields(t reflect.Type, props obj, required *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			sg.fields(f.Type, props, required)
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = sg.schema(f.Type)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, name)
		}
	}
}
