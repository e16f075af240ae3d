package zksim

import (
	"testing"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

// nextEvent waits for the next packet and fails unless it is an event.
func (c *client) nextEvent() zk.Packet {
	c.t.Helper()
	if len(c.events) > 0 {
		p := c.events[0]
		c.events = c.events[1:]
		return p
	}
	p, err := c.recvWithin(hungAfter)
	if err != nil {
		c.t.Fatalf("waiting for an event: %v", err)
	}
	if p.Command != zk.CmdRegEvent {
		c.t.Fatalf("got %s, want an event", p.Command)
	}
	return p
}

// ack acknowledges an event, then makes a round trip so that the simulator
// has handled the acknowledgement when ack returns. Events that arrive in
// between are dropped.
func (c *client) ack(reply uint16) {
	c.t.Helper()
	c.sendPacket(zk.Packet{Command: zk.CmdAckOK, Session: c.session, Reply: reply})
	c.expect(zk.CmdGetTime, nil, zk.CmdAckOK)
	c.events = nil
}

func TestEvents_ResendUntilAcked(t *testing.T) {
	const every = 150 * time.Millisecond
	for _, tcp := range transports {
		t.Run(transport(tcp), func(t *testing.T) {
			s := startSim(t, Config{ResendEvery: every})
			s.SetUsers(GenerateUsers(3))
			c := dial(t, s.Addr(), tcp)
			c.connect(0)
			c.expect(zk.CmdRegEvent, u32(uint32(zk.EventAttLog)), zk.CmdAckOK)
			a, ok := s.Punch("1002", 1, 15)
			if !ok {
				t.Fatal("punch refused")
			}
			first := c.nextEvent()
			if first.Session != zk.EventAttLog || first.Reply == 0 {
				t.Fatalf("event: session slot %d, reply id %d", first.Session, first.Reply)
			}
			e, err := zk.ParseAttLogEvent(first.Data)
			if err != nil || len(first.Data) != zk.AttLogForm36 {
				t.Fatalf("payload %x: %v", first.Data, err)
			}
			if e.UserID != a.UserID || e.Verify != 15 || e.State != 1 || e.Time != a.Time {
				t.Errorf("event %+v for record %+v", e, a)
			}
			again := c.nextEvent()
			if again.Reply != first.Reply || string(again.Data) != string(first.Data) {
				t.Fatalf("resent event differs: %+v", again)
			}
			c.ack(first.Reply + 1) // not its id: the event stays
			if st := s.Stats(); st.PendingEvents != 1 || st.EventsAcked != 0 || st.EventsResent == 0 {
				t.Fatalf("after a wrong ack: %+v", st)
			}
			c.ack(first.Reply)
			st := s.Stats()
			if st.PendingEvents != 0 || st.EventsAcked != 1 || st.EventsSent != 1 {
				t.Fatalf("after the ack: %+v", st)
			}
			// Nothing is left to resend: a resend round, whenever it comes,
			// sends nothing and schedules nothing.
			if ss := s.session(c.session); ss == nil {
				t.Fatal("session gone")
			} else if next := s.flushEvents(ss); next != 0 {
				t.Errorf("after the ack, the pump would resend in %v", next)
			}
			if got := s.Stats().EventsResent; got != st.EventsResent {
				t.Errorf("resent %d after the ack, %d before", got, st.EventsResent)
			}
			// The next event has the next id.
			s.Punch("1001", 0, 1)
			if p := c.nextEvent(); p.Reply != first.Reply+1 {
				t.Errorf("next event id %d after %d", p.Reply, first.Reply)
			}
		})
	}
}

func TestEvents_Forms(t *testing.T) {
	tests := []struct {
		name       string
		recordSize int
		wantLen    int
	}{
		{"Records40", zk.AttSize40, zk.AttLogForm36},
		{"Records16", zk.AttSize16, zk.AttLogForm12},
		{"Records8", zk.AttSize8, zk.AttLogForm14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, Config{RecordSize: tt.recordSize})
			s.SetUsers(GenerateUsers(5))
			c := dial(t, s.Addr(), false)
			c.connect(0)
			c.expect(zk.CmdRegEvent, u32(0xFFFF), zk.CmdAckOK)
			s.Punch("1004", 2, 1)
			p := c.nextEvent()
			e, err := zk.ParseAttLogEvent(p.Data)
			if err != nil || len(p.Data) != tt.wantLen {
				t.Fatalf("%d bytes: %v", len(p.Data), err)
			}
			want := "1004"
			if e.ByUID {
				want = "4" // the 10/14-byte forms carry the UID
			}
			if e.UserID != want || e.State != 2 || e.Verify != 1 {
				t.Errorf("event %+v", e)
			}
		})
	}
}

func TestEvents_Subscription(t *testing.T) {
	s := startSim(t, Config{})
	s.SetUsers(GenerateUsers(3))
	sub := dial(t, s.Addr(), true)
	sub.connect(0)
	sub.expect(zk.CmdRegEvent, u32(1), zk.CmdAckOK)
	other := dial(t, s.Addr(), true)
	other.connect(0)
	other.expect(zk.CmdRegEvent, u32(uint32(zk.EventAlarm)), zk.CmdAckOK)
	off := dial(t, s.Addr(), false)
	off.connect(0)
	off.expect(zk.CmdRegEvent, u32(1), zk.CmdAckOK)
	off.expect(zk.CmdRegEvent, u32(0), zk.CmdAckOK)
	off.expect(zk.CmdRegEvent, []byte{1}, zk.CmdAckError)

	if _, ok := s.Punch("9999", 0, 0); ok {
		t.Error("a punch by an unknown PIN was accepted")
	}
	s.Punch("1001", 0, 1)
	p := sub.nextEvent()
	sub.ack(p.Reply)
	for _, c := range []*client{other, off} {
		c.expect(zk.CmdGetTime, nil, zk.CmdAckOK)
		if len(c.events) != 0 {
			t.Errorf("unsubscribed session got %d events", len(c.events))
		}
	}
	sub.expect(zk.CmdDisableDevice, nil, zk.CmdAckOK)
	if _, ok := s.Punch("1001", 0, 1); ok {
		t.Error("punch accepted while disabled")
	}
	if st := s.Stats(); st.EventsSent != 1 || len(s.Records()) != 1 {
		t.Errorf("events sent %d, records %d", st.EventsSent, len(s.Records()))
	}
}

func TestEvents_QueueBounded(t *testing.T) {
	s := startSim(t, Config{ResendEvery: time.Hour})
	s.SetUsers(GenerateUsers(3))
	c := dial(t, s.Addr(), true)
	c.connect(0)
	c.expect(zk.CmdRegEvent, u32(1), zk.CmdAckOK)
	for range 100 {
		s.Punch("1001", 0, 1)
	}
	if got := s.Stats().PendingEvents; got != maxQueuedBytes/(zk.HeaderLen+zk.AttLogForm36) {
		t.Errorf("%d events pending", got)
	}
}
