package zk

import (
	"errors"
	"testing"
	"time"
)

func TestTimeGolden(t *testing.T) {
	tests := []struct {
		name   string
		packed uint32
		want   Time
	}{
		{"reference example", 594063665, Time{2018, 6, 25, 17, 41, 5}},
		{"40-byte record vector", 0x2368B36B, Time{2018, 6, 25, 17, 50, 35}},
		{"epoch", 0, Time{2000, 1, 1, 0, 0, 0}},
		// The float decode some documents show turns this into 2019.
		{"last second of a year", 12*31*86400*19 - 1, Time{2018, 12, 31, 23, 59, 59}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecodeTime(tt.packed); got != tt.want {
				t.Errorf("DecodeTime(%d) = %v, want %v", tt.packed, got, tt.want)
			}
			if got, err := EncodeTime(tt.want); err != nil || got != tt.packed {
				t.Errorf("EncodeTime(%v) = %d, %v; want %d", tt.want, got, err, tt.packed)
			}
		})
	}
}

func TestTimeRoundTrip(t *testing.T) {
	// Every day from 2000 to 2099 at a few times of day.
	for d := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2100; d = d.AddDate(0, 0, 1) {
		for _, clock := range []int{0, 12*3600 + 34*60 + 56, 86399} {
			c := d.Add(time.Duration(clock) * time.Second)
			in := Time{c.Year(), c.Month(), c.Day(), c.Hour(), c.Minute(), c.Second()}
			v, err := EncodeTime(in)
			if err != nil {
				t.Fatal(err)
			}
			if out := DecodeTime(v); out != in {
				t.Fatalf("%v → %d → %v", in, v, out)
			}
		}
	}
}

func TestEncodeTimeRange(t *testing.T) {
	for _, bad := range []Time{{1999, 12, 31, 23, 59, 59}, {2137, 1, 1, 0, 0, 0}, {2020, 13, 1, 0, 0, 0}, {2020, 1, 32, 0, 0, 0}, {2020, 1, 1, 24, 0, 0}} {
		if _, err := EncodeTime(bad); !errors.Is(err, ErrTimeRange) {
			t.Errorf("EncodeTime(%v) err = %v", bad, err)
		}
	}
}

func TestTimeHex(t *testing.T) {
	b := []byte{0x12, 0x06, 0x19, 0x11, 0x29, 0x05}
	got, err := DecodeTimeHex(b)
	if err != nil || got != (Time{2018, 6, 25, 17, 41, 5}) {
		t.Fatalf("DecodeTimeHex = %v, %v", got, err)
	}
	if string(AppendTimeHex(nil, got)) != string(b) {
		t.Error("AppendTimeHex differs")
	}
	if _, err := DecodeTimeHex(b[:5]); !errors.Is(err, ErrBadLength) {
		t.Errorf("short: %v", err)
	}
	if _, err := DecodeTimeHex([]byte{18, 13, 1, 0, 0, 0}); !errors.Is(err, ErrTimeRange) {
		t.Errorf("month 13: %v", err)
	}
}

func TestSizesGolden(t *testing.T) {
	raw := vector(t, "tcp-free-sizes")
	data := raw[TCPHeaderLen+HeaderLen:] // the capture is cut short, so no whole packet
	s, err := ParseSizes(data)
	if err != nil {
		t.Fatal(err)
	}
	want := Sizes{Users: 7, Fingers: 6, Records: 605, OpLogs: 3087, Admins: 1, FingerCap: 3000, UserCap: 10000, RecordCap: 100000,
		FingerFree: 2994, UserFree: 9993, RecordFree: 99395}
	if s != want {
		t.Errorf("sizes = %+v\nwant    %+v", s, want)
	}
	if got := s.Append(nil); len(got) != SizesLen || string(got[:80]) != string(data[:80]) {
		t.Errorf("Append = % x\nwant     % x", got, data)
	}
	if s2, err := ParseSizes(s.Append(nil)); err != nil || !s2.HasFaces || s2.Records != 605 {
		t.Errorf("92-byte round trip = %+v, %v", s2, err)
	}
	// WL20-style single zero u32: counts are unknown, not zero.
	if _, err := ParseSizes([]byte{0, 0, 0, 0}); !errors.Is(err, ErrBadLength) {
		t.Errorf("4-byte reply: %v", err)
	}
	// A longer variant (112 bytes) still decodes.
	long := append(s.Append(nil), make([]byte, 20)...)
	if s2, err := ParseSizes(long); err != nil || s2.Records != 605 {
		t.Errorf("112-byte reply: %+v, %v", s2, err)
	}
}

func TestDatasetMessages(t *testing.T) {
	st, err := ParseDataStat(tcpPacket(t, "tcp-data-stat").Data)
	if err != nil || st.Size != 5044 || st.Hash != 0x0023efcd {
		t.Errorf("data stat = %+v, %v", st, err)
	}
	if got := st.Append(nil); string(got) != string(tcpPacket(t, "tcp-data-stat").Data) {
		t.Errorf("DataStat.Append = % x", got)
	}
	pd, err := ParsePrepareData(tcpPacket(t, "tcp-prepare-data").Data)
	if err != nil || pd.Size != 5044 || pd.PacketSize != 1008 {
		t.Errorf("prepare data = %+v, %v", pd, err)
	}
	// The request bytes every client sends for attendance and users.
	if got := WRRQAttendance.Append(nil); string(got) != "\x01\x0d\x00\x00\x00\x00\x00\x00\x00\x00\x00" {
		t.Errorf("attendance request = % x", got)
	}
	if got := WRRQUsers.Append(nil); string(got) != "\x01\x09\x00\x05\x00\x00\x00\x00\x00\x00\x00" {
		t.Errorf("user request = % x", got)
	}
	if r, err := ParseWRRQ(WRRQUsers.Append(nil)); err != nil || r != WRRQUsers {
		t.Errorf("ParseWRRQ = %+v, %v", r, err)
	}
	if rr, err := ParseReadRange(ReadRange{Offset: 65472, Size: 100}.Append(nil)); err != nil || rr.Offset != 65472 || rr.Size != 100 {
		t.Errorf("ParseReadRange = %+v, %v", rr, err)
	}
	n, v, err := ParseOption([]byte("~SerialNumber=CQUJ203160123\x00\x00junk"))
	if err != nil || n != "~SerialNumber" || v != "CQUJ203160123" {
		t.Errorf("ParseOption = %q %q %v", n, v, err)
	}
	if _, _, err := ParseOption([]byte("garbage\x00")); err == nil {
		t.Error("option without '=' accepted")
	}
}
