package punchbox

import (
	"fmt"
	"strconv"
	"strings"
)

// PunchState is what the employee declared at the terminal: check-in,
// check-out, a break or overtime. The codes are the ones ZK-family terminals
// use in every protocol (binary records, realtime events and push uploads).
type PunchState uint8

// Punch states. StateUndefined (255) is sent by terminals whose state keys are
// switched off.
const (
	StateCheckIn     PunchState = 0
	StateCheckOut    PunchState = 1
	StateBreakOut    PunchState = 2
	StateBreakIn     PunchState = 3
	StateOvertimeIn  PunchState = 4
	StateOvertimeOut PunchState = 5
	StateUndefined   PunchState = 255
)

var stateNames = map[PunchState]string{
	StateCheckIn:     "check-in",
	StateCheckOut:    "check-out",
	StateBreakOut:    "break-out",
	StateBreakIn:     "break-in",
	StateOvertimeIn:  "overtime-in",
	StateOvertimeOut: "overtime-out",
	StateUndefined:   "undefined",
}

// Code returns the numeric code of s as terminals send it.
func (s PunchState) Code() int { return int(s) }

// String returns the name of s, e.g. "check-in", or "state-N" for a code
// with no known name.
func (s PunchState) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return "state-" + strconv.Itoa(int(s))
}

// Known reports whether s has a name.
func (s PunchState) Known() bool { _, ok := stateNames[s]; return ok }

// ParsePunchState accepts a name ("check-out"), a "state-N" form or a bare
// code ("1").
func ParsePunchState(v string) (PunchState, error) {
	for s, n := range stateNames {
		if n == v {
			return s, nil
		}
	}
	c, err := parseCode(strings.TrimPrefix(v, "state-"))
	if err != nil {
		return 0, fmt.Errorf("punch state %q: want a name such as check-in or a code 0-255", v)
	}
	return PunchState(c), nil
}

// VerifyMode is how the terminal identified the employee. The binary protocol
// and the push protocol use overlapping but not identical code sets; both are
// kept as the terminal sent them and named here.
type VerifyMode uint8

// Verify modes seen on ZK-family terminals.
const (
	VerifyPassword    VerifyMode = 0
	VerifyFingerprint VerifyMode = 1
	VerifyCard        VerifyMode = 2
	VerifyPushCard    VerifyMode = 4
	VerifyFace        VerifyMode = 15
	VerifyPalm        VerifyMode = 25
)

var verifyNames = map[VerifyMode]string{
	VerifyPassword:    "password",
	VerifyFingerprint: "fingerprint",
	VerifyCard:        "card",
	VerifyPushCard:    "card",
	VerifyFace:        "face",
	VerifyPalm:        "palm",
}

// Code returns the numeric code of v as the terminal sent it.
func (v VerifyMode) Code() int { return int(v) }

// String returns the name of v, e.g. "fingerprint", or "verify-N" for a code
// with no known name.
func (v VerifyMode) String() string {
	if n, ok := verifyNames[v]; ok {
		return n
	}
	return "verify-" + strconv.Itoa(int(v))
}

// ParseVerifyMode accepts a "verify-N" form or a bare code. Names are not
// accepted because two codes share the name "card".
func ParseVerifyMode(s string) (VerifyMode, error) {
	c, err := parseCode(strings.TrimPrefix(s, "verify-"))
	if err != nil {
		return 0, fmt.Errorf("verify mode %q: want a code 0-255", s)
	}
	return VerifyMode(c), nil
}

func parseCode(s string) (uint8, error) {
	n, err := strconv.ParseUint(s, 10, 8)
	return uint8(n), err
}
