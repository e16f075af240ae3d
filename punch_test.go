package punchbox

import (
	"errors"
	"testing"
	"time"
)

func mustLocal(t *testing.T, s string) LocalTime {
	t.Helper()
	l, err := ParseLocalTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestPunchID(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := mustLocal(t, "2026-03-02T08:01:30")
	base := NewPunch("gate-a", "CQUJ203160123", "1001", at, berlin, StateCheckIn, VerifyFingerprint, "", SourcePull, time.Now())

	tests := []struct {
		name string
		p    Punch
		same bool
	}{
		{"same punch again", NewPunch("gate-a", "CQUJ203160123", "1001", at, berlin, StateCheckIn, VerifyFingerprint, "", SourcePull, time.Now()), true},
		{"seen by push", NewPunch("gate-a", "CQUJ203160123", "1001", at, berlin, StateCheckIn, VerifyFingerprint, "", SourcePush, time.Now()), true},
		{"as a live event", NewPunch("gate-a", "CQUJ203160123", "1001", at, berlin, StateCheckIn, VerifyFingerprint, "", SourceLive, time.Now()), true},
		{"other verify code (push card)", NewPunch("gate-a", "CQUJ203160123", "1001", at, berlin, StateCheckIn, VerifyPushCard, "", SourcePush, time.Now()), true},
		{"other terminal id, same serial", NewPunch("front-door", "CQUJ203160123", "1001", at, berlin, StateCheckIn, VerifyCard, "", SourcePull, time.Now()), true},
		{"other work code", NewPunch("gate-a", "CQUJ203160123", "1001", at, berlin, StateCheckIn, VerifyFingerprint, "7", SourcePull, time.Now()), true},
		{"other zone", NewPunch("gate-a", "CQUJ203160123", "1001", at, time.UTC, StateCheckIn, VerifyFingerprint, "", SourcePull, time.Now()), true},
		{"other serial", NewPunch("gate-a", "CQUJ203160124", "1001", at, berlin, StateCheckIn, VerifyFingerprint, "", SourcePull, time.Now()), false},
		{"other pin", NewPunch("gate-a", "CQUJ203160123", "1002", at, berlin, StateCheckIn, VerifyFingerprint, "", SourcePull, time.Now()), false},
		{"one second later", NewPunch("gate-a", "CQUJ203160123", "1001", mustLocal(t, "2026-03-02T08:01:31"), berlin, StateCheckIn, VerifyFingerprint, "", SourcePull, time.Now()), false},
		{"next day", NewPunch("gate-a", "CQUJ203160123", "1001", mustLocal(t, "2026-03-03T08:01:30"), berlin, StateCheckIn, VerifyFingerprint, "", SourcePull, time.Now()), false},
		{"other state", NewPunch("gate-a", "CQUJ203160123", "1001", at, berlin, StateCheckOut, VerifyFingerprint, "", SourcePull, time.Now()), false},
		{"undefined state", NewPunch("gate-a", "CQUJ203160123", "1001", at, berlin, StateUndefined, VerifyFingerprint, "", SourcePull, time.Now()), false},
		{"fields shifted across the separator", NewPunch("gate-a", "CQUJ20316012", "31001", at, berlin, StateCheckIn, VerifyFingerprint, "", SourcePull, time.Now()), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.ID == base.ID; got != tt.same {
				t.Errorf("id %s vs base %s: equal=%v, want %v", tt.p.ID, base.ID, got, tt.same)
			}
		})
	}
}

// TestPunchIDGolden pins the id algorithm: central de-duplicates on these
// values, so a change here breaks every deployed consumer.
func TestPunchIDGolden(t *testing.T) {
	tests := []struct {
		serial, pin, local string
		state              PunchState
		want               string
	}{
		// Computed independently: hashlib.sha256(b"CQUJ203160123\x1f1001\x1f2026-03-02T08:01:30\x1f0").hexdigest()[:32]
		{"CQUJ203160123", "1001", "2026-03-02T08:01:30", StateCheckIn, "fa4dc1017dfdef7386ae0b50d8c987ce"},
		{"A8N5211060012", "42", "2025-12-31T23:59:59", StateUndefined, "d527b56b6a32d46af69be1f5f275f5a5"},
	}
	for _, tt := range tests {
		got := PunchID(tt.serial, tt.pin, mustLocal(t, tt.local), tt.state)
		if got != tt.want {
			t.Errorf("PunchID(%s, %s, %s, %d) = %s, want %s", tt.serial, tt.pin, tt.local, tt.state, got, tt.want)
		}
	}
}

func TestPunchValidate(t *testing.T) {
	good := NewPunch("gate-a", "SN1", "1001", LocalTime{2026, 3, 2, 8, 1, 30}, time.UTC, StateCheckIn, VerifyCard, "", SourcePull, time.Now())
	if err := good.Validate(); err != nil {
		t.Fatalf("valid punch: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(p *Punch)
	}{
		{"bad terminal id", func(p *Punch) { p.TerminalID = "Gate A" }},
		{"no serial", func(p *Punch) { p.TerminalSerial = "" }},
		{"pin with a space", func(p *Punch) { p.PIN = "10 01" }},
		{"pin with the separator", func(p *Punch) { p.PIN = "10\x1f01" }},
		{"impossible date", func(p *Punch) { p.Local.Day = 31; p.Local.Month = 2 }},
		{"no zone", func(p *Punch) { p.Zone = "" }},
		{"no receive time", func(p *Punch) { p.Received = time.Time{} }},
		{"unknown source", func(p *Punch) { p.Source = "fax" }},
		{"id of another punch", func(p *Punch) { p.State = StateCheckOut }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.mutate(&p)
			if err := p.Validate(); !errors.Is(err, ErrInvalidPunch) {
				t.Errorf("Validate() = %v, want ErrInvalidPunch", err)
			}
		})
	}
}
