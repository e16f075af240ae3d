package zksim

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/protocol/zk"
)

func TestDisable(t *testing.T) {
	t.Run("AutoEnableAfterSilence", func(t *testing.T) {
		s := startSim(t, Config{})
		s.SetUsers(GenerateUsers(2))
		c := dial(t, s.Addr(), true)
		c.connect(0)
		c.expect(zk.CmdDisableDevice, u32(1), zk.CmdAckOK)
		if !s.Disabled() {
			t.Fatal("not disabled")
		}
		if _, ok := s.Punch("1001", 0, 1); ok {
			t.Error("punch accepted while disabled")
		}
		if st := s.Stats(); st.Disables != 1 || st.LastDisableTimeout != 1 {
			t.Errorf("stats %+v", st)
		}
		eventually.True(t, "auto-enable", func() bool { return !s.Disabled() })
		if st := s.Stats(); st.AutoEnables != 1 {
			t.Errorf("auto-enables %d", st.AutoEnables)
		}
		if _, ok := s.Punch("1001", 0, 1); !ok {
			t.Error("punch refused after auto-enable")
		}
	})
	t.Run("TimeoutOutlivesSession", func(t *testing.T) {
		for _, tcp := range transports {
			s := startSim(t, Config{})
			c := dial(t, s.Addr(), tcp)
			c.connect(0)
			c.expect(zk.CmdDisableDevice, u32(1), zk.CmdAckOK)
			c.expect(zk.CmdExit, nil, zk.CmdAckOK)
			eventually.True(t, "session end", func() bool { return s.Stats().Sessions == 0 })
			eventually.True(t, "auto-enable", func() bool { return !s.Disabled() })
		}
	})
	t.Run("NoTimeoutStaysDisabled", func(t *testing.T) {
		for _, tcp := range transports {
			s := startSim(t, Config{})
			c := dial(t, s.Addr(), tcp)
			c.connect(0)
			c.expect(zk.CmdDisableDevice, nil, zk.CmdAckOK)
			c.expect(zk.CmdExit, nil, zk.CmdAckOK)
			eventually.True(t, "session end", func() bool { return s.Stats().Sessions == 0 })
			if !s.Disabled() {
				t.Error("a session that ended re-enabled the device")
			}
			s.mu.Lock()
			timers := len(s.timers)
			s.mu.Unlock()
			if timers != 0 {
				t.Errorf("%d disable time-outs run: one would re-enable the device", timers)
			}
			if st := s.Stats(); st.LastDisableTimeout != 0 {
				t.Errorf("last timeout %d", st.LastDisableTimeout)
			}
		}
	})
	t.Run("Enable", func(t *testing.T) {
		s := startSim(t, Config{})
		c := dial(t, s.Addr(), false)
		c.connect(0)
		c.expect(zk.CmdDisableDevice, u32(600), zk.CmdAckOK)
		c.expect(zk.CmdEnableDevice, nil, zk.CmdAckOK)
		if s.Disabled() {
			t.Error("still disabled")
		}
		if st := s.Stats(); st.Enables != 1 || st.Disables != 1 || st.LastDisableTimeout != 600 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("Restart", func(t *testing.T) {
		s := startSim(t, Config{})
		c := dial(t, s.Addr(), true)
		c.connect(0)
		c.expect(zk.CmdDisableDevice, nil, zk.CmdAckOK)
		c.expect(zk.CmdRestart, nil, zk.CmdAckOK)
		if _, err := c.recvWithin(hungAfter); err == nil {
			t.Error("connection still open after restart")
		}
		if s.Disabled() {
			t.Error("disabled after restart")
		}
	})
}

func TestIdleUDPSession(t *testing.T) {
	s := startSim(t, Config{SessionIdle: 100 * time.Millisecond})
	c := dial(t, s.Addr(), false)
	c.connect(0)
	eventually.True(t, "idle session dropped", func() bool { return s.Stats().Sessions == 0 })
	c.expect(zk.CmdGetTime, nil, zk.CmdAckUnauth)
}

func TestUserWrite(t *testing.T) {
	s := startSim(t, Config{UserCap: 3})
	s.SetUsers(GenerateUsers(2))
	c := dial(t, s.Addr(), true)
	c.connect(0)
	user := func(u zk.User, size int) []byte {
		b, err := zk.AppendUser(nil, u, size)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	changed := zk.User{UID: 2, UserID: "1002", Name: "Renamed", Privilege: 6, Password: "99", Card: 77}
	c.expect(zk.CmdUserWRQ, user(changed, zk.UserSize72), zk.CmdAckOK)
	added := zk.User{UID: 9, UserID: "4242", Name: "Short", Group: 1}
	c.expect(zk.CmdUserWRQ, user(added, zk.UserSize28), zk.CmdAckOK)
	c.expect(zk.CmdRefreshData, nil, zk.CmdAckOK)
	want := []zk.User{GenerateUsers(1)[0], changed, added}
	if got := s.Users(); !slices.Equal(got, want) {
		t.Fatalf("users\n got %+v\nwant %+v", got, want)
	}
	refused := []struct {
		name string
		data []byte
	}{
		{"PINOfAnotherUser", user(zk.User{UID: 5, UserID: "1001"}, zk.UserSize72)},
		{"PINZero", user(zk.User{UID: 5, UserID: "0"}, zk.UserSize72)},
		{"OverCapacity", user(zk.User{UID: 5, UserID: "5"}, zk.UserSize72)},
		{"BadLength", []byte{1, 2, 3}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			defer c.use(t)()
			c.expect(zk.CmdUserWRQ, tt.data, zk.CmdAckError)
		})
	}
	// pyzk's 72-byte layout keeps the group as text after byte 39.
	pyzk := user(zk.User{UID: 2, UserID: "1002", Name: "Via pyzk"}, zk.UserSize72)
	copy(pyzk[40:], "3")
	c.expect(zk.CmdUserWRQ, pyzk, zk.CmdAckOK)
	if u := s.Users()[1]; u.Name != "Via pyzk" || u.Group != 3 {
		t.Errorf("pyzk user %+v", u)
	}
	c.expect(zk.CmdDeleteUser, []byte{9, 0}, zk.CmdAckOK)
	c.expect(zk.CmdDeleteUser, []byte{9, 0}, zk.CmdAckError)
	c.expect(zk.CmdDeleteUser, []byte{9}, zk.CmdAckError)
	if got := len(s.Users()); got != 2 {
		t.Errorf("%d users after delete", got)
	}
}

func TestClear(t *testing.T) {
	users := GenerateUsers(4)
	recs := GenerateRecords(users, 50, day1, 1)
	tests := []struct {
		name             string
		cmd              zk.Command
		data             []byte
		wantUsers, wantN int
	}{
		{"ClearAttLog", zk.CmdClearAttLog, nil, 4, 0},
		{"ClearDataAttendance", zk.CmdClearData, []byte{zk.FctAttLog}, 4, 0},
		{"ClearDataUsers", zk.CmdClearData, []byte{zk.FctUser}, 0, 50},
		{"ClearDataFingerprints", zk.CmdClearData, []byte{zk.FctFingerTmp}, 4, 50},
		{"ClearDataBare", zk.CmdClearData, nil, 0, 0},
		{"ClearDataTwoBytes", zk.CmdClearData, []byte{1, 0}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, Config{})
			s.SetUsers(users)
			s.AddRecords(recs...)
			c := dial(t, s.Addr(), true)
			c.connect(0)
			c.expect(tt.cmd, tt.data, zk.CmdAckOK)
			if len(s.Users()) != tt.wantUsers || len(s.Records()) != tt.wantN {
				t.Errorf("%d users, %d records", len(s.Users()), len(s.Records()))
			}
			sz, _ := zk.ParseSizes(c.expect(zk.CmdGetFreeSizes, nil, zk.CmdAckOK).Data)
			if sz.Users != tt.wantUsers || sz.Records != tt.wantN {
				t.Errorf("sizes say %d users, %d records", sz.Users, sz.Records)
			}
		})
	}
}

func TestPunch(t *testing.T) {
	loc := time.FixedZone("X", 3*3600)
	now := time.Date(2024, 5, 6, 7, 8, 9, 500, time.UTC)
	s := New(Config{Location: loc, ClockOffset: -time.Minute, Now: func() time.Time { return now }})
	s.SetUsers(GenerateUsers(3))
	a, ok := s.Punch("1003", 4, 2)
	want := zk.Attendance{UID: 3, UserID: "1003", State: 4, Verify: 2,
		Time: zk.Time{Year: 2024, Month: 5, Day: 6, Hour: 10, Minute: 7, Second: 9}}
	if !ok || a != want {
		t.Fatalf("punch %+v %v, want %+v", a, ok, want)
	}
	if got := s.Records(); len(got) != 1 || got[0] != want {
		t.Errorf("records %+v", got)
	}
}

func TestRunPunches(t *testing.T) {
	s := New(Config{})
	s.SetUsers(GenerateUsers(5))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.RunPunches(ctx, 500, 1) }()
	eventually.True(t, "punches", func() bool { return len(s.Records()) >= 5 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, a := range s.Records() {
		if a.UID < 1 || a.UID > 5 || a.State > 5 {
			t.Errorf("record %+v", a)
		}
	}
}
