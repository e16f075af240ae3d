package zk

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// withPrefix puts the u32 length prefix in front of records.
func withPrefix(body []byte) []byte {
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// records40 is n plausible 40-byte records, without the prefix.
func records40(t testing.TB, n int) []byte {
	t.Helper()
	set, err := AppendAttendanceSet(nil, sampleAttendance(n), AttSize40)
	if err != nil {
		t.Fatal(err)
	}
	return set[4:]
}

// setTime40 overwrites the packed time of 40-byte record i.
func setTime40(body []byte, i int, v uint32) {
	binary.LittleEndian.PutUint32(body[i*AttSize40+27:], v)
}

// setPIN40 overwrites the PIN field of 40-byte record i.
func setPIN40(body []byte, i int, pin string) {
	f := body[i*AttSize40+2 : i*AttSize40+26]
	clear(f)
	copy(f, pin)
}

func TestDecideAttendanceSize(t *testing.T) {
	two40, _ := AppendAttendanceSet(nil, sampleAttendance(2), AttSize40)  // 80 bytes: also 5×16 or 10×8
	five16, _ := AppendAttendanceSet(nil, sampleAttendance(5), AttSize16) // 80 bytes
	ten8, _ := AppendAttendanceSet(nil, sampleAttendance(10), AttSize8)   // 80 bytes
	four8, _ := AppendAttendanceSet(nil, sampleAttendance(4), AttSize8)   // 32 bytes: also 2×16
	zeros := make([]byte, 80)                                             // times of 2000-01-01 00:00:00: zeroed flash
	text := []byte("this is not an attendance record at all!")
	tests := []struct {
		name     string
		body     []byte
		count    int
		wantSize int
		wantMsg  []string // with ErrRecordSize: what the error must name
	}{
		{"80 bytes of 40-byte records", two40[4:], 0, AttSize40, nil},
		{"80 bytes of 16-byte records", five16[4:], 0, AttSize16, nil},
		{"80 bytes of 8-byte records", ten8[4:], 0, AttSize8, nil},
		{"32 bytes of 8-byte records", four8[4:], 0, AttSize8, nil},
		{"the count confirms the form", two40[4:], 2, AttSize40, nil},
		{"a partial record the terminal counted", append(records40(t, 9), 1, 2, 3), 10, AttSize40, nil},
		{"a count no form fits is refused", two40[4:], 7, 0,
			[]string{"80 bytes", "reports 7 records", "40-byte: 2 records, 2 of 2 sampled plausible", "16-byte: 5 records", "8-byte: 10 records"}},
		{"zeroed flash is no record", zeros, 0, 0, []string{"80 bytes of attendance fit no known record form"}},
		{"text is no record", text, 0, 0, []string{"40 bytes"}},
		{"41 bytes of zeros", make([]byte, 41), 0, 0, []string{"40-byte: 1 records and 1 bytes"}},
		{"nothing whole", []byte{1, 2, 3}, 5, 0, []string{"none holds a whole record"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size, err := DecideAttendanceSize(tt.body, tt.count)
			if tt.wantMsg != nil {
				if !errors.Is(err, ErrRecordSize) {
					t.Fatalf("err = %v, want ErrRecordSize", err)
				}
				for _, m := range tt.wantMsg {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("error %q does not name %q", err, m)
					}
				}
				return
			}
			if err != nil || size != tt.wantSize {
				t.Fatalf("size = %d, %v; want %d", size, err, tt.wantSize)
			}
		})
	}
}

