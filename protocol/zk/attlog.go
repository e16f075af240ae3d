package zk

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// AttendanceLog is a decoded attendance dataset. Every whole record is
// decoded, plausible or not: a record that is no punch (a time that is no
// date, erased flash, a PIN with control characters) is the caller's to set
// aside, and it keeps its place in the log, so that positions in the log
// stay those of the terminal. Check tells the records apart.
type AttendanceLog struct {
	Size     int          // the record size, AttSize8, 16 or 40; 0 for an empty log
	Records  []Attendance // every whole record, in the terminal's order
	Trailing []byte       // bytes after the last whole record (a partial record); nil if none
	body     []byte
}

// Raw returns record i as the terminal sent it. It aliases the dataset.
func (l *AttendanceLog) Raw(i int) []byte { return l.body[i*l.Size : (i+1)*l.Size] }

// Check returns nil when record i is plausible, else an ErrImplausible
// saying why it cannot be a punch.
func (l *AttendanceLog) Check(i int) error { return CheckAttendance(l.Raw(i), l.Size) }

// ParseAttendanceLog decodes an attendance dataset: the u32 length, then
// the records. The record size is decided by DecideAttendanceSize, with
// count, the record count the terminal reported (0 when unknown).
func ParseAttendanceLog(set []byte, count int) (AttendanceLog, error) {
	body, err := setBody(set)
	if err != nil {
		return AttendanceLog{}, err
	}
	if len(body) == 0 {
		return AttendanceLog{}, nil
	}
	size, err := DecideAttendanceSize(body, count)
	if err != nil {
		return AttendanceLog{}, err
	}
	return DecodeAttendanceLog(body, size)
}

// DecodeAttendanceLog decodes the records of body, a dataset (or a part of
// one) without its length prefix, in a known record size. Bytes after the
// last whole record become Trailing.
func DecodeAttendanceLog(body []byte, size int) (AttendanceLog, error) {
	if size != AttSize8 && size != AttSize16 && size != AttSize40 {
		return AttendanceLog{}, fmt.Errorf("%w: %d", ErrRecordSize, size)
	}
	whole := len(body) / size * size
	recs, err := DecodeAttendance(body[:whole], size, nil)
	if err != nil {
		return AttendanceLog{}, err
	}
	l := AttendanceLog{Size: size, Records: recs, body: body[:whole]}
	if whole < len(body) {
		l.Trailing = body[whole:]
	}
	return l, nil
}

// setBody checks a dataset's u32 length prefix against its length and
// returns the bytes after it.
func setBody(set []byte) ([]byte, error) {
	if len(set) < 4 {
		return nil, fmt.Errorf("%w: dataset of %d bytes has no length", ErrTruncated, len(set))
	}
	n := binary.LittleEndian.Uint32(set)
	if uint64(n) != uint64(len(set)-4) {
		return nil, fmt.Errorf("%w: dataset says %d bytes, has %d", ErrTruncated, n, len(set)-4)
	}
	return set[4:], nil
}

// formTrial is what one record form makes of a log.
type formTrial struct {
	size, whole, partial int
	sampled, plausible   int
}

func (f formTrial) String() string {
	s := fmt.Sprintf("%d-byte: %d records", f.size, f.whole)
	if f.partial > 0 {
		s += fmt.Sprintf(" and %d bytes", f.partial)
	}
	return s + fmt.Sprintf(", %d of %d sampled plausible", f.plausible, f.sampled)
}

// fits reports whether the form holds count records: exactly, or with a
// partial record that the terminal counted too.
func (f formTrial) fits(count int) bool {
	return f.whole == count || (f.partial > 0 && f.whole+1 == count)
}

// better orders the forms that qualify: more of the sampled records
// plausible, then no partial record, then the larger record.
func (f formTrial) better(g formTrial) bool {
	if a, b := f.plausible*g.sampled, g.plausible*f.sampled; a != b {
		return a > b
	}
	if (f.partial == 0) != (g.partial == 0) {
		return f.partial == 0
	}
	return f.size > g.size
}

// maxSampled bounds the records of each form DecideAttendanceSize checks.
const maxSampled = 1024

// DecideAttendanceSize decides the record size of body, the records of a
// dataset without its length prefix. Each form (40, 16 and 8 bytes) is
// tried on up to 1,024 of its records, spread over the log; a form
// qualifies when its records look real (a real date that is no sentinel of
// erased or zeroed flash, a known state, a printable PIN):
//
//   - with count, the record count the terminal reported, the form must hold
//     that many records (a partial record at the end may count as one) and
//     a majority of them must be plausible;
//   - without it (count <= 0), nine in ten must be.
//
// Among qualifying forms the one with more plausible records wins, then a
// form with no partial record, then the larger. When none qualifies, the
// error names the length, the count and what each form made of the log: a
// log cannot be read in a size its terminal contradicts. A few bad records
// or a partial one at the end never make the size undecidable.
func DecideAttendanceSize(body []byte, count int) (int, error) {
	return decideForm(body, count, []int{AttSize40, AttSize16, AttSize8}, CheckAttendance, "attendance")
}

