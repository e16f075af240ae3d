package zk

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text decodes a string field a terminal sent (a name, an option value, a
// firmware version): up to its first NUL, without control characters,
// bidirectional overrides and invalid UTF-8, trimmed of surrounding spaces,
// and cut to at most max bytes at a character boundary. What a terminal
// sends is shown in the panel and published to central, so nothing in it
// may move a cursor, ring a bell or pass for other text.
func Text(b []byte, max int) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return clean(b, max)
}

// CleanString is Text for a string already cut at its NUL (an option
// value).
func CleanString(s string, max int) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return clean([]byte(s), max)
}

func clean(b []byte, max int) string {
	if max <= 0 {
		return ""
	}
	var sb strings.Builder
	sb.Grow(min(len(b), max))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		if (r == utf8.RuneError && n == 1) || !printable(r) {
			continue
		}
		if sb.Len()+utf8.RuneLen(r) > max {
			break
		}
		sb.WriteRune(r)
	}
	return strings.TrimSpace(sb.String())
}

// printable rejects control characters (C0, DEL, C1) and the invisible
// marks that reorder or hide text.
func printable(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return false
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0xFEFF:
		return false
	}
	return true
}
