package hostile

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

// Packed returns the packed form of t's wall clock, as terminals store it;
// times outside 2000-2136 give 0.
func Packed(t time.Time) uint32 {
	v, _ := zk.EncodeTime(Wall(t))
	return v
}

// Wall is t's wall clock as a terminal reads it.
func Wall(t time.Time) zk.Time {
	return zk.Time{Year: t.Year(), Month: t.Month(), Day: t.Day(), Hour: t.Hour(), Minute: t.Minute(), Second: t.Second()}
}

// Record40 is one raw 40-byte attendance record: pin goes into the 24-byte
// field as it is (cut to fit), time is the packed value as it is.
func Record40(uid uint16, pin string, verify uint8, time uint32, state uint8) []byte {
	r := binary.LittleEndian.AppendUint16(make([]byte, 0, zk.AttSize40), uid)
	var f [24]byte
	copy(f[:], pin)
	r = append(r, f[:]...)
	r = append(r, verify)
	r = binary.LittleEndian.AppendUint32(r, time)
	r = append(r, state)
	return append(r, 0, 0, 0, 0, 0xFF, 0, 0, 0)
}

// Log40 is n plausible 40-byte records of PINs 1001-1010, one a minute
// from start.
func Log40(n int, start time.Time) []byte {
	var b []byte
	for i := range n {
		uid := i%10 + 1
		b = append(b, Record40(uint16(uid), strconv.Itoa(1000+uid), 1, Packed(start.Add(time.Duration(i)*time.Minute)), uint8(i%2))...)
	}
	return b
}

// User72 is one raw 72-byte user record; pin and name go in as they are.
func User72(uid uint16, pin, name string) []byte {
	r := binary.LittleEndian.AppendUint16(make([]byte, 0, zk.UserSize72), uid)
	r = append(r, 0) // privilege
	r = append(r, make([]byte, 8)...)
	var n [24]byte
	copy(n[:], name)
	r = append(r, n[:]...)
	r = append(r, 0, 0, 0, 0, 1) // card, group
	r = append(r, make([]byte, 8)...)
	var p [24]byte
	copy(p[:], pin)
	return append(r, p[:]...)
}

// Events.

// MalformedPunch is an EF_ATTLOG event of a length no form has.
func MalformedPunch() Event {
	return Event{Code: zk.EventAttLog, Data: []byte{1, 2, 3, 4, 5, 6, 7}}
}

// GarbagePunch is an EF_ATTLOG event of the 36-byte form whose PIN is
// control characters and whose time is no date.
func GarbagePunch() Event {
	d := make([]byte, zk.AttLogForm36)
	copy(d, "\x1b[2J\x07")
	d[26] = 0xFF // year 2255, month 255
	d[27] = 0xFF
	return Event{Code: zk.EventAttLog, Data: d}
}

// FuturePunch is a well-formed live punch of pin dated far in the
// terminal's future: year 2099.
func FuturePunch(pin string) Event {
	d, _ := zk.AppendAttLogEvent(nil, zk.AttLogEvent{UserID: pin, Verify: 1, Time: zk.Time{Year: 2099, Month: 1, Day: 1, Hour: 8}}, zk.AttLogForm36)
	return Event{Code: zk.EventAttLog, Data: d}
}

// UIDPunch is a 14-byte live punch by internal user index, which the
// client maps through the users: a way to make it read them.
func UIDPunch(uid uint16, at time.Time) Event {
	d, _ := zk.AppendAttLogEvent(nil, zk.AttLogEvent{UID: uid, Verify: 1, Time: Wall(at)}, zk.AttLogForm14)
	return Event{Code: zk.EventAttLog, Data: d}
}

// Alarm is an EF_ALARM event of the given type (zk.AlarmTamper, …).
func Alarm(typ uint16) Event {
	return Event{Code: zk.EventAlarm, Data: zk.AppendAlarmEvent(nil, zk.AlarmEvent{Type: typ})}
}

// BigEvent is an event with size bytes of payload.
func BigEvent(size int) Event {
	return Event{Code: zk.EventAttLog, Data: bytes.Repeat([]byte{0xEE}, size)}
}

// Dirty is n bytes of a string that repeats ESC, BEL and text: the 18 KB
// platform string.
func Dirty(n int) string {
	s := strings.Repeat("ZEM\x1b[5m\x07\x9b", n/9+1)
	return s[:n]
}

// BadLog is a log of good 40-byte records from start among which the
// terminal mixes what cannot be punches: a PIN with control characters,
// times 0, 0x7FFFFFFF and 0xFFFFFFFF, an erased record, and a partial record
// at the end. It returns the bytes, the number of good records and the
// number of bad whole records.
func BadLog(good int, start time.Time) (log []byte, goodN, badN int) {
	log = Log40(good, start)
	bad := [][]byte{
		Record40(3, "10\x1b[2J\x07", 1, Packed(start), 0),
		Record40(4, "1004", 1, 0, 0),
		Record40(5, "1005", 1, 0x7FFFFFFF, 0),
		Record40(6, "1006", 1, 0xFFFFFFFF, 1),
		bytes.Repeat([]byte{0xFF}, zk.AttSize40),
	}
	// Spread them through the log.
	out := make([]byte, 0, len(log)+len(bad)*zk.AttSize40+7)
	per, j := max(1, good/len(bad)), 0
	for i := range good {
		out = append(out, log[i*zk.AttSize40:(i+1)*zk.AttSize40]...)
		if j < len(bad) && (i+1)%per == 0 {
			out = append(out, bad[j]...)
			j++
		}
	}
	for ; j < len(bad); j++ {
		out = append(out, bad[j]...)
	}
	out = append(out, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF) // partial
	return out, good, len(bad)
}
