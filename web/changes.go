package web

import (
	"fmt"
	"strings"
)

// changes describes, for the audit log, which fields a change altered:
// name "old"→"new", comma-separated.
type changes []string

// field records name when a and b differ; strings are quoted.
func field[T comparable](ch *changes, name string, a, b T) {
	if a != b {
		*ch = append(*ch, fmt.Sprintf("%s %#v→%#v", name, a, b))
	}
}

func (ch changes) String() string {
	if len(ch) == 0 {
		return "no change"
	}
	return strings.Join(ch, ", ")
}
