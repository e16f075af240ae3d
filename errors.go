package punchbox

import "errors"

// ErrInvalidPunch is wrapped by Punch.Validate for every problem it finds.
var ErrInvalidPunch = errors.New("invalid punch")
