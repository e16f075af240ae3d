package zk

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// Attendance record sizes.
const (
	AttSize8  = 8  // old ZK6/BW firmware: u16 uid, u8 verify, u32 time, u8 state
	AttSize16 = 16 // u32 numeric PIN, u32 time, u8 verify, u8 state, 2 reserved, u32 work code
	AttSize40 = 40 // TFT/ZK8: u16 uid, 24-byte PIN, u8 verify, u32 time (unaligned), u8 state, u32 work code, 4 reserved
)

// Attendance is one record of a terminal's attendance log.
//
// The naming follows what the fields mean, not the libraries that misname
// them: Verify is how the user was identified (pyzk's "status"), State what
// they declared (pyzk's "punch").
type Attendance struct {
	UID      uint16 // the terminal's internal user index; 0 in the 16-byte form
	UserID   string // the PIN; empty in the 8-byte form (map UID through the users)
	Verify   uint8
	State    uint8
	Time     Time
	WorkCode uint32
}

// maxUserID is the width of a PIN field in 40-byte records and 72-byte users.
const maxUserID = 24

// AppendAttendance appends a in the given record size (AttSize8, 16 or 40).
func AppendAttendance(dst []byte, a Attendance, size int) ([]byte, error) {
	t, err := EncodeTime(a.Time)
	if err != nil {
		return dst, err
	}
	switch size {
	case AttSize8:
		dst = binary.LittleEndian.AppendUint16(dst, a.UID)
		dst = append(dst, a.Verify)
		dst = binary.LittleEndian.AppendUint32(dst, t)
		return append(dst, a.State), nil
	case AttSize16:
		pin, err := strconv.ParseUint(a.UserID, 10, 32)
		if err != nil {
			return dst, fmt.Errorf("zk: 16-byte records need a numeric PIN, not %q", a.UserID)
		}
		dst = binary.LittleEndian.AppendUint32(dst, uint32(pin))
		dst = binary.LittleEndian.AppendUint32(dst, t)
		dst = append(dst, a.Verify, a.State, 0, 0)
		return binary.LittleEndian.AppendUint32(dst, a.WorkCode), nil
	case AttSize40:
		if len(a.UserID) > maxUserID {
			return dst, fmt.Errorf("zk: PIN %q longer than %d bytes", a.UserID, maxUserID)
		}
		dst = binary.LittleEndian.AppendUint16(dst, a.UID)
		dst = appendPadded(dst, a.UserID, maxUserID)
		dst = append(dst, a.Verify)
		dst = binary.LittleEndian.AppendUint32(dst, t)
		dst = append(dst, a.State)
		dst = binary.LittleEndian.AppendUint32(dst, a.WorkCode)
		return append(dst, 0xFF, 0, 0, 0), nil
	}
	return dst, fmt.Errorf("%w: %d", ErrRecordSize, size)
}

// AppendAttendanceSet appends a whole attendance dataset as terminals send
// it: the u32 byte length of the records, then the records.
func AppendAttendanceSet(dst []byte, recs []Attendance, size int) ([]byte, error) {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(recs)*size))
	for _, a := range recs {
		var err error
		if dst, err = AppendAttendance(dst, a, size); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// DecodeAttendance decodes records of a known size, appending to dst. The
// length of recs must be a multiple of size.
func DecodeAttendance(recs []byte, size int, dst []Attendance) ([]Attendance, error) {
	if size != AttSize8 && size != AttSize16 && size != AttSize40 {
		return dst, fmt.Errorf("%w: %d", ErrRecordSize, size)
	}
	if len(recs)%size != 0 {
		return dst, fmt.Errorf("%w: %d bytes is not a whole number of %d-byte records", ErrTruncated, len(recs), size)
	}
	n := len(recs) / size
	dst = append(dst, make([]Attendance, n)...)
	out := dst[len(dst)-n:]
	var pins pinCache
	for i := range out {
		r := recs[i*size : (i+1)*size]
		a := &out[i]
		switch size {
		case AttSize8:
			a.UID = binary.LittleEndian.Uint16(r)
			a.Verify = r[2]
			a.Time = DecodeTime(binary.LittleEndian.Uint32(r[3:]))
			a.State = r[7]
		case AttSize16:
			a.UserID = pins.decimal(binary.LittleEndian.Uint32(r))
			a.Time = DecodeTime(binary.LittleEndian.Uint32(r[4:]))
			a.Verify = r[8]
			a.State = r[9]
			a.WorkCode = binary.LittleEndian.Uint32(r[12:])
		case AttSize40:
			a.UID = binary.LittleEndian.Uint16(r)
			a.UserID = pins.text(r[2:26])
			a.Verify = r[26]
			a.Time = DecodeTime(binary.LittleEndian.Uint32(r[27:]))
			a.State = r[31]
			a.WorkCode = binary.LittleEndian.Uint32(r[32:])
		}
	}
	return dst, nil
}

// pinCache interns PIN strings: a log has far fewer users than records, so
// most records reuse the string of an earlier one instead of allocating.
type pinCache struct{ m map[string]string }

// maxInterned bounds the cache; past it new PINs are simply allocated.
const maxInterned = 1 << 14

func (c *pinCache) text(field []byte) string {
	n := 0
	for n < len(field) && field[n] != 0 {
		n++
	}
	if s, ok := c.m[string(field[:n])]; ok {
		return s
	}
	s := string(field[:n])
	if c.m == nil {
		c.m = make(map[string]string, 256)
	}
	if len(c.m) < maxInterned {
		c.m[s] = s
	}
	return s
}

func (c *pinCache) decimal(v uint32) string {
	var buf [10]byte
	return c.text(strconv.AppendUint(buf[:0], uint64(v), 10))
}

func appendPadded(dst []byte, s string, n int) []byte {
	dst = append(dst, s...)
	for i := len(s); i < n; i++ {
		dst = append(dst, 0)
	}
	return dst
}
