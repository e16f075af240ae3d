package zksim

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/protocol/zk"
)

var transports = []bool{true, false} // TCP, UDP

func TestListen_SamePort(t *testing.T) {
	s := startSim(t, Config{})
	host, _, err := net.SplitHostPort(s.Addr())
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("addr %q", s.Addr())
	}
	for _, tcp := range transports {
		c := dial(t, s.Addr(), tcp)
		c.connect(0)
	}
	if got := s.Stats().Connections; got != 1 {
		t.Errorf("connections %d, want 1", got)
	}
}

func TestConnect_NoKey(t *testing.T) {
	s := startSim(t, Config{})
	for _, tcp := range transports {
		t.Run(transport(tcp), func(t *testing.T) {
			c := dial(t, s.Addr(), tcp)
			c.reply = 41
			p := c.call(zk.CmdConnect, nil)
			if p.Command != zk.CmdAckOK || p.Session == 0 || p.Reply != 42 {
				t.Fatalf("connect: %s session %d reply %d", p.Command, p.Session, p.Reply)
			}
			c.session = p.Session
			c.expect(zk.CmdGetTime, nil, zk.CmdAckOK)
			c.expect(zk.CmdExit, nil, zk.CmdAckOK)
		})
	}
}

func TestConnect_CommKey(t *testing.T) {
	const key = 123456
	s := startSim(t, Config{CommKey: key})
	for _, tcp := range transports {
		t.Run(transport(tcp)+"/Right", func(t *testing.T) {
			c := dial(t, s.Addr(), tcp)
			p := c.call(zk.CmdConnect, nil)
			if p.Command != zk.CmdAckUnauth || p.Session == 0 {
				t.Fatalf("connect: %s session %d", p.Command, p.Session)
			}
			c.session = p.Session
			c.expect(zk.CmdGetTime, nil, zk.CmdAckUnauth)
			k := zk.MakeCommKey(key, c.session, 7)
			c.expect(zk.CmdAuth, k[:], zk.CmdAckOK)
			c.expect(zk.CmdGetTime, nil, zk.CmdAckOK)
		})
		t.Run(transport(tcp)+"/Wrong", func(t *testing.T) {
			c := dial(t, s.Addr(), tcp)
			c.session = c.call(zk.CmdConnect, nil).Session
			k := zk.MakeCommKey(key+1<<8, c.session, 50)
			c.expect(zk.CmdAuth, k[:], zk.CmdAckUnauth)
			c.expect(zk.CmdGetTime, nil, zk.CmdAckUnauth)
			c.expect(zk.CmdDataWRRQ, zk.WRRQAttendance.Append(nil), zk.CmdAckUnauth)
			c.expect(zk.CmdAuth, []byte{1, 2}, zk.CmdAckUnauth)
			c.expect(zk.CmdExit, nil, zk.CmdAckOK)
		})
	}
}

func TestUnknownSession(t *testing.T) {
	s := startSim(t, Config{})
	for _, tcp := range transports {
		t.Run(transport(tcp), func(t *testing.T) {
			c := dial(t, s.Addr(), tcp)
			c.session = 4321
			c.expect(zk.CmdGetTime, nil, zk.CmdAckUnauth)
			c.connect(0)
			c.session++
			c.expect(zk.CmdGetTime, nil, zk.CmdAckUnauth)
		})
	}
}

