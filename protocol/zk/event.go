package zk

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// AttLogEvent is the payload of an EventAttLog realtime event: a punch as it
// happens.
type AttLogEvent struct {
	UserID   string // the PIN; for the 10- and 14-byte forms the decimal UID
	UID      uint16 // the internal index, in the 10- and 14-byte forms
	ByUID    bool   // the terminal sent a UID, not a PIN: map it through the users
	Verify   uint8
	State    uint8 // bit 7 set: the terminal flagged the punch invalid or a repeat
	Time     Time
	WorkCode uint32
}

// StateRepeat is the bit of AttLogEvent.State that marks an invalid or
// repeated punch, one the terminal did not log.
const StateRepeat = 0x80

// AttLog event payload forms, by length.
const (
	AttLogForm10 = 10 // u16 uid, verify, state, timehex
	AttLogForm12 = 12 // u32 PIN, verify, state, timehex
	AttLogForm14 = 14 // form 10 and a u32 work code
	AttLogForm32 = 32 // 24-byte PIN, verify, state, timehex
	AttLogForm36 = 36 // form 32 and a u32 work code
	AttLogForm37 = 37 // form 36 and a reserved byte
	AttLogForm52 = 52 // form 36 and 16 reserved bytes (and longer)
)

// ParseAttLogEvent decodes an EventAttLog payload in any of its forms, told
// apart by length.
func ParseAttLogEvent(b []byte) (AttLogEvent, error) {
	var e AttLogEvent
	var rest []byte
	switch n := len(b); {
	case n == AttLogForm10 || n == AttLogForm14:
		e.UID = binary.LittleEndian.Uint16(b)
		e.UserID, e.ByUID = strconv.Itoa(int(e.UID)), true
		rest = b[2:]
	case n == AttLogForm12:
		e.UserID = strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b)), 10)
		rest = b[4:]
	case n == AttLogForm32 || n == AttLogForm36 || n == AttLogForm37 || n >= AttLogForm52:
		if !plausiblePIN(b[:maxUserID]) {
			return e, fmt.Errorf("zk: attendance event with a malformed PIN % x", b[:maxUserID])
		}
		e.UserID = CString(b[:maxUserID])
		rest = b[maxUserID:]
	default:
		return e, fmt.Errorf("%w: attendance event of %d bytes", ErrBadLength, n)
	}
	e.Verify, e.State = rest[0], rest[1]
	t, err := DecodeTimeHex(rest[2:])
	if err != nil {
		return e, err
	}
	if !RealDate(t) {
		return e, fmt.Errorf("%w: %s is not a date", ErrTimeRange, t)
	}
	e.Time = t
	if w := rest[2+TimeHexLen:]; len(w) >= 4 {
		e.WorkCode = binary.LittleEndian.Uint32(w)
	}
	return e, nil
}

// AppendAttLogEvent appends e in the given form (an AttLogForm constant).
func AppendAttLogEvent(dst []byte, e AttLogEvent, form int) ([]byte, error) {
	switch form {
	case AttLogForm10, AttLogForm14:
		dst = binary.LittleEndian.AppendUint16(dst, e.UID)
	case AttLogForm12:
		pin, err := strconv.ParseUint(e.UserID, 10, 32)
		if err != nil {
			return dst, fmt.Errorf("zk: the 12-byte event form needs a numeric PIN, not %q", e.UserID)
		}
		dst = binary.LittleEndian.AppendUint32(dst, uint32(pin))
	case AttLogForm32, AttLogForm36, AttLogForm37, AttLogForm52:
		if len(e.UserID) > maxUserID {
			return dst, fmt.Errorf("zk: PIN %q longer than %d bytes", e.UserID, maxUserID)
		}
		dst = appendPadded(dst, e.UserID, maxUserID)
	default:
		return dst, fmt.Errorf("%w: event form %d", ErrBadLength, form)
	}
	dst = append(dst, e.Verify, e.State)
	dst = AppendTimeHex(dst, e.Time)
	switch form {
	case AttLogForm14, AttLogForm36:
		dst = binary.LittleEndian.AppendUint32(dst, e.WorkCode)
	case AttLogForm37:
		dst = binary.LittleEndian.AppendUint32(dst, e.WorkCode)
		dst = append(dst, 0)
	case AttLogForm52:
		dst = binary.LittleEndian.AppendUint32(dst, e.WorkCode)
		dst = append(dst, make([]byte, 16)...)
	}
	return dst, nil
}

// AlarmEvent is the payload of an EventAlarm realtime event.
type AlarmEvent struct {
	Type      uint16 // one of the Alarm constants
	UserSN    uint16 // duress and passback: the user's internal index
	MatchType uint32 // duress and passback: how the user was matched
}

// Alarm types.
const (
	AlarmDuress      = 0x20
	AlarmPassback    = 0x22
	AlarmExitButton  = 0x35
	AlarmTamper      = 0x37
	AlarmMisoperated = 0x3A
	AlarmDoorClosed  = 0x54
)

var alarmNames = map[uint16]string{
	AlarmDuress: "duress", AlarmPassback: "anti-passback", AlarmExitButton: "exit button",
	AlarmTamper: "tamper", AlarmMisoperated: "misoperation", AlarmDoorClosed: "door closed",
}

// Known reports whether the alarm is of a type the protocol names.
func (a AlarmEvent) Known() bool {
	_, ok := alarmNames[a.Type]
	return ok
}

// String names the alarm type.
func (a AlarmEvent) String() string {
	if n, ok := alarmNames[a.Type]; ok {
		return n
	}
	return fmt.Sprintf("alarm 0x%02x", a.Type)
}

// ParseAlarmEvent decodes an EventAlarm payload: 4 or 8 bytes whose first
// byte is the type, or 12 bytes with the type, user and match type.
func ParseAlarmEvent(b []byte) (AlarmEvent, error) {
	switch len(b) {
	case 4, 8:
		return AlarmEvent{Type: uint16(b[0])}, nil
	case 12:
		return AlarmEvent{
			Type:      binary.LittleEndian.Uint16(b[4:]),
			UserSN:    binary.LittleEndian.Uint16(b[6:]),
			MatchType: binary.LittleEndian.Uint32(b[8:]),
		}, nil
	}
	return AlarmEvent{}, fmt.Errorf("%w: alarm event of %d bytes", ErrBadLength, len(b))
}

// AppendAlarmEvent appends the 4-byte form for a simple alarm, or the
// 12-byte form for duress and passback.
func AppendAlarmEvent(dst []byte, a AlarmEvent) []byte {
	if a.Type == AlarmDuress || a.Type == AlarmPassback {
		dst = append(dst, 0xFF, 0xFF, 0xFF, 0xFF)
		dst = binary.LittleEndian.AppendUint16(dst, a.Type)
		dst = binary.LittleEndian.AppendUint16(dst, a.UserSN)
		return binary.LittleEndian.AppendUint32(dst, a.MatchType)
	}
	return append(dst, byte(a.Type), 0, 0, 0)
}
