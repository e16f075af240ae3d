package zk

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"plain", "ZEM760_TFT\x00junk", 64, "ZEM760_TFT"},
		{"escape and bell", "Ver 6.60\x1b[2J\x07 Apr 28", 64, "Ver 6.60[2J Apr 28"},
		{"C1 and DEL", "a\u0085b\x7fc", 64, "abc"},
		{"invalid utf-8", "caf\xc3\xa9 \xff\xfe ok", 64, "café  ok"},
		{"bidi override", "gate\u202eA", 64, "gateA"},
		{"trimmed", "  door  ", 64, "door"},
		{"cut", "0123456789", 4, "0123"},
		{"cut at a character", "ab\u00e9", 3, "ab"},
		{"nothing left", "\x1b\x07", 64, ""},
		{"no room", "abc", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text([]byte(tt.in), tt.max); got != tt.want {
				t.Errorf("Text = %q, want %q", got, tt.want)
			}
			if got := CleanString(tt.in, tt.max); got != tt.want {
				t.Errorf("CleanString = %q, want %q", got, tt.want)
			}
		})
	}
}

// An 18 KB platform string full of ESC and BEL comes out bounded and clean.
func TestText_Hostile(t *testing.T) {
	in := strings.Repeat("ZEM\x1b[5m\x07", 2000)
	got := Text([]byte(in), 64)
	if len(got) > 64 || strings.ContainsAny(got, "\x1b\x07") || !utf8.ValidString(got) {
		t.Errorf("Text = %q", got)
	}
}

func FuzzText(f *testing.F) {
	f.Add([]byte("ZEM760_TFT"), 64)
	f.Add([]byte(strings.Repeat("\x1b[5m\x07", 100)), 64)
	f.Add([]byte("caf\xc3\xa9\xff"), 4)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		max %= 1 << 10
		got := Text(b, max)
		if len(got) > max && max >= 0 || !utf8.ValidString(got) {
			t.Fatalf("Text(%q, %d) = %q", b, max, got)
		}
		for _, r := range got {
			if !printable(r) {
				t.Fatalf("Text kept %U", r)
			}
		}
	})
}
