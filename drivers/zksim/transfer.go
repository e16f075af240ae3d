package zksim

import (
	"context"

	"github.com/punchbox/punchbox/protocol/zk"
)

// Bulk reads. DATA_WRRQ snapshots a dataset into the session (a small one
// comes back at once in CMD_DATA, a large one is announced by a DataStat);
// DATA_RDY reads ranges of it; FREE_DATA drops it. The legacy ATTLOG_RRQ and
// USERTEMP_RRQ stream a whole dataset at once.

// emptySet is a dataset with no records.
var emptySet = []byte{0, 0, 0, 0}

// dataset returns the encoded dataset a WRRQ asks for: attendance, users,
// or, for any other table, one with no records.
func (s *Sim) dataset(req zk.WRRQ) []byte {
	var set []byte
	var skipped int
	switch {
	case req.Command == zk.CmdAttLogRRQ:
		set, skipped = s.dev.attendanceSet()
	case req.Command == zk.CmdUserTempRRQ && req.Fct == zk.FctUser:
		set, skipped = s.dev.userSetBytes()
	default:
		return emptySet
	}
	if skipped > 0 {
		s.log.Warn("records left out of a dataset: the configured form cannot carry them",
			"table", req.Command, "skipped", skipped)
	}
	return set
}

// dataWRRQ handles DATA_WRRQ: an 11-byte request.
func (s *Sim) dataWRRQ(ctx context.Context, ss *session, p zk.Packet) {
	ss.mu.Lock()
	ss.snapshot = nil // the firmware frees the old buffer first
	ss.mu.Unlock()
	req, err := zk.ParseWRRQ(p.Data)
	if err != nil || len(p.Data) != zk.WRRQLen {
		s.send(ctx, ss, p, zk.CmdAckError, nil)
		return
	}
	set := s.dataset(req)
	ss.mu.Lock()
	ss.snapshot = set
	ss.mu.Unlock()
	if len(set) <= s.cfg.InlineMax {
		s.send(ctx, ss, p, zk.CmdData, set)
		return
	}
	stat := zk.DataStat{Size: uint32(len(set)), Hash: hash(set)}
	s.send(ctx, ss, p, zk.CmdAckOK, stat.Append(nil))
}

// dataRDY handles DATA_RDY: read [Offset, Offset+Size) of the snapshot.
func (s *Sim) dataRDY(ctx context.Context, ss *session, p zk.Packet) (end bool) {
	ss.mu.Lock()
	snap := ss.snapshot
	ss.mu.Unlock()
	rr, err := zk.ParseReadRange(p.Data)
	if err != nil || len(p.Data) != zk.ReadRangeLen || snap == nil ||
		uint64(rr.Offset)+uint64(rr.Size) > uint64(len(snap)) {
		s.send(ctx, ss, p, zk.CmdAckError, nil)
		return false
	}
	chunk := snap[rr.Offset : rr.Offset+rr.Size]
	if rr.Size <= zk.MaxInlineChunk {
		s.send(ctx, ss, p, zk.CmdData, chunk)
		return false
	}
	return s.sendRange(ctx, ss, p.Reply, chunk)
}

// directRead handles the legacy ATTLOG_RRQ and USERTEMP_RRQ: the whole
// dataset as a range transfer. USERTEMP_RRQ takes an optional 1-byte table;
// its 3-byte form asks for one fingerprint template, which no user has.
func (s *Sim) directRead(ctx context.Context, ss *session, p zk.Packet) (end bool) {
	req := zk.WRRQAttendance
	if p.Command == zk.CmdUserTempRRQ {
		req = zk.WRRQUsers
		switch len(p.Data) {
		case 0:
		case 1:
			req.Fct = int32(p.Data[0])
		default:
			s.send(ctx, ss, p, zk.CmdAckError, nil)
			return false
		}
	}
	return s.sendRange(ctx, ss, p.Reply, s.dataset(req))
}

// sendRange sends data as the firmware does: PREPARE_DATA with the size and
// packet size, DATA packets numbered from 0 in the session slot, then
// ACK_OK, all with the request's reply id and nothing in between. Faults
// may drop (TCP: close the connection; UDP: stop sending) or corrupt a DATA
// packet. It reports whether the session has ended.
func (s *Sim) sendRange(ctx context.Context, ss *session, reply uint16, data []byte) (end bool) {
	if !s.beforeReply(ctx) {
		return true
	}
	w := ss.w
	w.mu.Lock()
	defer w.mu.Unlock()
	psize := w.packetSize()
	prep := zk.PrepareData{Size: uint32(len(data)), PacketSize: uint32(psize)}
	if err := w.send(zk.Packet{Command: zk.CmdPrepareData, Session: ss.id, Reply: reply, Data: prep.Append(nil)}, false); err != nil {
		s.log.Debug("range transfer", "session", ss.id, "err", err)
		return true
	}
	for i, off := 0, 0; off < len(data); i++ {
		n := min(psize, len(data)-off)
		drop, corrupt := s.faults.onData()
		if drop {
			s.log.Info("fault: dropping a range transfer", "session", ss.id, "packet", i)
			if w.tcp() {
				w.close()
				return true
			}
			return false
		}
		if corrupt {
			s.log.Info("fault: corrupting a DATA packet", "session", ss.id, "packet", i)
		}
		pkt := zk.Packet{Command: zk.CmdData, Session: uint16(i), Reply: reply, Data: data[off : off+n]}
		if err := w.send(pkt, corrupt); err != nil {
			s.log.Debug("range transfer", "session", ss.id, "err", err)
			return true
		}
		s.stats.dataPacket()
		off += n
		if s.cfg.Pacing == PacingFirmware && !sleep(ctx, dataPacketGap) {
			return true
		}
	}
	if err := w.send(zk.Packet{Command: zk.CmdAckOK, Session: ss.id, Reply: reply}, false); err != nil {
		s.log.Debug("range transfer", "session", ss.id, "err", err)
		return true
	}
	return false
}