func TestOptions(t *testing.T) {
	s := startSim(t, Config{Serial: "SN42", Platform: "ZEM560", DeviceName: "door", Firmware: "Ver 6.21"})
	c := dial(t, s.Addr(), true)
	c.connect(0)
	tests := []struct{ name, want string }{
		{"~SerialNumber", "SN42"},
		{"~Platform", "ZEM560"},
		{"~DeviceName", "door"},
		{"~OEMVendor", "ZKTeco Inc."},
		{"~ZKFPVersion", "10"},
		{"ZKFaceVersion", "0"},
		{"~ExtendFmt", "1"},
		{"~UserExtFmt", "1"},
		{"FaceFunOn", "0"},
		{"~PIN2Width", "9"},
		{"WorkCode", "0"},
		{"IPAddress", "127.0.0.1"},
		{"~ProductTime", "2015-04-28 10:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer c.use(t)()
			p := c.expect(zk.CmdOptionsRRQ, zk.AppendOptionRequest(nil, tt.name), zk.CmdAckOK)
			name, v, err := zk.ParseOption(p.Data)
			if err != nil || name != tt.name || v != tt.want || p.Data[len(p.Data)-1] != 0 {
				t.Errorf("got %q (%q=%q, %v), want %q", p.Data, name, v, err, tt.want)
			}
		})
	}
	t.Run("MAC", func(t *testing.T) {
		defer c.use(t)()
		p := c.expect(zk.CmdOptionsRRQ, zk.AppendOptionRequest(nil, "MAC"), zk.CmdAckOK)
		if _, v, _ := zk.ParseOption(p.Data); len(v) != 17 {
			t.Errorf("MAC %q", v)
		}
	})
	t.Run("Unknown", func(t *testing.T) {
		defer c.use(t)()
		c.expect(zk.CmdOptionsRRQ, zk.AppendOptionRequest(nil, "NoSuchOption"), zk.CmdAckError)
		c.expect(zk.CmdOptionsRRQ, nil, zk.CmdAckError)
	})
	t.Run("Write", func(t *testing.T) {
		defer c.use(t)()
		c.expect(zk.CmdOptionsWRQ, []byte("SDKBuild=1"), zk.CmdAckOK) // pyzk sends no NUL
		c.expect(zk.CmdOptionsWRQ, zk.AppendOption(nil, "~DeviceName", "gate"), zk.CmdAckOK)
		c.expect(zk.CmdRefreshOption, nil, zk.CmdAckOK)
		for name, want := range map[string]string{"SDKBuild": "1", "~DeviceName": "gate"} {
			p := c.expect(zk.CmdOptionsRRQ, zk.AppendOptionRequest(nil, name), zk.CmdAckOK)
			if _, v, _ := zk.ParseOption(p.Data); v != want {
				t.Errorf("%s=%q, want %q", name, v, want)
			}
		}
		c.expect(zk.CmdOptionsWRQ, []byte("novalue\x00"), zk.CmdAckError)
		c.expect(zk.CmdOptionsWRQ, []byte("=1\x00"), zk.CmdAckError)
	})
	t.Run("Version", func(t *testing.T) {
		defer c.use(t)()
		p := c.expect(zk.CmdGetVersion, nil, zk.CmdAckOK)
		if string(p.Data) != "Ver 6.21\x00" {
			t.Errorf("version %q", p.Data)
		}
		p = c.expect(zk.CmdGetVersion, []byte{0}, zk.CmdAckOK)
		if string(p.Data) != "ZEM560\x00" {
			t.Errorf("platform %q", p.Data)
		}
	})
	t.Run("Formats", func(t *testing.T) {
		s := startSim(t, Config{RecordSize: zk.AttSize16, UserSize: zk.UserSize28})
		s.SetUsers([]zk.User{{UID: 1, UserID: "1234567890"}})
		c := dial(t, s.Addr(), false)
		c.connect(0)
		for name, want := range map[string]string{"~ExtendFmt": "0", "~UserExtFmt": "0", "~PIN2Width": "24"} {
			p := c.expect(zk.CmdOptionsRRQ, zk.AppendOptionRequest(nil, name), zk.CmdAckOK)
			if _, v, _ := zk.ParseOption(p.Data); v != want {
				t.Errorf("%s=%q, want %q", name, v, want)
			}
		}
	})
	t.Run("Misc", func(t *testing.T) {
		defer c.use(t)()
		c.expect(zk.CmdRefreshData, nil, zk.CmdAckOK)
		p := c.expect(zk.CmdStateRRQ, nil, zk.CmdAckOK)
		if p.Session != c.session || len(p.Data) != 0 {
			t.Errorf("state: session %d data %x", p.Session, p.Data)
		}
		c.expect(zk.Command(9999), nil, zk.CmdAckUnknown)
	})
}

