package zk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// Every decoder of outside bytes has a fuzz test here, seeded from the
// golden vectors in testdata/vectors. Each checks that the decoder never
// panics and that what it accepts is consistent.

func seed(f *testing.F) {
	for _, v := range allVectors(f) {
		f.Add(v)
	}
}

func FuzzParsePacket(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePacket(b)
		if err != nil {
			return
		}
		if got := p.Append(nil); !bytes.Equal(got, b) {
			t.Fatalf("accepted packet does not re-encode to its bytes")
		}
	})
}

func FuzzTCPDecoder(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var d TCPDecoder
		half := len(b) / 2
		for _, piece := range [][]byte{b[:half], b[half:]} {
			d.Feed(piece)
			for i := 0; ; i++ {
				if i > len(b) {
					t.Fatal("Next does not make progress")
				}
				p, ok, err := d.Next()
				if errors.Is(err, ErrBadMagic) || errors.Is(err, ErrFrameTooLarge) {
					return // the stream is broken for good
				}
				if err == nil && !ok {
					break
				}
				if ok && p.Len() > MaxTCPFrame {
					t.Fatal("oversized packet returned")
				}
			}
		}
	})
}

func FuzzSerialDecoder(f *testing.F) {
	seed(f)
	f.Add(AppendSerial(nil, 1, Packet{Command: CmdConnect}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d SerialDecoder
		d.Feed(b)
		for i := 0; ; i++ {
			if i > len(b)+1 {
				t.Fatal("Next does not make progress")
			}
			p, id, ok, err := d.Next()
			if err != nil {
				continue
			}
			if !ok {
				return
			}
			if got := AppendSerial(nil, id, p); !bytes.Contains(b, got) {
				t.Fatal("accepted frame is not in the input")
			}
		}
	})
}

func FuzzParseAttendanceSet(f *testing.F) {
	seed(f)
	for _, size := range []int{AttSize8, AttSize16, AttSize40} {
		set, _ := AppendAttendanceSet(nil, sampleAttendance(3), size)
		f.Add(set)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, size, err := ParseAttendanceSet(b, 0)
		if err != nil {
			return
		}
		if len(recs)*size != len(b)-4 {
			t.Fatalf("%d records of %d bytes from a %d-byte set", len(recs), size, len(b))
		}
	})
}

func FuzzParseUserSet(f *testing.F) {
	seed(f)
	f.Add(vector(f, "tcp-users72")[TCPHeaderLen+HeaderLen:])
	f.Fuzz(func(t *testing.T, b []byte) {
		users, size, err := ParseUserSet(b, 0)
		if err != nil {
			return
		}
		if len(users)*size != len(b)-4 {
			t.Fatalf("%d users of %d bytes from a %d-byte set", len(users), size, len(b))
		}
	})
}

func FuzzParseAttLogEvent(f *testing.F) {
	seed(f)
	f.Add(vector(f, "tcp-event-attlog32")[TCPHeaderLen+HeaderLen:])
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseAttLogEvent(b)
		if err != nil {
			return
		}
		if !RealDate(e.Time) {
			t.Fatalf("accepted event with time %v", e.Time)
		}
		form := len(b)
		if form > AttLogForm52 {
			form = AttLogForm52
		}
		again, err := AppendAttLogEvent(nil, e, form)
		if err != nil {
			t.Fatalf("accepted event does not re-encode: %v", err)
		}
		if e2, err := ParseAttLogEvent(again); err != nil || e2 != e {
			t.Fatalf("re-encoded event decodes to %+v, %v; want %+v", e2, err, e)
		}
	})
}

func FuzzParseAlarmEvent(f *testing.F) {
	f.Add([]byte{0x37, 0, 0, 0})
	f.Add(AppendAlarmEvent(nil, AlarmEvent{Type: AlarmDuress, UserSN: 3}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParseAlarmEvent(b); err == nil && len(b) != 4 && len(b) != 8 && len(b) != 12 {
			t.Fatalf("accepted a %d-byte alarm", len(b))
		}
	})
}

func FuzzParseSizes(f *testing.F) {
	f.Add(Sizes{Users: 7, Records: 605}.Append(nil))
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSizes(b)
		if err == nil && len(b) < sizesMin {
			t.Fatal("short reply accepted")
		}
		_ = s
	})
}

func FuzzDatasetMessages(f *testing.F) {
	seed(f)
	f.Add(WRRQAttendance.Append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := ParseWRRQ(b); err == nil && !bytes.Equal(r.Append(nil), b[:WRRQLen]) {
			t.Fatal("WRRQ does not re-encode")
		}
		if s, err := ParseDataStat(b); err == nil && s.Size != binary.LittleEndian.Uint32(b[1:]) {
			t.Fatal("data stat size")
		}
		if r, err := ParseReadRange(b); err == nil && !bytes.Equal(r.Append(nil), b[:ReadRangeLen]) {
			t.Fatal("read range does not re-encode")
		}
		_, _ = ParsePrepareData(b)
		if n, v, err := ParseOption(b); err == nil && !bytes.HasPrefix(b, []byte(n+"="+v)) {
			t.Fatal("option is not a prefix of the input")
		}
		_, _ = DecodeTimeHex(b)
	})
}

func FuzzTime(f *testing.F) {
	f.Add(uint32(594063665))
	f.Add(uint32(0xFFFFFFFF))
	f.Fuzz(func(t *testing.T, v uint32) {
		tm := DecodeTime(v)
		got, err := EncodeTime(tm)
		if err != nil || got != v {
			t.Fatalf("%d → %v → %d, %v", v, tm, got, err)
		}
	})
}
