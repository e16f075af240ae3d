package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/store"
)

// Sentinel errors. Each maps to one HTTP status and error code.
var (
	ErrUnauthenticated = errors.New("sign in first")
	ErrForbidden       = errors.New("your role may not do this")
	ErrCSRF            = errors.New("missing or wrong CSRF token")
	ErrCrossOrigin     = errors.New("cross-origin request refused")
	ErrTooLarge        = errors.New("request body too large")
	ErrMediaType       = errors.New("unsupported content type")
	ErrNotFound        = errors.New("not found")
	ErrRateLimited     = errors.New("too many attempts")
	ErrSetupDone       = errors.New("setup is done: an admin exists")
	ErrUnavailable     = errors.New("not available now")
)

// APIError is the body of every error the API answers:
// {"error": {"code": "...", "message": "...", "field": "..."}}.
type APIError struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody says what went wrong. Field names the offending input, when
// there is one, as the client wrote it (a JSON key or query parameter, with
// a path such as "items[3].pin" inside a list).
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// FieldError is bad input in one field.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// badField returns a FieldError with a formatted message.
func badField(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// statusOf maps an error to its status and code. Only known errors reveal
// their message; anything else is "internal error".
func statusOf(err error) (int, string) {
	var fe *FieldError
	var se *statusError
	switch {
	case errors.As(err, &se):
		return se.status, se.code
	case errors.As(err, &fe), errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrBadBackup):
		return http.StatusBadRequest, "invalid"
	case errors.Is(err, ErrUnauthenticated), errors.Is(err, store.ErrBadCredentials):
		return http.StatusUnauthorized, "unauthenticated"
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden, "forbidden"
	case errors.Is(err, ErrCSRF):
		return http.StatusForbidden, "csrf"
	case errors.Is(err, ErrCrossOrigin):
		return http.StatusForbidden, "cross_origin"
	case errors.Is(err, ErrNotFound), errors.Is(err, store.ErrNotFound), errors.Is(err, drivers.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, store.ErrConflict), errors.Is(err, ErrSetupDone):
		return http.StatusConflict, "conflict"
	case errors.Is(err, store.ErrLastAdmin):
		return http.StatusConflict, "last_admin"
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, ErrTooSlow):
		return http.StatusRequestTimeout, "too_slow"
	case errors.Is(err, ErrMediaType):
		return http.StatusUnsupportedMediaType, "unsupported_media_type"
	case errors.Is(err, ErrRateLimited):
		return http.StatusTooManyRequests, "rate_limited"
	case errors.Is(err, drivers.ErrUnknownKind):
		return http.StatusBadRequest, "invalid"
	case errors.Is(err, drivers.ErrOffline):
		return http.StatusServiceUnavailable, "terminal_offline"
	case errors.Is(err, drivers.ErrNotSupported):
		return http.StatusNotImplemented, "unsupported"
	case errors.Is(err, store.ErrDamaged):
		return http.StatusServiceUnavailable, "store_damaged"
	case errors.Is(err, ErrUnavailable), errors.Is(err, store.ErrDiskFull), errors.Is(err, store.ErrDatabaseBusy), errors.Is(err, store.ErrReadOnly):
		return http.StatusServiceUnavailable, "unavailable"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "timeout"
	}
	return http.StatusInternalServerError, "internal"
}

// fail answers err in the API's error shape and stops the handler chain.
// Server errors are logged here, once, and their details stay in the log.
func (p *Panel) fail(c *gin.Context, err error) {
	status, code := statusOf(err)
	body := ErrorBody{Code: code, Message: err.Error()}
	var fe *FieldError
	if errors.As(err, &fe) {
		body.Field = fe.Field
		body.Message = fe.Err.Error()
	}
	switch {
	case status >= 500 && status != http.StatusServiceUnavailable && status != http.StatusNotImplemented && status != http.StatusGatewayTimeout:
		p.log.Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "err", err)
		body.Message = "internal error; the box's log has the details"
	case status >= 500:
		p.log.Warn("request failed", "method", c.Request.Method, "path", c.FullPath(), "err", err)
	default:
		p.log.Debug("request refused", "method", c.Request.Method, "path", c.FullPath(), "status", status, "err", err)
	}
	if errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil {
		c.Abort() // the client went away; nobody reads the answer
		return
	}
	c.AbortWithStatusJSON(status, APIError{body})
}
