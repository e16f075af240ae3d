package zksim

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

var day1 = time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)

// chunkFor is the range size pyzk asks for on each transport.
func chunkFor(tcp bool) int {
	if tcp {
		return zk.TCPChunk
	}
	return zk.UDPChunk
}

// asForm is what a record looks like after a round trip through the
// given record size.
func asForm(a zk.Attendance, size int) zk.Attendance {
	switch size {
	case zk.AttSize16:
		a.UID = 0
	case zk.AttSize8:
		a.UserID, a.WorkCode = "", 0
	}
	return a
}

func checkRecords(t *testing.T, set []byte, size int, want []zk.Attendance) {
	t.Helper()
	if len(set) < 4 {
		t.Fatalf("dataset of %d bytes", len(set))
	}
	got, err := zk.DecodeAttendance(set[4:], size, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		if w := asForm(want[i], size); got[i] != w {
			t.Fatalf("record %d: got %+v, want %+v", i, got[i], w)
		}
	}
}

func TestBulkRead_Attendance(t *testing.T) {
	users := GenerateUsers(30)
	for _, size := range []int{zk.AttSize40, zk.AttSize16, zk.AttSize8} {
		for _, n := range []int{3, 5000} { // inline, chunked
			s := startSim(t, Config{RecordSize: size})
			s.SetUsers(users)
			recs := GenerateRecords(users, n, day1, int64(n))
			s.AddRecords(recs...)
			for _, tcp := range transports {
				t.Run(transport(tcp), func(t *testing.T) {
					c := dial(t, s.Addr(), tcp)
					c.connect(0)
					c.expect(zk.CmdDisableDevice, u32(60), zk.CmdAckOK)
					set := c.readDataset(zk.WRRQAttendance, chunkFor(tcp))
					c.expect(zk.CmdEnableDevice, nil, zk.CmdAckOK)
					checkRecords(t, set, size, recs)
					log, err := zk.ParseAttendanceLog(set, n)
					if err != nil || log.Size != size || len(log.Records) != n {
						t.Errorf("parse: %d records of %d bytes, %v", len(log.Records), log.Size, err)
					}
				})
			}
		}
	}
}

func TestBulkRead_Users(t *testing.T) {
	for _, size := range []int{zk.UserSize72, zk.UserSize28} {
		for _, n := range []int{3, 400} {
			s := startSim(t, Config{UserSize: size})
			users := GenerateUsers(n)
			users[1].Password, users[1].Group = "4321", 2
			s.SetUsers(users)
			for _, tcp := range transports {
				t.Run(transport(tcp), func(t *testing.T) {
					c := dial(t, s.Addr(), tcp)
					c.connect(0)
					set := c.readDataset(zk.WRRQUsers, chunkFor(tcp))
					if len(set) != 4+n*size {
						t.Fatalf("%d bytes, want %d", len(set), 4+n*size)
					}
					us, err := zk.ParseUserSet(set, n)
					if err != nil || us.Size != size || us.Skipped != 0 {
						t.Fatalf("parse: %+v, %v", us, err)
					}
					got := us.Users
					for i := range users {
						if w := fitUser(users[i], size); got[i] != w {
							t.Fatalf("user %d: got %+v, want %+v", i, got[i], w)
						}
					}
				})
			}
		}
	}
}

func TestBulkRead_Large(t *testing.T) {
	const n = 100000
	users := GenerateUsers(20)
	recs := GenerateRecords(users, n, day1, 7)
	s := startSim(t, Config{})
	s.SetUsers(users)
	s.AddRecords(recs...)
	for _, tcp := range transports {
		t.Run(transport(tcp), func(t *testing.T) {
			c := dial(t, s.Addr(), tcp)
			c.connect(0)
			start := time.Now()
			set := c.readDataset(zk.WRRQAttendance, chunkFor(tcp))
			t.Logf("%d records over %s in %v", n, transport(tcp), time.Since(start))
			checkRecords(t, set, zk.AttSize40, recs)
		})
	}
	t.Run("OneRange", func(t *testing.T) {
		c := dial(t, s.Addr(), true)
		c.connect(0)
		c.expect(zk.CmdDataWRRQ, zk.WRRQAttendance.Append(nil), zk.CmdAckOK)
		start := time.Now()
		set, err := c.readRange(0, 4+n*40)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d records over TCP in one range in %v", n, time.Since(start))
		checkRecords(t, set, zk.AttSize40, recs)
	})
}

func TestBulkRead_Snapshot(t *testing.T) {
	users := GenerateUsers(3)
	s := startSim(t, Config{})
	s.SetUsers(users)
	recs := GenerateRecords(users, 100, day1, 1)
	s.AddRecords(recs...)
	c := dial(t, s.Addr(), true)
	c.connect(0)
	p := c.expect(zk.CmdDataWRRQ, zk.WRRQAttendance.Append(nil), zk.CmdAckOK)
	st, _ := zk.ParseDataStat(p.Data)
	if _, ok := s.Punch("1002", 1, 1); !ok {
		t.Fatal("punch refused")
	}
	set, err := c.readRange(0, st.Size)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, set, zk.AttSize40, recs)
	if got := len(s.Records()); got != 101 {
		t.Errorf("%d records held", got)
	}
}

