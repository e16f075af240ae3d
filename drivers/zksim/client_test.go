package zksim

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/protocol/zk"
)

// This file holds a minimal client for the tests: real sockets, every byte
// through protocol/zk.

// hungAfter stops a hung test; it is no assertion about speed.
var hungAfter = eventually.Hung

// startSim runs a simulator on 127.0.0.1:0 until the test ends.
func startSim(t testing.TB, cfg Config) *Sim {
	t.Helper()
	s := New(cfg)
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := eventually.Recv(t, "run returns after cancel", done); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return s
}

// client is a test client over TCP or UDP.
type client struct {
	t       testing.TB
	tcp     bool
	conn    net.Conn
	dec     zk.TCPDecoder
	buf     []byte
	session uint16
	reply   uint16
	events  []zk.Packet // realtime events seen while waiting for replies
}

func dial(t testing.TB, addr string, tcp bool) *client {
	t.Helper()
	network := "udp"
	if tcp {
		network = "tcp"
	}
	conn, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, tcp: tcp, conn: conn, buf: make([]byte, 128<<10)}
}

// use makes c report to t, a subtest, until the returned func restores
// the previous test: defer c.use(t)().
func (c *client) use(t testing.TB) (restore func()) {
	old := c.t
	c.t = t
	return func() { c.t = old }
}

func transport(tcp bool) string {
	if tcp {
		return "TCP"
	}
	return "UDP"
}

// sendPacket writes p as is (its checksum computed by Append).
func (c *client) sendPacket(p zk.Packet) {
	c.t.Helper()
	var b []byte
	if c.tcp {
		b = zk.AppendTCP(nil, p)
	} else {
		b = p.Append(nil)
	}
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// send sends a command in the session with the next reply id and returns
// that id.
func (c *client) send(cmd zk.Command, data []byte) uint16 {
	c.t.Helper()
	c.reply++
	c.sendPacket(zk.Packet{Command: cmd, Session: c.session, Reply: c.reply, Data: data})
	return c.reply
}

// recvWithin reads the next packet, waiting at most d. Its data is a copy.
// A checksum mismatch is returned with the packet.
func (c *client) recvWithin(d time.Duration) (zk.Packet, error) {
	if err := c.conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		return zk.Packet{}, err
	}
	for {
		if c.tcp {
			p, ok, err := c.dec.Next()
			if err != nil || ok {
				p.Data = slices.Clone(p.Data)
				return p, err
			}
		}
		n, err := c.conn.Read(c.buf)
		if err != nil {
			return zk.Packet{}, err
		}
		if !c.tcp {
			p, err := zk.ParsePacket(c.buf[:n])
			p.Data = slices.Clone(p.Data)
			return p, err
		}
		c.dec.Feed(c.buf[:n])
	}
}

// recv reads the next packet that is not a realtime event; events are kept
// in c.events.
func (c *client) recv() zk.Packet {
	c.t.Helper()
	for {
		p, err := c.recvWithin(hungAfter)
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if p.Command == zk.CmdRegEvent {
			c.events = append(c.events, p)
			continue
		}
		return p
	}
}

// call sends a command and returns its reply, checking the reply id.
func (c *client) call(cmd zk.Command, data []byte) zk.Packet {
	c.t.Helper()
	id := c.send(cmd, data)
	p := c.recv()
	if p.Reply != id {
		c.t.Fatalf("%s: reply id %d, want %d", cmd, p.Reply, id)
	}
	return p
}

// expect calls and fails unless the reply code is want.
func (c *client) expect(cmd zk.Command, data []byte, want zk.Command) zk.Packet {
	c.t.Helper()
	p := c.call(cmd, data)
	if p.Command != want {
		c.t.Fatalf("%s: got %s, want %s", cmd, p.Command, want)
	}
	return p
}

// connect opens a session, authenticating with key when asked to.
func (c *client) connect(key uint32) {
	c.t.Helper()
	c.session = 0
	p := c.call(zk.CmdConnect, nil)
	if p.Session == 0 {
		c.t.Fatal("connect: session id 0")
	}
	c.session = p.Session
	switch p.Command {
	case zk.CmdAckOK:
	case zk.CmdAckUnauth:
		k := zk.MakeCommKey(key, c.session, 50)
		c.expect(zk.CmdAuth, k[:], zk.CmdAckOK)
	default:
		c.t.Fatalf("connect: %s", p.Command)
	}
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// readDataset reads a whole dataset as a client does: DATA_WRRQ, then
// DATA_RDY ranges of chunk bytes, then FREE_DATA.
func (c *client) readDataset(req zk.WRRQ, chunk int) []byte {
	c.t.Helper()
	p := c.call(zk.CmdDataWRRQ, req.Append(nil))
	switch p.Command {
	case zk.CmdData:
		return p.Data
	case zk.CmdAckOK:
	default:
		c.t.Fatalf("data wrrq: %s", p.Command)
	}
	st, err := zk.ParseDataStat(p.Data)
	if err != nil {
		c.t.Fatal(err)
	}
	out := make([]byte, 0, st.Size)
	for off := 0; off < int(st.Size); off += chunk {
		n := min(chunk, int(st.Size)-off)
		b, err := c.readRange(uint32(off), uint32(n))
		if err != nil {
			c.t.Fatalf("range %d+%d: %v", off, n, err)
		}
		out = append(out, b...)
	}
	c.expect(zk.CmdFreeData, nil, zk.CmdAckOK)
	return out
}

// readRange sends one DATA_RDY and collects its answer.
func (c *client) readRange(off, size uint32) ([]byte, error) {
	c.t.Helper()
	id := c.send(zk.CmdDataRDY, zk.ReadRange{Offset: off, Size: size}.Append(nil))
	return c.collect(id)
}

// collect gathers the answer to a read with reply id id: one CMD_DATA, or
// PREPARE_DATA, DATA packets numbered from 0 and ACK_OK.
func (c *client) collect(id uint16) ([]byte, error) {
	c.t.Helper()
	p := c.recv()
	if p.Reply != id {
		c.t.Fatalf("reply id %d, want %d", p.Reply, id)
	}
	switch p.Command {
	case zk.CmdData:
		return p.Data, nil
	case zk.CmdPrepareData:
	default:
		return nil, zk.ReplyError{Code: p.Command, To: zk.CmdDataRDY}
	}
	prep, err := zk.ParsePrepareData(p.Data)
	if err != nil {
		c.t.Fatal(err)
	}
	var out []byte
	for i := 0; ; i++ {
		p, err := c.recvWithin(hungAfter)
		if err != nil {
			return out, err
		}
		if p.Reply != id {
			c.t.Fatalf("packet %d: reply id %d, want %d", i, p.Reply, id)
		}
		if p.Command == zk.CmdAckOK {
			if len(out) != int(prep.Size) {
				return out, errors.New("range shorter than announced")
			}
			return out, nil
		}
		if p.Command != zk.CmdData || int(p.Session) != i || len(p.Data) > int(prep.PacketSize) {
			c.t.Fatalf("packet %d: %s index %d with %d bytes", i, p.Command, p.Session, len(p.Data))
		}
		out = append(out, p.Data...)
	}
}
