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
	if size, err := DecideAttendanceSize(rec, 0); err != nil || size != AttSize40 {
		t.Errorf("DecideAttendanceSize = %d, %v", size, err)
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
			log, err := ParseAttendanceLog(set, 0)
			if err != nil || log.Size != size || log.Trailing != nil {
				t.Fatalf("ParseAttendanceLog size = %d, %v", log.Size, err)
			}
			got := log.Records
			for i := range recs {
				if w := view(recs[i], size); got[i] != w {
					t.Fatalf("record %d = %+v, want %+v", i, got[i], w)
				}
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
