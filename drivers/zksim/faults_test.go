package zksim

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/protocol/zk"
)

// faultSim holds records filling several DATA packets on either transport.
func faultSim(t *testing.T) (*Sim, []zk.Attendance) {
	t.Helper()
	users := GenerateUsers(10)
	recs := GenerateRecords(users, 10000, day1, 9) // 400 KB: 7 TCP packets, 391 UDP ones
	s := startSim(t, Config{})
	s.SetUsers(users)
	s.AddRecords(recs...)
	return s, recs
}

func TestFault_DropTCP(t *testing.T) {
	s, _ := faultSim(t)
	c := dial(t, s.Addr(), true)
	c.connect(0)
	c.expect(zk.CmdDataWRRQ, zk.WRRQAttendance.Append(nil), zk.CmdAckOK)
	s.InjectFault(Fault{Kind: FaultDrop, After: 2})
	got, err := c.readRange(0, 4*zk.TCPPacket)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("got %v, want the connection closed", err)
	}
	if len(got) != 2*zk.TCPPacket || s.Stats().DataPackets != 2 {
		t.Errorf("%d bytes, %d packets before the drop", len(got), s.Stats().DataPackets)
	}
	eventually.True(t, "session end", func() bool { return s.Stats().Sessions == 0 })

	// The fault fired once: a new connection reads everything.
	c = dial(t, s.Addr(), true)
	c.connect(0)
	c.readDataset(zk.WRRQAttendance, zk.TCPChunk)
}

func TestFault_DropUDP(t *testing.T) {
	s, recs := faultSim(t)
	c := dial(t, s.Addr(), false)
	c.connect(0)
	c.expect(zk.CmdDataWRRQ, zk.WRRQAttendance.Append(nil), zk.CmdAckOK)
	s.InjectFault(Fault{Kind: FaultDrop, After: 5})
	rid := c.send(zk.CmdDataRDY, zk.ReadRange{Size: zk.UDPChunk}.Append(nil))
	if p := c.recv(); p.Command != zk.CmdPrepareData || p.Reply != rid {
		t.Fatalf("got %s reply %d, want PREPARE_DATA", p.Command, p.Reply)
	}
	for i := range 5 {
		if p := c.recv(); p.Command != zk.CmdData || int(p.Session) != i || len(p.Data) != zk.UDPPacket {
			t.Fatalf("packet %d: %s index %d with %d bytes", i, p.Command, p.Session, len(p.Data))
		}
	}
	// On UDP the simulator answers one packet at a time: the answer to the
	// next command comes after whatever the range had left to send, so no
	// more of it may come before.
	tid := c.send(zk.CmdGetTime, nil)
	if p := c.recv(); p.Command != zk.CmdAckOK || p.Reply != tid {
		t.Fatalf("got %s reply %d (index %d) after the drop, want the clock", p.Command, p.Reply, p.Session)
	}
	// The session lives on and a retry succeeds.
	got, err := c.readRange(0, zk.UDPChunk)
	if err != nil || len(got) != zk.UDPChunk {
		t.Fatalf("retry: %d bytes, %v", len(got), err)
	}
	checkRecords(t, c.readDataset(zk.WRRQAttendance, zk.UDPChunk), zk.AttSize40, recs)
}

func TestFault_Corrupt(t *testing.T) {
	for _, tcp := range transports {
		t.Run(transport(tcp), func(t *testing.T) {
			s, _ := faultSim(t)
			c := dial(t, s.Addr(), tcp)
			c.connect(0)
			c.expect(zk.CmdDataWRRQ, zk.WRRQAttendance.Append(nil), zk.CmdAckOK)
			s.InjectFault(Fault{Kind: FaultCorrupt, After: 1, Count: -1})
			psize := zk.UDPPacket
			if tcp {
				psize = zk.TCPPacket
			}
			c.send(zk.CmdDataRDY, zk.ReadRange{Size: uint32(5 * psize)}.Append(nil))
			if p := c.recv(); p.Command != zk.CmdPrepareData {
				t.Fatalf("got %s", p.Command)
			}
			for i := range 5 {
				p, err := c.recvWithin(hungAfter)
				bad := i%2 == 1 // every second packet, from the second on
				if bad != errors.Is(err, zk.ErrChecksum) || p.Command != zk.CmdData || int(p.Session) != i {
					t.Errorf("packet %d: %s index %d, %v", i, p.Command, p.Session, err)
				}
			}
			if p := c.recv(); p.Command != zk.CmdAckOK {
				t.Errorf("got %s after the data", p.Command)
			}
		})
	}
}

func TestFault_Delay(t *testing.T) {
	s := startSim(t, Config{})
	c := dial(t, s.Addr(), true)
	c.connect(0)
	const delay = 50 * time.Millisecond
	s.InjectFault(Fault{Kind: FaultDelay, Delay: delay, Count: 2})
	for i := range 2 {
		start := time.Now()
		c.expect(zk.CmdGetTime, nil, zk.CmdAckOK)
		if d := time.Since(start); d < delay {
			t.Errorf("reply %d after %v, before the delay", i, d)
		}
	}
	c.expect(zk.CmdGetTime, nil, zk.CmdAckOK)
}

func TestFaultSet(t *testing.T) {
	s := New(Config{})
	s.InjectFault(Fault{Kind: FaultDrop, After: 1})
	s.InjectFault(Fault{Kind: FaultCorrupt, Count: 2})
	var got []string
	for range 5 {
		drop, corrupt := s.faults.onData()
		got = append(got, map[[2]bool]string{{}: "-", {true, false}: "drop", {false, true}: "corrupt", {true, true}: "both"}[[2]bool{drop, corrupt}])
	}
	want := []string{"corrupt", "both", "-", "-", "-"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if n := len(s.faults.list); n != 0 {
		t.Errorf("%d faults left", n)
	}
}
