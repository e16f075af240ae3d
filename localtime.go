package punchbox

import (
	"errors"
	"fmt"
	"time"
)

// LocalTimeLayout is the text form of a LocalTime, used in punch ids, the
// store and every payload.
const LocalTimeLayout = "2006-01-02T15:04:05"

// LocalTime is a terminal's wall-clock reading: a calendar date and a time of
// day to the second, with no zone. Terminals keep naive local time; the zone
// comes from configuration and turns a LocalTime into an instant with In.
//
// The zero LocalTime is invalid (year 0); IsZero reports it.
type LocalTime struct {
	Year   int
	Month  time.Month
	Day    int
	Hour   int
	Minute int
	Second int
}

// LocalTimeOf returns the wall-clock reading of t in t's own location.
func LocalTimeOf(t time.Time) LocalTime {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return LocalTime{Year: y, Month: mo, Day: d, Hour: h, Minute: mi, Second: s}
}

// ParseLocalTime parses the LocalTimeLayout form ("2006-01-02T15:04:05").
// A space instead of the T is accepted, as push terminals send it.
func ParseLocalTime(s string) (LocalTime, error) {
	layout := LocalTimeLayout
	if len(s) == len(layout) && s[10] == ' ' {
		layout = "2006-01-02 15:04:05"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return LocalTime{}, fmt.Errorf("parse local time %q: want YYYY-MM-DDTHH:MM:SS", s)
	}
	return LocalTimeOf(t), nil
}

// String returns the LocalTimeLayout form, e.g. "2026-03-29T02:30:00".
func (l LocalTime) String() string {
	return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", l.Year, int(l.Month), l.Day, l.Hour, l.Minute, l.Second)
}

// IsZero reports whether l is the zero LocalTime.
func (l LocalTime) IsZero() bool { return l == LocalTime{} }

// Valid reports whether l names a real calendar date and time of day.
func (l LocalTime) Valid() bool {
	if l.Year < 1 || l.Year > 9999 || l.Hour < 0 || l.Hour > 23 || l.Minute < 0 || l.Minute > 59 || l.Second < 0 || l.Second > 59 {
		return false
	}
	// time.Date normalises overflowing fields; a valid date survives unchanged.
	return LocalTimeOf(time.Date(l.Year, l.Month, l.Day, l.Hour, l.Minute, l.Second, 0, time.UTC)) == l
}

// In returns the instant at which clocks in loc show l. Where a zone
// transition repeats or skips wall-clock times, the result is the one
// time.Date picks; a Punch keeps Local and Zone beside the instant, so the
// terminal's reading is never lost.
func (l LocalTime) In(loc *time.Location) time.Time {
	return time.Date(l.Year, l.Month, l.Day, l.Hour, l.Minute, l.Second, 0, loc)
}

// Compare returns -1, 0 or +1 as l is before, equal to or after m.
func (l LocalTime) Compare(m LocalTime) int {
	return l.In(time.UTC).Compare(m.In(time.UTC))
}

// Before reports whether l is before m.
func (l LocalTime) Before(m LocalTime) bool { return l.Compare(m) < 0 }

// MarshalText implements encoding.TextMarshaler with the LocalTimeLayout form.
func (l LocalTime) MarshalText() ([]byte, error) {
	if !l.Valid() {
		return nil, errors.New("marshal local time: invalid date or time")
	}
	return []byte(l.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (l *LocalTime) UnmarshalText(b []byte) error {
	v, err := ParseLocalTime(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}
