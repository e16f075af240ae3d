package zk

import (
	"errors"
	"testing"
)

func TestAttLogEventGolden(t *testing.T) {
	p := tcpPacket(t, "tcp-event-attlog32")
	if p.Command != CmdRegEvent || p.Session != EventAttLog || p.Reply != 0 {
		t.Fatalf("event header = %v session %d reply %d", p.Command, p.Session, p.Reply)
	}
	e, err := ParseAttLogEvent(p.Data)
	if err != nil {
		t.Fatal(err)
	}
	want := AttLogEvent{UserID: "999111333", Verify: 1, State: 0, Time: Time{2018, 6, 25, 17, 41, 5}}
	if e != want {
		t.Errorf("event = %+v, want %+v", e, want)
	}
}

func TestAttLogEventForms(t *testing.T) {
	base := AttLogEvent{UserID: "4711", UID: 4711, Verify: 15, State: 3, Time: Time{2026, 11, 27, 8, 59, 1}, WorkCode: 99}
	tests := []struct {
		form int
		want AttLogEvent
	}{
		{AttLogForm10, AttLogEvent{UserID: "4711", UID: 4711, ByUID: true, Verify: 15, State: 3, Time: base.Time}},
		{AttLogForm12, AttLogEvent{UserID: "4711", Verify: 15, State: 3, Time: base.Time}},
		{AttLogForm14, AttLogEvent{UserID: "4711", UID: 4711, ByUID: true, Verify: 15, State: 3, Time: base.Time, WorkCode: 99}},
		{AttLogForm32, AttLogEvent{UserID: "4711", Verify: 15, State: 3, Time: base.Time}},
		{AttLogForm36, AttLogEvent{UserID: "4711", Verify: 15, State: 3, Time: base.Time, WorkCode: 99}},
		{AttLogForm37, AttLogEvent{UserID: "4711", Verify: 15, State: 3, Time: base.Time, WorkCode: 99}},
		{AttLogForm52, AttLogEvent{UserID: "4711", Verify: 15, State: 3, Time: base.Time, WorkCode: 99}},
	}
	for _, tt := range tests {
		t.Run(itoa(tt.form)+" bytes", func(t *testing.T) {
			b, err := AppendAttLogEvent(nil, base, tt.form)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != tt.form {
				t.Fatalf("encoded %d bytes, want %d", len(b), tt.form)
			}
			got, err := ParseAttLogEvent(b)
			if err != nil || got != tt.want {
				t.Errorf("ParseAttLogEvent = %+v, %v\nwant %+v", got, err, tt.want)
			}
		})
	}
}

func TestAttLogEventErrors(t *testing.T) {
	ok, _ := AppendAttLogEvent(nil, AttLogEvent{UserID: "1", Time: Time{2026, 2, 28, 0, 0, 0}}, AttLogForm36)
	feb30 := append([]byte{}, ok...)
	feb30[24+2+2] = 30
	garbledPIN := append([]byte{}, ok...)
	garbledPIN[3] = 0x07
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"unknown length", make([]byte, 20)},
		{"february 30", feb30},
		{"control bytes in the PIN", garbledPIN},
		{"all zero time", make([]byte, AttLogForm32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseAttLogEvent(tt.in); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestAlarmEvent(t *testing.T) {
	for _, a := range []AlarmEvent{{Type: AlarmTamper}, {Type: AlarmDoorClosed}, {Type: AlarmDuress, UserSN: 5, MatchType: 1}} {
		got, err := ParseAlarmEvent(AppendAlarmEvent(nil, a))
		if err != nil || got != a {
			t.Errorf("round trip of %v = %+v, %v", a, got, err)
		}
	}
	if got, _ := ParseAlarmEvent([]byte{0x54, 0, 0, 0, 0, 0, 0, 0}); got.String() != "door closed" || !got.Known() {
		t.Errorf("8-byte door alarm = %v", got)
	}
	if got, _ := ParseAlarmEvent([]byte{0x99, 0, 0, 0}); got.String() != "alarm 0x99" || got.Known() {
		t.Errorf("alarm of no known type = %v, known %v", got, got.Known())
	}
	if _, err := ParseAlarmEvent([]byte{1, 2, 3}); !errors.Is(err, ErrBadLength) {
		t.Errorf("3-byte alarm: %v", err)
	}
}
