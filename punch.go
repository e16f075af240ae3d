package punchbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Source says how a punch reached the box.
type Source string

// Punch sources.
const (
	SourcePull   Source = "pull"   // read from the terminal's log by the box
	SourceLive   Source = "live"   // a realtime event sent by the terminal while connected
	SourcePush   Source = "push"   // uploaded by a push (ADMS) terminal over HTTP
	SourceSerial Source = "serial" // read from a serial line
)

// Valid reports whether s is one of the known sources.
func (s Source) Valid() bool {
	switch s {
	case SourcePull, SourceLive, SourcePush, SourceSerial:
		return true
	}
	return false
}

// Punch is one attendance event from a terminal.
//
// Time is explicit (DESIGN invariant 5): Local is what the terminal's clock
// showed, Zone the terminal's IANA zone, Time the UTC instant that Local names
// in Zone, and Received when the box got the punch by its own clock.
type Punch struct {
	ID             string     // stable identity, see PunchID
	TerminalID     string     // the box's name for the terminal, e.g. "gate-a"
	TerminalSerial string     // the terminal's own serial number
	PIN            string     // the user's PIN (user id) on the terminal
	Local          LocalTime  // device-local wall time
	Zone           string     // IANA zone of Local, e.g. "Europe/Berlin"
	Time           time.Time  // the UTC instant of Local in Zone
	Received       time.Time  // the box's clock when the punch arrived, UTC
	State          PunchState // check-in, check-out, …
	Verify         VerifyMode // fingerprint, card, …
	WorkCode       string     // work code entered at the terminal; "" when none
	Source         Source     // pull, live, push or serial
}

// idSep separates the fields hashed into a punch id: the ASCII unit separator,
// which no serial or PIN may contain (see ValidIdent).
const idSep = "\x1f"

// PunchID returns the stable identity of a punch (DESIGN invariant 3): the
// first 16 bytes, in lower-case hex, of SHA-256 over
//
//	serial US pin US local US state
//
// where US is the ASCII unit separator (0x1F), local is the LocalTimeLayout
// form and state the decimal code. The same punch pulled twice, re-sent by a
// terminal, or seen both by push and by pull has the same id; the verify mode
// and the source are deliberately not part of it.
func PunchID(serial, pin string, local LocalTime, state PunchState) string {
	h := sha256.New()
	h.Write([]byte(serial))
	h.Write([]byte(idSep))
	h.Write([]byte(pin))
	h.Write([]byte(idSep))
	h.Write([]byte(local.String()))
	h.Write([]byte(idSep))
	fmt.Fprintf(h, "%d", state)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// NewPunch fills in the derived fields of a punch read from a terminal: the
// UTC instant of local in loc, the id, and the receive time.
func NewPunch(terminalID, serial, pin string, local LocalTime, loc *time.Location, state PunchState, verify VerifyMode, workCode string, src Source, received time.Time) Punch {
	return Punch{
		ID:             PunchID(serial, pin, local, state),
		TerminalID:     terminalID,
		TerminalSerial: serial,
		PIN:            pin,
		Local:          local,
		Zone:           loc.String(),
		Time:           local.In(loc).UTC(),
		Received:       received.UTC(),
		State:          state,
		Verify:         verify,
		WorkCode:       workCode,
		Source:         src,
	}
}

// Validate reports the first problem that makes p unfit to store: a missing
// or malformed field, or an id that does not match the punch.
func (p Punch) Validate() error {
	switch {
	case !ValidName(p.TerminalID):
		return fmt.Errorf("%w: terminal id %q", ErrInvalidPunch, p.TerminalID)
	case !ValidIdent(p.TerminalSerial):
		return fmt.Errorf("%w: terminal serial %q", ErrInvalidPunch, p.TerminalSerial)
	case !ValidIdent(p.PIN):
		return fmt.Errorf("%w: pin %q", ErrInvalidPunch, p.PIN)
	case !p.Local.Valid():
		return fmt.Errorf("%w: local time %s", ErrInvalidPunch, p.Local)
	case p.Zone == "":
		return fmt.Errorf("%w: no zone", ErrInvalidPunch)
	case p.Time.IsZero() || p.Received.IsZero():
		return fmt.Errorf("%w: no utc or receive time", ErrInvalidPunch)
	case !p.Source.Valid():
		return fmt.Errorf("%w: source %q", ErrInvalidPunch, p.Source)
	case len(p.WorkCode) > MaxIdentLen:
		return fmt.Errorf("%w: work code longer than %d bytes", ErrInvalidPunch, MaxIdentLen)
	case p.ID != PunchID(p.TerminalSerial, p.PIN, p.Local, p.State):
		return fmt.Errorf("%w: id %q does not match its fields", ErrInvalidPunch, p.ID)
	}
	return nil
}

// MaxIdentLen is the longest serial, PIN or terminal id accepted. ZK terminals
// allow user ids of up to 24 characters.
const MaxIdentLen = 64

// ValidIdent reports whether s is usable as a serial, PIN or terminal id: 1 to
// MaxIdentLen printable ASCII characters other than space.
func ValidIdent(s string) bool {
	if s == "" || len(s) > MaxIdentLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
