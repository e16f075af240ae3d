package zk

import (
	"fmt"
	"time"
)

// Time is a terminal's wall-clock reading, with no zone. Its layout matches
// punchbox.LocalTime, so one converts to the other.
type Time struct {
	Year   int
	Month  time.Month
	Day    int
	Hour   int
	Minute int
	Second int
}

func (t Time) String() string {
	return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", t.Year, int(t.Month), t.Day, t.Hour, t.Minute, t.Second)
}

// valid reports whether the fields are in range for the packed encoding.
// It does not check the day against the month: the packed calendar has 31
// days in every month, and terminals never produce February 30.
func (t Time) valid() bool {
	return t.Year >= 2000 && t.Year <= 2136 && t.Month >= 1 && t.Month <= 12 && t.Day >= 1 && t.Day <= 31 &&
		t.Hour >= 0 && t.Hour <= 23 && t.Minute >= 0 && t.Minute <= 59 && t.Second >= 0 && t.Second <= 59
}

// EncodeTime packs t the way terminals store it: a count of seconds in a
// calendar of 31-day months and 372-day years from 2000-01-01.
func EncodeTime(t Time) (uint32, error) {
	if !t.valid() {
		return 0, fmt.Errorf("%w: %s", ErrTimeRange, t)
	}
	days := uint64(t.Year-2000)*12*31 + uint64(t.Month-1)*31 + uint64(t.Day-1)
	v := days*86400 + uint64(t.Hour*3600+t.Minute*60+t.Second)
	if v > 0xFFFFFFFF {
		return 0, fmt.Errorf("%w: %s", ErrTimeRange, t)
	}
	return uint32(v), nil
}

// DecodeTime unpacks a packed time, in integer arithmetic. Every u32 decodes
// to some Time; a corrupt one may name a day such as February 31, which
// callers that need a real date must check.
func DecodeTime(v uint32) Time {
	var t Time
	t.Second = int(v % 60)
	v /= 60
	t.Minute = int(v % 60)
	v /= 60
	t.Hour = int(v % 24)
	v /= 24
	t.Day = int(v%31) + 1
	v /= 31
	t.Month = time.Month(v%12) + 1
	v /= 12
	t.Year = int(v) + 2000
	return t
}

// TimeHexLen is the length of the byte-per-field time in realtime events.
const TimeHexLen = 6

// DecodeTimeHex decodes the six bytes year-2000, month, day, hour, minute,
// second used by realtime events.
func DecodeTimeHex(b []byte) (Time, error) {
	if len(b) < TimeHexLen {
		return Time{}, fmt.Errorf("%w: time needs %d bytes, have %d", ErrBadLength, TimeHexLen, len(b))
	}
	t := Time{Year: 2000 + int(b[0]), Month: time.Month(b[1]), Day: int(b[2]), Hour: int(b[3]), Minute: int(b[4]), Second: int(b[5])}
	if !t.valid() {
		return Time{}, fmt.Errorf("%w: % x", ErrTimeRange, b[:TimeHexLen])
	}
	return t, nil
}

// AppendTimeHex appends the six-byte form of t.
func AppendTimeHex(dst []byte, t Time) []byte {
	return append(dst, byte(t.Year-2000), byte(t.Month), byte(t.Day), byte(t.Hour), byte(t.Minute), byte(t.Second))
}