// decideForm decides the record size of body among sizes, as
// DecideAttendanceSize describes, with check telling plausible records.
func decideForm(body []byte, count int, sizes []int, check func([]byte, int) error, what string) (int, error) {
	var trials []formTrial
	for _, size := range sizes {
		f := formTrial{size: size, whole: len(body) / size, partial: len(body) % size}
		if f.whole == 0 {
			continue
		}
		step := max(1, f.whole/maxSampled)
		for i := 0; i < f.whole; i += step {
			f.sampled++
			if check(body[i*size:(i+1)*size], size) == nil {
				f.plausible++
			}
		}
		trials = append(trials, f)
	}
	var best *formTrial
	for i := range trials {
		f := &trials[i]
		ok := f.plausible*10 >= f.sampled*9
		if count > 0 {
			ok = f.fits(count) && f.plausible*2 > f.sampled
		}
		if ok && f.plausible > 0 && (best == nil || f.better(*best)) {
			best = f
		}
	}
	if best != nil {
		return best.size, nil
	}
	tried := make([]string, len(trials))
	for i, f := range trials {
		tried[i] = f.String()
	}
	if len(tried) == 0 {
		tried = []string{"none holds a whole record"}
	}
	if count > 0 {
		return 0, fmt.Errorf("%w: %d bytes of %s, the terminal reports %d records; forms tried: %s",
			ErrRecordSize, len(body), what, count, strings.Join(tried, "; "))
	}
	return 0, fmt.Errorf("%w: %d bytes of %s fit no known record form; forms tried: %s",
		ErrRecordSize, len(body), what, strings.Join(tried, "; "))
}

// CheckAttendance returns nil when r, one record of the given size, can
// be a punch, else an ErrImplausible saying why not: a time that is a
// sentinel or no calendar date, an unknown state, non-zero reserved bytes
// (16-byte form), or a missing or unprintable PIN (40-byte form). It does
// not know the terminal's clock; a time in the terminal's future is the
// caller's to catch.
func CheckAttendance(r []byte, size int) error {
	var t uint32
	var state byte
	switch size {
	case AttSize8:
		if len(r) < AttSize8 {
			return fmt.Errorf("%w: %d-byte record", ErrTruncated, len(r))
		}
		t, state = binary.LittleEndian.Uint32(r[3:]), r[7]
	case AttSize16:
		if len(r) < AttSize16 {
			return fmt.Errorf("%w: %d-byte record", ErrTruncated, len(r))
		}
		t, state = binary.LittleEndian.Uint32(r[4:]), r[9]
		if r[10] != 0 || r[11] != 0 {
			return fmt.Errorf("%w: reserved bytes % x are not zero", ErrImplausible, r[10:12])
		}
	case AttSize40:
		if len(r) < AttSize40 {
			return fmt.Errorf("%w: %d-byte record", ErrTruncated, len(r))
		}
		t, state = binary.LittleEndian.Uint32(r[27:]), r[31]
		if r[2] == 0 {
			return fmt.Errorf("%w: no PIN", ErrImplausible)
		}
		if !plausiblePIN(r[2:26]) {
			return fmt.Errorf("%w: PIN % x is not printable ASCII", ErrImplausible, trimNUL(r[2:26]))
		}
	default:
		return fmt.Errorf("%w: %d", ErrRecordSize, size)
	}
	if err := CheckTime(t); err != nil {
		return err
	}
	if !plausibleState(state) {
		return fmt.Errorf("%w: punch state %d", ErrImplausible, state)
	}
	return nil
}

// CheckTime returns nil when v, a packed time from a log record, names a
// real moment: not 0 (what a zeroed record holds), not 0x7FFFFFFF,
// 0x80000000 or 0xFFFFFFFF (erased flash and its usual neighbours), and a
// real calendar date.
func CheckTime(v uint32) error {
	switch v {
	case 0:
		return fmt.Errorf("%w: time 0 (2000-01-01 00:00:00) is a zeroed record", ErrImplausible)
	case 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF:
		return fmt.Errorf("%w: time 0x%08x is erased flash", ErrImplausible, v)
	}
	if t := DecodeTime(v); !RealDate(t) {
		return fmt.Errorf("%w: time 0x%08x (%s) is no calendar date", ErrImplausible, v, t)
	}
	return nil
}

// plausibleState accepts the six punch states, 255 (undefined) and the
// codes up to 15 some firmware uses for custom state keys.
func plausibleState(s byte) bool { return s <= 15 || s == 255 }

// plausiblePIN accepts a NUL-padded field of printable ASCII, possibly empty.
func plausiblePIN(b []byte) bool {
	end := false
	for _, c := range b {
		switch {
		case c == 0:
			end = true
		case end || c < 0x21 || c > 0x7e:
			return false
		}
	}
	return true
}

// trimNUL cuts the NUL padding off a field, for messages.
func trimNUL(b []byte) []byte {
	n := len(b)
	for n > 0 && b[n-1] == 0 {
		n--
	}
	return b[:n]
}

// RealDate reports whether t names a real calendar date and time between
// 2000 and 2136 (the packed calendar allows February 31).
func RealDate(t Time) bool {
	if !t.valid() {
		return false
	}
	dim := 31
	switch t.Month {
	case 4, 6, 9, 11:
		dim = 30
	case 2:
		dim = 28
		if y := t.Year; y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			dim = 29
		}
	}
	return t.Day <= dim
}
