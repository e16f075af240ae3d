package zk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
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
	// A frame announcing 4 GiB, and one over a client's limit.
	f.Add([]byte{0x50, 0x50, 0x82, 0x7d, 0xF0, 0xFF, 0xFF, 0xFF, 1, 2, 3})
	f.Add(AppendTCP(nil, Packet{Command: CmdRegEvent, Data: make([]byte, 200)}))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := TCPDecoder{Max: 128}
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
				if ok && p.Len() > d.Max {
					t.Fatal("oversized packet returned")
				}
				if d.Buffered() > len(b) {
					t.Fatal("decoder holds more than it was fed")
				}
			}
		}
	})
}

func FuzzSerialDecoder(f *testing.F) {
	seed(f)
	f.Add(AppendSerial(nil, 1, Packet{Command: CmdConnect}))
	f.Add(append([]byte{1, 1, 0x81, 0x7e, 0xFF, 0xFF, 0, 0}, AppendSerial(nil, 1, Packet{Command: CmdConnect})...))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := SerialDecoder{Max: 64}
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
			if p.Len() > d.Max {
				t.Fatal("oversized packet returned")
			}
		}
	})
}

// hostileLogs are attendance datasets a lying terminal sends: a partial
// record at the end, a PIN with control characters, sentinel times,
// erased flash, and a length prefix announcing erased flash.
func hostileLogs(f *testing.F) [][]byte {
	body := records40(f, 20)
	setPIN40(body, 3, "1\x1b[2J\x07")
	setTime40(body, 4, 0)
	setTime40(body, 5, 0x7FFFFFFF)
	setTime40(body, 6, 0xFFFFFFFF)
	erased := make([]byte, 4*AttSize40)
	for i := range erased {
		erased[i] = 0xFF
	}
	return [][]byte{
		withPrefix(append(records40(f, 5), 1, 2, 3)),
		withPrefix(body),
		withPrefix(erased),
		append([]byte{0xF0, 0xFF, 0xFF, 0xFF}, records40(f, 2)...),
	}
}

// seedCount is seed for fuzzers that also take a count.
func seedCount(f *testing.F) {
	for _, v := range allVectors(f) {
		f.Add(v, 0)
	}
}

func FuzzParseAttendanceLog(f *testing.F) {
	seedCount(f)
	for _, size := range []int{AttSize8, AttSize16, AttSize40} {
		set, _ := AppendAttendanceSet(nil, sampleAttendance(3), size)
		f.Add(set, 0)
		f.Add(set, 3)
	}
	for _, set := range hostileLogs(f) {
		f.Add(set, 0)
		f.Add(set, 20)
		f.Add(set, -1)
		f.Add(set, 0x7FFFFFFF)
	}
	f.Fuzz(func(t *testing.T, b []byte, count int) {
		for _, size := range []int{AttSize8, AttSize16, AttSize40} {
			if l, err := DecodeAttendanceLog(b, size); err != nil || len(l.Records)*size+len(l.Trailing) != len(b) {
				t.Fatalf("%d-byte records: %d records and %d trailing from %d bytes, %v", size, len(l.Records), len(l.Trailing), len(b), err)
			}
		}
		log, err := ParseAttendanceLog(b, count)
		if err != nil {
			return
		}
		if len(b) == 4 {
			if log.Size != 0 || len(log.Records) != 0 {
				t.Fatal("records from an empty set")
			}
			return
		}
		if len(log.Records)*log.Size+len(log.Trailing) != len(b)-4 || len(log.Trailing) >= log.Size {
			t.Fatalf("%d records of %d bytes and %d trailing from a %d-byte set", len(log.Records), log.Size, len(log.Trailing), len(b))
		}
		for i := range log.Records {
			if err := log.Check(i); err == nil && !RealDate(log.Records[i].Time) {
				t.Fatalf("record %d passes with time %v", i, log.Records[i].Time)
			}
		}
	})
}

func FuzzParseUserSet(f *testing.F) {
	seedCount(f)
	f.Add(vector(f, "tcp-users72")[TCPHeaderLen+HeaderLen:], 7)
	users := []User{{UID: 1, Name: "a\x1b\x07", UserID: "1\x1b"}, {UID: 2, Name: "b", UserID: "2"}}
	set, _ := AppendUserSet(nil, users, UserSize72)
	f.Add(set, 2)
	f.Add(append(set, 1, 2, 3), -5)
	f.Fuzz(func(t *testing.T, b []byte, count int) {
		us, err := ParseUserSet(b, count)
		if err != nil || len(b) == 4 {
			return
		}
		if (len(us.Users)+us.Skipped)*us.Size+us.Trailing != len(b)-4 {
			t.Fatalf("%d users and %d skipped of %d bytes, %d trailing, from a %d-byte set", len(us.Users), us.Skipped, us.Size, us.Trailing, len(b))
		}
		for _, u := range us.Users {
			if strings.ContainsFunc(u.Name+u.Password, func(r rune) bool { return !printable(r) }) {
				t.Fatalf("user %+v keeps a control character", u)
			}
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
