package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// decode reads the request's JSON body into v, strictly: the content type
// must be JSON, unknown keys and trailing data are errors, and a value of
// the wrong type names its field.
func decode(c *gin.Context, v any) error {
	if ct := c.ContentType(); ct != "application/json" {
		return fmt.Errorf("%w: %q: send application/json", ErrMediaType, ct)
	}
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(bodyError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return jsonError(bodyError(err))
		}
		return badField("", "unexpected data after the JSON value")
	}
	return nil
}

// jsonError turns a decoding error into one that names the field.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, ErrTooLarge), errors.Is(err, ErrTooSlow):
		return err
	case errors.Is(err, io.EOF):
		return badField("", "empty body: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badField("", "the JSON ends early")
	case errors.As(err, &syn):
		return badField("", "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return badField("", "want a JSON %s, not %s", jsonType(typ.Type.Kind().String()), typ.Value)
		}
		return badField(field, "want %s, not %s", jsonType(typ.Type.Kind().String()), typ.Value)
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		name, _ := strconv.Unquote(strings.TrimPrefix(msg, "json: unknown field "))
		return badField(name, "unknown field")
	}
	return badField("", "%s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonType names a Go kind as JSON calls it.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "a list"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	}
	return kind
}

// Paging of lists: ?limit=N (1 to maxLimit, default defaultLimit) and an
// opaque ?cursor= from the previous page's next_cursor.
const (
	defaultLimit = 50
	maxLimit     = 1000
)

// Page is a page of a list.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"` // absent on the last page
	Total      *int   `json:"total,omitempty"`       // when known cheaply
}

// queryLimit reads ?limit=.
func queryLimit(c *gin.Context) (int, error) {
	s := c.Query("limit")
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, badField("limit", "want a whole number from 1 to %d", maxLimit)
	}
	return n, nil
}
