package hostile

import (
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/protocol/zk"
)

func start(t *testing.T, cfgs ...Config) *Server {
	t.Helper()
	s := New(nil, cfgs...)
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := eventually.Recv(t, "Run returns", done); err != nil {
			t.Error(err)
		}
	})
	return s
}

// peer is a bare client: it sends packets and reads the next one.
type peer struct {
	t    *testing.T
	conn net.Conn
	tcp  bool
	dec  zk.TCPDecoder
	buf  []byte
	n    uint16
}

func dial(t *testing.T, addr string, tcp bool) *peer {
	t.Helper()
	network := "udp"
	if tcp {
		network = "tcp"
	}
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{t: t, conn: c, tcp: tcp, buf: make([]byte, 128<<10)}
}

func (p *peer) send(cmd zk.Command, data []byte) {
	p.n++
	pkt := zk.Packet{Command: cmd, Session: sessionID, Reply: p.n, Data: data}
	b := pkt.Append(nil)
	if p.tcp {
		b = zk.AppendTCP(nil, pkt)
	}
	if _, err := p.conn.Write(b); err != nil {
		p.t.Fatal(err)
	}
}

func (p *peer) recv() zk.Packet {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(eventually.Hung))
	for {
		if p.tcp {
			if pkt, ok, err := p.dec.Next(); err != nil {
				p.t.Fatal(err)
			} else if ok {
				pkt.Data = append([]byte(nil), pkt.Data...)
				return pkt
			}
		}
		n, err := p.conn.Read(p.buf)
		if err != nil {
			p.t.Fatal(err)
		}
		if !p.tcp {
			pkt, err := zk.ParsePacket(p.buf[:n])
			if err != nil {
				p.t.Fatal(err)
			}
			pkt.Data = append([]byte(nil), pkt.Data...)
			return pkt
		}
		p.dec.Feed(p.buf[:n])
	}
}

// reply sends a command and returns the reply to it, skipping events.
func (p *peer) reply(cmd zk.Command, data []byte) zk.Packet {
	p.t.Helper()
	p.send(cmd, data)
	for {
		r := p.recv()
		if r.Command != zk.CmdRegEvent && r.Reply == p.n {
			return r
		}
	}
}

func TestServer(t *testing.T) {
	log := append(Log40(3, time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)), 1, 2, 3)
	s := start(t, Config{
		Platform: Dirty(18 << 10), Sizes: zk.Sizes{Records: -4}, Log: log, AnnounceUsers: 0xFFFFFFF0,
		PreConnect: 3, PreConnectSize: 100, Flood: []Event{MalformedPunch(), Alarm(zk.AlarmTamper)}, FloodCount: 10,
	})
	for _, tcp := range []bool{true, false} {
		p := dial(t, s.Addr(), tcp)
		p.send(zk.CmdConnect, nil)
		for i := range 3 {
			if ev := p.recv(); ev.Command != zk.CmdRegEvent || len(ev.Data) != 100 {
				t.Fatalf("pre-connect event %d: %s of %d bytes", i, ev.Command, len(ev.Data))
			}
		}
		if r := p.recv(); r.Command != zk.CmdAckOK || r.Session != sessionID {
			t.Fatalf("connect: %+v", r)
		}
		r := p.reply(zk.CmdOptionsRRQ, zk.AppendOptionRequest(nil, "~Platform"))
		if _, v, err := zk.ParseOption(r.Data); err != nil || v != Dirty(18<<10) {
			t.Errorf("platform of %d bytes, %v", len(v), err)
		}
		sz, err := zk.ParseSizes(p.reply(zk.CmdGetFreeSizes, nil).Data)
		if err != nil || sz.Records != -4 {
			t.Errorf("sizes %+v, %v", sz, err)
		}
		if r := p.reply(zk.CmdDataWRRQ, zk.WRRQAttendance.Append(nil)); r.Command != zk.CmdData || len(r.Data) != 4+len(log) {
			t.Errorf("log: %s of %d bytes", r.Command, len(r.Data))
		}
		r = p.reply(zk.CmdDataWRRQ, zk.WRRQUsers.Append(nil))
		if st, err := zk.ParseDataStat(r.Data); r.Command != zk.CmdAckOK || err != nil || st.Size != 0xFFFFFFF0 {
			t.Errorf("users: %s, %+v, %v", r.Command, st, err)
		}
		if r := p.reply(zk.CmdDataRDY, zk.ReadRange{Offset: 0, Size: 1 << 20}.Append(nil)); r.Command != zk.CmdAckError {
			t.Errorf("a range past the true data: %s", r.Command)
		}
		p.send(zk.CmdRegEvent, binary.LittleEndian.AppendUint32(nil, 0xFFFF))
		for got := 0; got < 10; {
			if ev := p.recv(); ev.Command == zk.CmdRegEvent {
				got++
				p.send(zk.CmdAckOK, nil)
			}
		}
	}
	eventually.True(t, "both floods done and acknowledged", func() bool {
		st := s.Stats()
		return st.FloodsDone == 2 && st.Acks == 20
	})
	if st := s.Stats(); st.Connections != 2 || st.EventsSent != 26 || st.Refused != 2 {
		t.Errorf("stats %+v", st)
	}
}

// Connections take the configurations in turn; SessionFor ends one.
func TestServer_Rotation(t *testing.T) {
	s := start(t, Config{Serial: "A", SessionFor: time.Millisecond}, Config{Serial: "B"})
	for _, want := range []string{"A", "B", "A"} {
		p := dial(t, s.Addr(), true)
		if want == "A" {
			// The session ends by itself.
			p.conn.SetReadDeadline(time.Now().Add(eventually.Hung))
			if _, err := p.conn.Read(p.buf); err == nil {
				t.Fatal("session A did not end")
			}
			continue
		}
		p.reply(zk.CmdConnect, nil)
		if _, v, _ := zk.ParseOption(p.reply(zk.CmdOptionsRRQ, zk.AppendOptionRequest(nil, "~SerialNumber")).Data); v != want {
			t.Errorf("serial %q, want %q", v, want)
		}
	}
}

func TestBadLog(t *testing.T) {
	log, good, bad := BadLog(100, time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC))
	if len(log) != (good+bad)*zk.AttSize40+7 {
		t.Fatalf("%d bytes for %d+%d records", len(log), good, bad)
	}
	l, err := zk.DecodeAttendanceLog(log, zk.AttSize40)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := range l.Records {
		if l.Check(i) != nil {
			n++
		}
	}
	if n != bad || len(l.Trailing) != 7 {
		t.Errorf("%d implausible records, %d trailing bytes; want %d and 7", n, len(l.Trailing), bad)
	}
}

func TestWorst(t *testing.T) {
	cfgs := Worst(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	if len(cfgs) < 5 {
		t.Fatalf("%d configurations", len(cfgs))
	}
	for _, c := range cfgs {
		if c.Name == "" || c.Clock == (zk.Time{}) {
			t.Errorf("configuration %+v has no name or clock", c.Name)
		}
	}
}
