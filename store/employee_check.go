package store

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/punchbox/punchbox"
)

// Limits on employee fields: what a ZK terminal keeps (protocol/zk user
// records). An employee the store accepts can be written to every terminal
// unchanged, so the store and the terminals never disagree. The panel, the
// CSV import and central's roster command all check through CheckEmployee.
const (
	// MaxPINLen is the PIN field of 72-byte user records and 40-byte
	// attendance records: 24 bytes.
	MaxPINLen = 24
	// MaxEmployeeNameLen is the name field of 72-byte user records, in
	// bytes of UTF-8 (28-byte records of old firmware keep 8).
	MaxEmployeeNameLen = 24
	// MaxCardLen and MaxCard bound a card number: terminals keep it as an
	// unsigned 32-bit number, and 0 means no card.
	MaxCardLen = 10
	MaxCard    = 1<<32 - 1
)

// EmployeeError is an employee CheckEmployee refused: the field and why.
// It is an ErrInvalid.
type EmployeeError struct {
	Field  string // pin, name, card or privilege
	Reason string // what is wrong and what is wanted
}

func (e *EmployeeError) Error() string { return ErrInvalid.Error() + ": " + e.Field + ": " + e.Reason }
func (e *EmployeeError) Unwrap() error { return ErrInvalid }

// CheckEmployee checks e against what terminals can keep. The error is an
// *EmployeeError naming the field.
//
// A PIN is 1 to MaxPINLen printable ASCII characters without spaces. A name
// is required: not blank, at most MaxEmployeeNameLen bytes of valid UTF-8,
// with no control characters (tabs, line breaks). A card is empty (none) or
// a decimal number from 1 to MaxCard in at most MaxCardLen digits.
func CheckEmployee(e punchbox.Employee) error {
	bad := func(field, format string, args ...any) error {
		return &EmployeeError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case !punchbox.ValidIdent(e.PIN) || len(e.PIN) > MaxPINLen:
		return bad("pin", "%q: want 1 to %d printable ASCII characters without spaces", clipQuote(e.PIN), MaxPINLen)
	case !utf8.ValidString(e.Name):
		return bad("name", "not valid UTF-8")
	case strings.TrimSpace(e.Name) == "":
		return bad("name", "required")
	case len(e.Name) > MaxEmployeeNameLen:
		return bad("name", "%d bytes: terminals keep at most %d", len(e.Name), MaxEmployeeNameLen)
	case strings.IndexFunc(e.Name, unicode.IsControl) >= 0:
		return bad("name", "contains control characters such as tabs or line breaks")
	}
	if e.Card != "" {
		n, err := strconv.ParseUint(e.Card, 10, 64)
		switch {
		case len(e.Card) > MaxCardLen || strings.Trim(e.Card, "0123456789") != "" || err != nil || n > MaxCard:
			return bad("card", "%q: want a number from 1 to %d (up to %d digits)", clipQuote(e.Card), uint64(MaxCard), MaxCardLen)
		case n == 0:
			return bad("card", "%q: 0 means no card on a terminal; leave it empty", e.Card)
		}
	}
	if !e.Privilege.Valid() {
		return bad("privilege", "%d: want user (0), enroller (2), manager (6) or admin (14)", e.Privilege)
	}
	return nil
}

// clipQuote shortens s for an error message.
func clipQuote(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