func TestBulkRead_Errors(t *testing.T) {
	users := GenerateUsers(3)
	s := startSim(t, Config{})
	s.SetUsers(users)
	s.AddRecords(GenerateRecords(users, 100, day1, 1)...)
	for _, tcp := range transports {
		t.Run(transport(tcp), func(t *testing.T) {
			c := dial(t, s.Addr(), tcp)
			c.connect(0)
			rdy := func(off, size uint32) []byte { return zk.ReadRange{Offset: off, Size: size}.Append(nil) }
			c.expect(zk.CmdDataRDY, rdy(0, 10), zk.CmdAckError) // no snapshot
			c.expect(zk.CmdDataWRRQ, zk.WRRQAttendance.Append(nil), zk.CmdAckOK)
			const size = 4 + 100*40
			c.expect(zk.CmdDataRDY, rdy(0, size+1), zk.CmdAckError)
			c.expect(zk.CmdDataRDY, rdy(size, 1), zk.CmdAckError)
			c.expect(zk.CmdDataRDY, rdy(0xFFFFFFFF, 2), zk.CmdAckError)
			c.expect(zk.CmdDataRDY, rdy(1, 0xFFFFFFFF), zk.CmdAckError)
			c.expect(zk.CmdDataRDY, []byte{0, 0, 0, 0}, zk.CmdAckError)
			p := c.expect(zk.CmdDataRDY, rdy(size-10, 10), zk.CmdData)
			if len(p.Data) != 10 {
				t.Errorf("tail: %d bytes", len(p.Data))
			}
			p = c.expect(zk.CmdDataRDY, rdy(size, 0), zk.CmdData)
			if len(p.Data) != 0 {
				t.Errorf("empty range: %d bytes", len(p.Data))
			}
			if _, err := c.readRange(0, size); err != nil {
				t.Errorf("whole range: %v", err)
			}
			c.expect(zk.CmdFreeData, nil, zk.CmdAckOK)
			c.expect(zk.CmdDataRDY, rdy(0, 10), zk.CmdAckError)
			c.expect(zk.CmdDataWRRQ, []byte{1, 13, 0}, zk.CmdAckError)
		})
	}
}

func TestBulkRead_OtherTables(t *testing.T) {
	s := startSim(t, Config{})
	s.SetUsers(GenerateUsers(3))
	c := dial(t, s.Addr(), true)
	c.connect(0)
	for _, req := range []zk.WRRQ{{Command: zk.CmdUserTempRRQ, Fct: zk.FctFingerTmp}, {Command: 88}} {
		p := c.expect(zk.CmdDataWRRQ, req.Append(nil), zk.CmdData)
		if !slices.Equal(p.Data, []byte{0, 0, 0, 0}) {
			t.Errorf("%+v: %x", req, p.Data)
		}
	}
	// An empty log is a dataset too.
	p := c.expect(zk.CmdDataWRRQ, zk.WRRQAttendance.Append(nil), zk.CmdData)
	if !slices.Equal(p.Data, []byte{0, 0, 0, 0}) {
		t.Errorf("empty log: %x", p.Data)
	}
}

func TestDirectRead(t *testing.T) {
	// Small enough that a UDP burst without pacing fits a default socket
	// buffer: a legacy read cannot be chunked.
	users := GenerateUsers(10)
	recs := GenerateRecords(users, 1000, day1, 3)
	s := startSim(t, Config{})
	s.SetUsers(users)
	s.AddRecords(recs...)
	for _, tcp := range transports {
		t.Run(transport(tcp), func(t *testing.T) {
			c := dial(t, s.Addr(), tcp)
			c.connect(0)
			set, err := c.collect(c.send(zk.CmdAttLogRRQ, nil))
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, set, zk.AttSize40, recs)
			set, err = c.collect(c.send(zk.CmdUserTempRRQ, []byte{zk.FctUser}))
			if err != nil || len(set) != 4+10*72 {
				t.Fatalf("users: %d bytes, %v", len(set), err)
			}
			_, err = c.collect(c.send(zk.CmdUserTempRRQ, []byte{1, 0, 0}))
			var re zk.ReplyError
			if !errors.As(err, &re) || re.Code != zk.CmdAckError {
				t.Errorf("template read: %v", err)
			}
		})
	}
}

func TestBulkRead_Pacing(t *testing.T) {
	users := GenerateUsers(3)
	recs := GenerateRecords(users, 2000, day1, 5)
	s := startSim(t, Config{Pacing: PacingFirmware})
	s.SetUsers(users)
	s.AddRecords(recs...)
	c := dial(t, s.Addr(), false)
	c.connect(0)
	set := c.readDataset(zk.WRRQAttendance, zk.UDPChunk)
	checkRecords(t, set, zk.AttSize40, recs)
	if got := s.Stats().DataPackets; got != (4+2000*40+1023)/1024 {
		t.Errorf("%d DATA packets", got)
	}
}

func TestBulkRead_UnencodableLeftOut(t *testing.T) {
	s := startSim(t, Config{RecordSize: zk.AttSize16})
	good := zk.Attendance{UserID: "1001", Time: wall(day1)}
	s.AddRecords(good, zk.Attendance{UserID: "A-7", Time: good.Time}, good)
	c := dial(t, s.Addr(), true)
	c.connect(0)
	set := c.readDataset(zk.WRRQAttendance, zk.TCPChunk)
	checkRecords(t, set, zk.AttSize16, []zk.Attendance{good, good})
	if len(s.Records()) != 3 {
		t.Errorf("the log lost a record")
	}
}
