package sysinfo

import "testing"

func TestKiB(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
	}{
		{"   1024 kB", 1 << 20},
		{"12", 12},
		{"", 0},
		{"x kB", 0},
	}
	for _, tt := range tests {
		if got := kib(tt.in); got != tt.want {
			t.Errorf("kib(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
