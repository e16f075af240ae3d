package zk

import (
	"testing"
)

func TestMakeCommKeyGolden(t *testing.T) {
	tests := []struct {
		key  uint32
		want [4]byte
	}{
		{12, [4]byte{0x61, 0x4D, 0x32, 0x3C}},
		{45, [4]byte{0x61, 0xC9, 0x32, 0x3C}},
		{0, [4]byte{0x61, 0x7D, 0x32, 0x3C}},
	}
	for _, tt := range tests {
		if got := MakeCommKey(tt.key, 0x45CF, 50); got != tt.want {
			t.Errorf("MakeCommKey(%d, 0x45CF, 50) = % x, want % x", tt.key, got, tt.want)
		}
	}
	// The whole frame a client sends for key 12 and key 45.
	for key, name := range map[uint32]string{12: "tcp-auth-key12", 45: "tcp-auth-key45"} {
		k := MakeCommKey(key, 0x45CF, 50)
		frame := AppendTCP(nil, Packet{Command: CmdAuth, Session: 0x45CF, Reply: 1, Data: k[:]})
		if string(frame) != string(vector(t, name)) {
			t.Errorf("auth frame for key %d = % x", key, frame)
		}
	}
}

func TestCheckCommKey(t *testing.T) {
	tests := []struct {
		name    string
		key     uint32
		session uint16
		ticks   byte
	}{
		{"small key", 12, 0x45CF, 50},
		{"six-digit key", 999999, 0x0001, 0},
		{"sum wraps 32 bits", 0xFFFFFFFF, 0xFFFF, 0xAB},
		{"any ticks byte", 123456, 0x8000, 0xFF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := MakeCommKey(tt.key, tt.session, tt.ticks)
			if !CheckCommKey(tt.key, tt.session, k[:]) {
				t.Error("right key refused")
			}
			// The lowest bit of the key ends up in the top byte, which is
			// checked. (Terminals ignore the scrambled low byte, so keys or
			// sessions that differ only there are indistinguishable.)
			if CheckCommKey(tt.key^1, tt.session, k[:]) {
				t.Error("wrong key accepted")
			}
			if CheckCommKey(tt.key, tt.session+0x100, k[:]) {
				t.Error("key for another session accepted")
			}
			if CheckCommKey(tt.key, tt.session, k[:3]) {
				t.Error("short payload accepted")
			}
		})
	}
}
