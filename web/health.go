package web

import (
	"errors"

	"github.com/punchbox/punchbox/store"
)

// healthReason names why the box is unhealthy in words fixed here, for
// /healthz: never a path or an error's own text.
func healthReason(err error) string {
	switch {
	case errors.Is(err, store.ErrDamaged):
		return ": store damaged"
	case errors.Is(err, store.ErrDiskFull):
		return ": store cannot write: disk full"
	case errors.Is(err, store.ErrCannotWrite):
		return ": store cannot write"
	}
	return ""
}
