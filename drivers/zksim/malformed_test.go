package zksim

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/punchbox/punchbox/protocol/zk"
)

func TestMalformed_TCPStream(t *testing.T) {
	s := startSim(t, Config{})
	tests := []struct {
		name string
		raw  []byte
	}{
		{"BadMagic", []byte("GET / HTTP/1.1\r\n\r\n")},
		{"HugeLength", []byte{0x50, 0x50, 0x82, 0x7d, 0xf0, 0xff, 0xff, 0xff}},
		{"ShortPacket", []byte{0x50, 0x50, 0x82, 0x7d, 3, 0, 0, 0, 1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, s.Addr(), true)
			c.connect(0)
			if _, err := c.conn.Write(tt.raw); err != nil {
				t.Fatal(err)
			}
			if _, err := c.recvWithin(hungAfter); !errors.Is(err, io.EOF) {
				t.Errorf("got %v, want the connection closed", err)
			}
		})
	}
	t.Run("BadChecksumDropped", func(t *testing.T) {
		c := dial(t, s.Addr(), true)
		c.connect(0)
		b := zk.AppendTCP(nil, zk.Packet{Command: zk.CmdGetTime, Session: c.session, Reply: 99})
		b[10] ^= 1
		c.conn.Write(b)
		c.expect(zk.CmdGetTime, nil, zk.CmdAckOK) // the next reply is this one's
	})
	t.Run("SplitAndMerged", func(t *testing.T) {
		c := dial(t, s.Addr(), true)
		c.connect(0)
		var b []byte
		for i := range 3 {
			b = zk.AppendTCP(b, zk.Packet{Command: zk.CmdGetTime, Session: c.session, Reply: uint16(10 + i)})
		}
		for i := range b { // one byte at a time, three frames
			if _, err := c.conn.Write(b[i : i+1]); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 3 {
			if p := c.recv(); p.Command != zk.CmdAckOK || p.Reply != uint16(10+i) {
				t.Errorf("reply %d: %s %d", i, p.Command, p.Reply)
			}
		}
	})
}

func TestMalformed_UDP(t *testing.T) {
	s := startSim(t, Config{})
	c := dial(t, s.Addr(), false)
	c.connect(0)
	bad := zk.Packet{Command: zk.CmdGetTime, Session: c.session, Reply: 77}.Append(nil)
	bad[6] ^= 1
	for _, raw := range [][]byte{{1, 2, 3}, {}, bad} {
		c.conn.Write(raw)
	}
	c.expect(zk.CmdGetTime, nil, zk.CmdAckOK)
}

func TestMalformed_Payloads(t *testing.T) {
	s := startSim(t, Config{})
	s.SetUsers(GenerateUsers(3))
	tests := []struct {
		name string
		cmd  zk.Command
		data []byte
		want zk.Command
	}{
		{"SetTimeShort", zk.CmdSetTime, []byte{1}, zk.CmdAckError},
		{"DeleteUserShort", zk.CmdDeleteUser, []byte{1}, zk.CmdAckError},
		{"RegEventShort", zk.CmdRegEvent, []byte{1, 0}, zk.CmdAckError},
		{"ReadRangeShort", zk.CmdDataRDY, []byte{1, 2, 3}, zk.CmdAckError},
		{"WRRQShort", zk.CmdDataWRRQ, []byte{1}, zk.CmdAckError},
		{"WRRQLong", zk.CmdDataWRRQ, append(zk.WRRQAttendance.Append(nil), 0), zk.CmdAckError},
		{"UserShort", zk.CmdUserWRQ, []byte{1, 2, 3, 4, 5}, zk.CmdAckError},
		{"UserGarbage", zk.CmdUserWRQ, make([]byte, 72), zk.CmdAckError},
		{"OptionNoNUL", zk.CmdOptionsRRQ, []byte("~SerialNumber"), zk.CmdAckOK},
		{"OptionBinary", zk.CmdOptionsRRQ, []byte{0xff, 0xfe, 0}, zk.CmdAckError},
		{"DisableOddLength", zk.CmdDisableDevice, []byte{1, 2, 3}, zk.CmdAckOK},
		{"FreeSizesBigIndex", zk.CmdGetFreeSizes, []byte{200}, zk.CmdAckOK},
		{"AuthShort", zk.CmdAuth, nil, zk.CmdAckUnauth},
		{"ReplyCodeFromClient", zk.CmdAckError, nil, zk.CmdAckUnknown},
	}
	for _, tcp := range transports {
		c := dial(t, s.Addr(), tcp)
		c.connect(0)
		for _, tt := range tests {
			t.Run(transport(tcp)+"/"+tt.name, func(t *testing.T) {
				defer c.use(t)()
				c.expect(tt.cmd, tt.data, tt.want)
			})
		}
	}
	if len(s.Users()) != 3 {
		t.Errorf("users changed: %d", len(s.Users()))
	}
}

// FuzzHandle feeds arbitrary packets to a session's packet handler. The
// checksum is not checked, so every command is reached.
func FuzzHandle(f *testing.F) {
	seeds := []zk.Packet{
		{Command: zk.CmdGetTime},
		{Command: zk.CmdSetTime, Data: []byte{1, 2, 3, 4}},
		{Command: zk.CmdDataWRRQ, Data: zk.WRRQAttendance.Append(nil)},
		{Command: zk.CmdDataWRRQ, Data: zk.WRRQUsers.Append(nil)},
		{Command: zk.CmdDataRDY, Data: zk.ReadRange{Offset: 4, Size: 2000}.Append(nil)},
		{Command: zk.CmdUserWRQ, Data: make([]byte, 72)},
		{Command: zk.CmdOptionsRRQ, Data: []byte("~SerialNumber\x00")},
		{Command: zk.CmdOptionsWRQ, Data: []byte("a=b")},
		{Command: zk.CmdRegEvent, Data: []byte{1, 0, 0, 0}},
		{Command: zk.CmdAckOK, Reply: 1},
		{Command: zk.CmdDisableDevice, Data: []byte{1, 0, 0, 0}},
		{Command: zk.CmdClearData, Data: []byte{5}},
		{Command: zk.CmdUserTempRRQ, Data: []byte{5}},
		{Command: zk.CmdAuth, Data: []byte{1, 2, 3, 4}},
		{Command: zk.CmdGetFreeSizes, Data: []byte{4}},
	}
	for _, p := range seeds {
		f.Add(p.Append(nil))
	}
	users := GenerateUsers(5)
	recs := GenerateRecords(users, 60, day1, 1)
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := zk.ParsePacket(raw)
		if errors.Is(err, zk.ErrShortPacket) {
			return
		}
		s := New(Config{CommKey: binary.LittleEndian.Uint32(append(raw[:2:2], 0, 0))})
		s.SetUsers(users)
		s.AddRecords(recs...)
		ss := &session{id: 7, w: &wire{}, done: make(chan struct{}), kick: make(chan struct{}, 1), nextEvent: 1, authed: raw[0]&1 == 0}
		s.sessions[ss.id] = ss
		ctx := context.Background()
		s.handle(ctx, ss, p)
		s.Punch("1001", 0, 1)
		// A second packet on the same session, e.g. a read after a WRRQ.
		p.Command = zk.CmdDataRDY
		s.handle(ctx, ss, p)
	})
}
