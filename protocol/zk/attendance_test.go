package zk

import (
	"errors"
	"reflect"
	"testing"
)

func TestAttendance40Golden(t *testing.T) {
	rec := vector(t, "att40-record")
	got, err := DecodeAttendance(rec, AttSize40, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Attendance{UID: 13, UserID: "999111333", Verify: 1, State: 0, Time: Time{2018, 6, 25, 17, 50, 35}}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("decoded %+v, want %+v", got, want)
	}
	enc, err := AppendAttendance(nil, want, AttSize40)
	if err != nil || string(enc) != string(rec) {
		t.Errorf("AppendAttendance = % x, %v\nwant % x", enc, err, rec)
	}
	if size, err := InferAttendanceSize(rec, 0); err != nil || size != AttSize40 {
		t.Errorf("InferAttendanceSize = %d, %v", size, err)
	}
}

func sampleAttendance(n int) []Attendance {
	out := make([]Attendance, n)
	for i := range out {
		out[i] = Attendance{
			UID:    uint16(i%200 + 1),
			UserID: itoa(i%200 + 1000),
			Verify: uint8(i % 3), State: uint8(i % 6),
			Time:     DecodeTime(594063665 + uint32(i)*37),
			WorkCode: uint32(i % 5),
		}
	}
	return out
}

func itoa(i int) string { return string(appendInt(nil, i)) }

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

// view keeps the fields a record size carries.
func view(a Attendance, size int) Attendance {
	switch size {
	case AttSize8:
		a.UserID, a.WorkCode = "", 0
	case AttSize16:
		a.UID = 0
	}
	return a
}

func TestAttendanceRoundTrip(t *testing.T) {
	recs := sampleAttendance(1000)
	for _, size := range []int{AttSize8, AttSize16, AttSize40} {
		t.Run(itoa(size)+" bytes", func(t *testing.T) {
			set, err := AppendAttendanceSet(nil, recs, size)
			if err != nil {
				t.Fatal(err)
			}
			// No count hint: the size must come from the data alone.
			got, gotSize, err := ParseAttendanceSet(set, 0)
			if err != nil || gotSize != size {
				t.Fatalf("ParseAttendanceSet size = %d, %v", gotSize, err)
			}
			for i := range recs {
				if w := view(recs[i], size); got[i] != w {
					t.Fatalf("record %d = %+v, want %+v", i, got[i], w)
				}
			}
		})
	}
}

func TestInferAttendanceSize(t *testing.T) {
	two40, _ := AppendAttendanceSet(nil, sampleAttendance(2), AttSize40)  // 80 bytes: also 5×16 or 10×8
	five16, _ := AppendAttendanceSet(nil, sampleAttendance(5), AttSize16) // 80 bytes
	ten8, _ := AppendAttendanceSet(nil, sampleAttendance(10), AttSize8)   // 80 bytes
	four8, _ := AppendAttendanceSet(nil, sampleAttendance(4), AttSize8)   // 32 bytes: also 2×16
	junk := append([]byte{80, 0, 0, 0}, make([]byte, 80)...)              // zeros: times of 2000-01-01, state 0
	junk2 := append([]byte{40, 0, 0, 0}, []byte("this is not an attendance record at all!")...)
	tests := []struct {
		name     string
		set      []byte
		hint     int
		wantSize int
		wantErr  error
	}{
		{"80 bytes of 40-byte records", two40, 0, AttSize40, nil},
		{"80 bytes of 16-byte records", five16, 0, AttSize16, nil},
		{"80 bytes of 8-byte records", ten8, 0, AttSize8, nil},
		{"32 bytes of 8-byte records", four8, 0, AttSize8, nil},
		{"hint picks among plausible forms", junk, 10, AttSize8, nil},
		{"a lying hint does not override the content", two40, 7, AttSize40, nil},
		{"text is no record", junk2, 0, 0, ErrRecordSize},
		{"length prefix too long", append([]byte{81, 0, 0, 0}, two40[4:]...), 0, 0, ErrTruncated},
		{"length prefix too short", append([]byte{40, 0, 0, 0}, two40[4:]...), 0, 0, ErrTruncated},
		{"no prefix", []byte{1, 2}, 0, 0, ErrTruncated},
		{"41 bytes", append([]byte{41, 0, 0, 0}, make([]byte, 41)...), 0, 0, ErrRecordSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, size, err := ParseAttendanceSet(tt.set, tt.hint)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if size != tt.wantSize {
				t.Errorf("size = %d, want %d", size, tt.wantSize)
			}
		})
	}
}

func TestAppendAttendanceErrors(t *testing.T) {
	a := Attendance{UserID: "A12", Time: Time{2020, 1, 1, 0, 0, 0}}
	if _, err := AppendAttendance(nil, a, AttSize16); err == nil {
		t.Error("non-numeric PIN in a 16-byte record accepted")
	}
	a.UserID = "0123456789012345678901234"
	if _, err := AppendAttendance(nil, a, AttSize40); err == nil {
		t.Error("25-byte PIN accepted")
	}
	a.UserID, a.Time = "1", Time{1999, 1, 1, 0, 0, 0}
	if _, err := AppendAttendance(nil, a, AttSize40); !errors.Is(err, ErrTimeRange) {
		t.Error("time before 2000 accepted")
	}
	if _, err := AppendAttendance(nil, a, 12); err == nil {
		t.Error("record size 12 accepted")
	}
}

func TestDecodeAttendanceAppends(t *testing.T) {
	set, _ := AppendAttendanceSet(nil, sampleAttendance(3), AttSize40)
	prev := []Attendance{{UserID: "x"}}
	got, err := DecodeAttendance(set[4:], AttSize40, prev)
	if err != nil || len(got) != 4 || got[0].UserID != "x" || !reflect.DeepEqual(got[1:], sampleAttendance(3)) {
		t.Fatalf("got %d records, %v", len(got), err)
	}
}
