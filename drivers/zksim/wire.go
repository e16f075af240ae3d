package zksim

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"

	"github.com/punchbox/punchbox/protocol/zk"
)

// wire carries packets to one peer: a TCP connection (shared by the sessions
// opened on it, one at a time) or a UDP peer address (one per session).
// A wire with neither discards what it is given.
type wire struct {
	// mu is held for a whole reply sequence (a range transfer with its
	// pauses included) or a batch of events, so that events never land in
	// the middle of a transfer. It guards buf.
	mu   sync.Mutex
	conn net.Conn       // TCP
	pc   *net.UDPConn   // UDP
	peer netip.AddrPort // UDP
	buf  []byte
}

func (w *wire) tcp() bool { return w.conn != nil }

// packetSize is the data size of the DATA packets of a range.
func (w *wire) packetSize() int {
	if w.tcp() {
		return zk.TCPPacket
	}
	return zk.UDPPacket
}

// send encodes p (framed on TCP) and writes it with one call. With corrupt
// it flips the first data byte after the checksum was computed, so the
// receiver sees a checksum mismatch. The caller holds mu.
func (w *wire) send(p zk.Packet, corrupt bool) error {
	if w.conn == nil && w.pc == nil {
		return nil
	}
	w.buf = w.buf[:0]
	data := zk.HeaderLen
	if w.tcp() {
		w.buf = zk.AppendTCP(w.buf, p)
		data += zk.TCPHeaderLen
	} else {
		w.buf = p.Append(w.buf)
	}
	if corrupt && len(w.buf) > data {
		w.buf[data] ^= 0xFF
	}
	var err error
	if w.tcp() {
		_, err = w.conn.Write(w.buf)
	} else {
		_, err = w.pc.WriteToUDPAddrPort(w.buf, w.peer)
	}
	if cap(w.buf) > 1<<17 {
		w.buf = nil // don't pin a large buffer to an idle peer
	}
	return err
}

// close closes a TCP connection; a UDP wire has nothing to close. It does
// not take mu, so it may be called while a transfer holds it.
func (w *wire) close() {
	if w.conn != nil {
		w.conn.Close()
	}
}

// beforeReply waits as the configuration and the faults ask before a reply.
func (s *Sim) beforeReply(ctx context.Context) bool {
	d := s.faults.delay()
	if s.cfg.Pacing == PacingFirmware {
		d += replyDelayMin + rand.N(replyDelayMax-replyDelayMin)
	}
	return sleep(ctx, d)
}

// reply sends one reply to req on ss's wire, after the pacing pause.
func (s *Sim) reply(ctx context.Context, ss *session, req zk.Packet, code zk.Command, data []byte) error {
	return s.replyOn(ctx, ss.w, zk.Packet{Command: code, Session: ss.id, Reply: req.Reply, Data: data})
}

// replyOn sends p on w after the pacing pause.
func (s *Sim) replyOn(ctx context.Context, w *wire, p zk.Packet) error {
	if !s.beforeReply(ctx) {
		return ctx.Err()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.send(p, false)
}
