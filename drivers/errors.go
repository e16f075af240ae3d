package drivers

import "errors"

// Sentinel errors.
var (
	ErrUnknownKind  = errors.New("unknown terminal kind")
	ErrNotSupported = errors.New("not supported by this terminal kind")
	ErrOffline      = errors.New("terminal is not connected")
	ErrNotFound     = errors.New("no such terminal")
)

// permanent marks an error that retrying soon will not fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err to tell the supervisor that reconnecting at once will
// not help (a wrong comm key, a misconfigured address). The terminal is shown
// in state error and retried only at the longest backoff.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was wrapped with Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}