// One bad record, or a partial one at the end, never makes a log
// unreadable: the size is decided from the others, every whole record is
// decoded in place, and Check names the bad ones.
func TestParseAttendanceLog_BadRecords(t *testing.T) {
	body := records40(t, 200)
	setPIN40(body, 17, "10\x1b[2J\x07")
	setTime40(body, 50, 0)
	setTime40(body, 51, 0x7FFFFFFF)
	setTime40(body, 52, 0xFFFFFFFF)
	setTime40(body, 53, 0x80000000)
	body[60*AttSize40+31] = 77 // no such state
	for i := 100; i < 110; i++ {
		copy(body[i*AttSize40:(i+1)*AttSize40], make([]byte, AttSize40)) // zeroed
	}
	body = append(body, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF) // a partial record of erased flash
	for _, count := range []int{0, 200, 201} {
		log, err := ParseAttendanceLog(withPrefix(body), count)
		if err != nil {
			t.Fatalf("count %d: %v", count, err)
		}
		if log.Size != AttSize40 || len(log.Records) != 200 || len(log.Trailing) != 7 {
			t.Fatalf("count %d: size %d, %d records, %d trailing bytes", count, log.Size, len(log.Records), len(log.Trailing))
		}
		bad := map[int]string{17: "PIN", 50: "time 0 ", 51: "erased flash", 52: "erased flash", 53: "erased flash", 60: "state 77"}
		for i := 100; i < 110; i++ {
			bad[i] = "no PIN"
		}
		for i := range log.Records {
			err := log.Check(i)
			want, isBad := bad[i]
			switch {
			case isBad && (!errors.Is(err, ErrImplausible) || !strings.Contains(err.Error(), want)):
				t.Errorf("record %d: %v, want an implausible %q", i, err, want)
			case !isBad && err != nil:
				t.Errorf("record %d: %v", i, err)
			}
		}
		if got := log.Records[17].UserID; got != "10\x1b[2J\x07" {
			t.Errorf("bad PIN decoded as %q: a bad record must keep its bytes for its id", got)
		}
		if string(log.Raw(199)) != string(body[199*AttSize40:200*AttSize40]) {
			t.Error("Raw is not the record's bytes")
		}
	}
}

func TestCheckTime(t *testing.T) {
	real := uint32(594063665) // 2018-06-25 17:41:05
	feb31, _ := EncodeTime(Time{2021, 2, 31, 0, 0, 0})
	for _, tt := range []struct {
		v  uint32
		ok bool
	}{{real, true}, {1, true}, {0, false}, {0x7FFFFFFF, false}, {0x80000000, false}, {0xFFFFFFFF, false}, {feb31, false}} {
		if err := CheckTime(tt.v); (err == nil) != tt.ok {
			t.Errorf("CheckTime(0x%08x) = %v, want ok %v", tt.v, err, tt.ok)
		}
	}
}

func TestDecodeAttendanceLog_KnownSize(t *testing.T) {
	body := append(records40(t, 3), 9, 9)
	log, err := DecodeAttendanceLog(body, AttSize40)
	if err != nil || len(log.Records) != 3 || string(log.Trailing) != "\x09\x09" {
		t.Fatalf("%d records, trailing % x, %v", len(log.Records), log.Trailing, err)
	}
	if _, err := DecodeAttendanceLog(body, 12); !errors.Is(err, ErrRecordSize) {
		t.Errorf("size 12: %v", err)
	}
	if log, err := DecodeAttendanceLog(nil, AttSize8); err != nil || len(log.Records) != 0 || log.Trailing != nil {
		t.Errorf("empty: %+v, %v", log, err)
	}
}

func TestParseAttendanceLog_Prefix(t *testing.T) {
	two40, _ := AppendAttendanceSet(nil, sampleAttendance(2), AttSize40)
	for _, tt := range []struct {
		name string
		set  []byte
	}{
		{"too long", append([]byte{81, 0, 0, 0}, two40[4:]...)},
		{"too short", append([]byte{40, 0, 0, 0}, two40[4:]...)},
		{"announcing erased flash", append([]byte{0xF0, 0xFF, 0xFF, 0xFF}, two40[4:]...)},
		{"no prefix", []byte{1, 2}},
	} {
		if _, err := ParseAttendanceLog(tt.set, 0); !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	if log, err := ParseAttendanceLog([]byte{0, 0, 0, 0}, 5); err != nil || log.Size != 0 || len(log.Records) != 0 {
		t.Errorf("empty log: %+v, %v", log, err)
	}
}