func TestFreeSizes(t *testing.T) {
	s := startSim(t, Config{RecordCap: 5000, UserCap: 300})
	users := GenerateUsers(20)
	users[4].Password = "123"
	users[5].Privilege = 6
	s.SetUsers(users)
	s.AddRecords(GenerateRecords(users, 1234, time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC), 1)...)
	c := dial(t, s.Addr(), true)
	c.connect(0)
	p := c.expect(zk.CmdGetFreeSizes, nil, zk.CmdAckOK)
	if len(p.Data) != zk.SizesLen {
		t.Fatalf("%d bytes", len(p.Data))
	}
	got, err := zk.ParseSizes(p.Data)
	if err != nil {
		t.Fatal(err)
	}
	want := zk.Sizes{
		Users: 20, Records: 1234, Admins: 2, Passwords: 1,
		FingerCap: 3000, UserCap: 300, RecordCap: 5000,
		FingerFree: 3000, UserFree: 280, RecordFree: 5000 - 1234, HasFaces: true,
	}
	if got != want {
		t.Errorf("sizes\n got %+v\nwant %+v", got, want)
	}
	p = c.expect(zk.CmdGetFreeSizes, []byte{8}, zk.CmdAckOK)
	if len(p.Data) != 4 || binary.LittleEndian.Uint32(p.Data) != 1234 {
		t.Errorf("single field: %x", p.Data)
	}
}

func TestTime(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Skip(err)
	}
	now := time.Date(2024, 3, 9, 10, 0, 0, 0, time.UTC)
	s := startSim(t, Config{Location: loc, ClockOffset: time.Hour, Now: func() time.Time { return now }})
	if got := s.Clock(); !got.Equal(now.Add(time.Hour)) || got.Location() != loc {
		t.Fatalf("clock %v", got)
	}
	for _, tcp := range transports {
		t.Run(transport(tcp), func(t *testing.T) {
			c := dial(t, s.Addr(), tcp)
			c.connect(0)
			p := c.expect(zk.CmdGetTime, nil, zk.CmdAckOK)
			if got := zk.DecodeTime(binary.LittleEndian.Uint32(p.Data)); got != wall(s.Clock()) {
				t.Errorf("get time %v, clock %v", got, s.Clock())
			}
			set := zk.Time{Year: 2031, Month: 12, Day: 31, Hour: 23, Minute: 59, Second: 58}
			v, _ := zk.EncodeTime(set)
			c.expect(zk.CmdSetTime, u32(v), zk.CmdAckOK)
			if got := wall(s.Clock()); got != set {
				t.Errorf("clock %v after set %v", got, set)
			}
			p = c.expect(zk.CmdGetTime, nil, zk.CmdAckOK)
			if got := zk.DecodeTime(binary.LittleEndian.Uint32(p.Data)); got != set {
				t.Errorf("get time %v after set %v", got, set)
			}
			c.expect(zk.CmdSetTime, []byte{1, 2}, zk.CmdAckError)
		})
	}
}

func TestRun_CancelLeavesNoGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	s := New(Config{Pacing: PacingFirmware})
	users := GenerateUsers(5)
	s.SetUsers(users)
	s.AddRecords(GenerateRecords(users, 20000, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), 2)...)
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	// A TCP client in the middle of a slow transfer, a subscribed UDP
	// client with a pending event, and an idle connection.
	slow := dial(t, s.Addr(), true)
	slow.connect(0)
	slow.expect(zk.CmdDataWRRQ, zk.WRRQAttendance.Append(nil), zk.CmdAckOK)
	slow.send(zk.CmdDataRDY, zk.ReadRange{Size: 20000 * 40}.Append(nil))
	if p := slow.recv(); p.Command != zk.CmdPrepareData {
		t.Fatalf("got %s", p.Command)
	}
	ev := dial(t, s.Addr(), false)
	ev.connect(0)
	ev.expect(zk.CmdRegEvent, u32(1), zk.CmdAckOK)
	s.Punch("1001", 0, 1)
	dial(t, s.Addr(), true)

	cancel()
	if err := eventually.Recv(t, "run returns", done); err != nil {
		t.Fatalf("run: %v", err)
	}
	if st := s.Stats(); st.Sessions != 0 {
		t.Errorf("%d sessions open after run", st.Sessions)
	}
	eventually.OK(t, func() string {
		if n := runtime.NumGoroutine(); n > base {
			buf := make([]byte, 1<<20)
			return fmt.Sprintf("%d goroutines, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
		return ""
	})
}

func TestRun_BeforeListen(t *testing.T) {
	if err := New(Config{}).Run(context.Background()); err != ErrNotListening {
		t.Errorf("got %v", err)
	}
}
