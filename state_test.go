package punchbox

import (
	"strconv"
	"testing"
)

func TestPunchStateNames(t *testing.T) {
	tests := []struct {
		s    PunchState
		name string
	}{
		{StateCheckIn, "check-in"},
		{StateCheckOut, "check-out"},
		{StateBreakOut, "break-out"},
		{StateBreakIn, "break-in"},
		{StateOvertimeIn, "overtime-in"},
		{StateOvertimeOut, "overtime-out"},
		{StateUndefined, "undefined"},
		{PunchState(9), "state-9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.String(); got != tt.name {
				t.Errorf("String() = %q, want %q", got, tt.name)
			}
			back, err := ParsePunchState(tt.name)
			if err != nil || back != tt.s {
				t.Errorf("ParsePunchState(%q) = %v, %v; want %v", tt.name, back, err, tt.s)
			}
		})
	}
	if s, err := ParsePunchState("1"); err != nil || s != StateCheckOut {
		t.Errorf("ParsePunchState(\"1\") = %v, %v", s, err)
	}
	for _, bad := range []string{"", "checkin", "256", "-1", "state-"} {
		if _, err := ParsePunchState(bad); err == nil {
			t.Errorf("ParsePunchState(%q) accepted", bad)
		}
	}
}

func TestVerifyModeNames(t *testing.T) {
	tests := []struct {
		v    VerifyMode
		name string
	}{
		{VerifyPassword, "password"},
		{VerifyFingerprint, "fingerprint"},
		{VerifyCard, "card"},
		{VerifyPushCard, "card"},
		{VerifyFace, "face"},
		{VerifyPalm, "palm"},
		{VerifyMode(200), "verify-200"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.name {
			t.Errorf("VerifyMode(%d).String() = %q, want %q", tt.v, got, tt.name)
		}
		if got, err := ParseVerifyMode("verify-" + strconv.Itoa(tt.v.Code())); err != nil || got != tt.v {
			t.Errorf("ParseVerifyMode round trip of %d = %v, %v", tt.v, got, err)
		}
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		s           string
		name, ident bool
	}{
		{"acme-plant-1", true, true},
		{"gate-a", true, true},
		{"Gate-A", false, true},
		{"-gate", false, true},
		{"gate-", false, true},
		{"gate a", false, false},
		{"gate/a", false, true},
		{"", false, false},
		{"CQUJ203160123", false, true},
		{"ünï", false, false},
	}
	for _, tt := range tests {
		if got := ValidName(tt.s); got != tt.name {
			t.Errorf("ValidName(%q) = %v", tt.s, got)
		}
		if got := ValidIdent(tt.s); got != tt.ident {
			t.Errorf("ValidIdent(%q) = %v", tt.s, got)
		}
	}
}
