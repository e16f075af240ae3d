package central

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// What the box publishes must conform to its own schemas (docs/mqtt.md)
// whatever a terminal, a driver or central sent it. The builders of every
// payload clamp at this boundary: strings are bounded, valid UTF-8 and
// free of control characters; counts are never negative; enums hold one
// of their values; times are ones JSON can carry. The drivers bound and
// sanitise what they read too: this is the last line, not the only one.

// Bounds on published strings, in bytes.
const (
	maxName    = 64   // ids and names: terminal, command, kind
	maxText    = 256  // identity strings: serial, platform, firmware, version
	maxMessage = 1024 // errors and event messages
)

// clampString returns s as valid UTF-8 with no control characters (each
// replaced by U+FFFD, as invalid bytes are) and at most max bytes, cut at
// a character boundary and marked with "…" when cut.
func clampString(s string, max int) string {
	if len(s) <= max && cleanString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), max))
	for _, r := range s { // an invalid byte comes as utf8.RuneError
		if unicode.IsControl(r) {
			r = utf8.RuneError
		}
		if b.Len()+utf8.RuneLen(r) > max {
			out := b.String()
			for len(out) > 0 && len(out)+len("…") > max {
				_, size := utf8.DecodeLastRuneInString(out)
				out = out[:len(out)-size]
			}
			return out + "…"
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cleanString reports whether s is valid UTF-8 without control characters.
func cleanString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return false
		}
		if c >= utf8.RuneSelf {
			return cleanRunes(s[i:])
		}
	}
	return true
}

func cleanRunes(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// nonNegative clamps a count that must not be below 0.
func nonNegative[T int | int64 | float64](n T) T { return max(n, 0) }

// jsonTime returns t in UTC if JSON can carry it as RFC 3339 (years 0 to
// 9999), else the zero time (which omitzero fields leave out).
func jsonTime(t time.Time) time.Time {
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return time.Time{}
	}
	return t.UTC()
}

// oneOf returns s if it is one of allowed, else def.
func oneOf(s string, def string, allowed ...string) string {
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	return def
}
