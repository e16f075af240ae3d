package zksim

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

// handle processes one packet of ss's peer and sends the replies. It
// reports whether the session has ended (EXIT, RESTART, or a TCP connection
// closed by a fault). Hostile input gets ACK_ERROR, never a panic.
func (s *Sim) handle(ctx context.Context, ss *session, p zk.Packet) (end bool) {
	ss.touch()
	if p.Command == zk.CmdAckOK {
		s.ackEvent(ss, p.Reply) // acknowledgements get no reply
		return false
	}
	switch p.Command {
	case zk.CmdAuth, zk.CmdExit:
	default:
		if !ss.isAuthed() {
			s.send(ctx, ss, p, zk.CmdAckUnauth, nil)
			return false
		}
	}
	switch p.Command {
	case zk.CmdAuth:
		// A wrong key is refused, and, when a key is set, leaves the
		// session unauthenticated.
		ok := len(p.Data) >= 4 && zk.CheckCommKey(s.cfg.CommKey, ss.id, p.Data)
		ss.mu.Lock()
		ss.authed = ok || s.cfg.CommKey == 0
		ss.mu.Unlock()
		s.send(ctx, ss, p, ackIf(ok, zk.CmdAckUnauth), nil)
	case zk.CmdExit:
		s.send(ctx, ss, p, zk.CmdAckOK, nil)
		return true
	case zk.CmdRestart:
		s.send(ctx, ss, p, zk.CmdAckOK, nil)
		s.restart()
		return true
	case zk.CmdRefreshData, zk.CmdRefreshOption:
		s.send(ctx, ss, p, zk.CmdAckOK, nil)
	case zk.CmdStateRRQ:
		s.send(ctx, ss, p, zk.CmdAckOK, nil) // session slot = session id; see doc.go
	case zk.CmdGetVersion:
		v := s.cfg.Firmware
		if len(p.Data) == 1 && p.Data[0] == 0 {
			v = s.cfg.Platform
		}
		s.send(ctx, ss, p, zk.CmdAckOK, append([]byte(v), 0))
	case zk.CmdOptionsRRQ:
		name := zk.CString(p.Data)
		v, ok := s.option(ss, name)
		if !ok {
			s.send(ctx, ss, p, zk.CmdAckError, nil)
			break
		}
		s.send(ctx, ss, p, zk.CmdAckOK, zk.AppendOption(nil, name, v))
	case zk.CmdOptionsWRQ:
		name, v, err := zk.ParseOption(p.Data)
		ok := err == nil && name != ""
		if ok {
			s.dev.setOption(name, v)
		}
		s.send(ctx, ss, p, ackIf(ok, zk.CmdAckError), nil)
	case zk.CmdGetFreeSizes:
		sz := s.dev.sizes().Append(nil)
		if len(p.Data) > 0 && int(p.Data[0]) < len(sz)/4 {
			i := int(p.Data[0]) * 4
			sz = sz[i : i+4]
		}
		s.send(ctx, ss, p, zk.CmdAckOK, sz)
	case zk.CmdGetTime:
		v, err := zk.EncodeTime(wall(s.Clock()))
		if err != nil {
			s.send(ctx, ss, p, zk.CmdAckError, nil)
			break
		}
		s.send(ctx, ss, p, zk.CmdAckOK, binary.LittleEndian.AppendUint32(nil, v))
	case zk.CmdSetTime:
		if len(p.Data) < 4 {
			s.send(ctx, ss, p, zk.CmdAckError, nil)
			break
		}
		s.dev.setClock(zk.DecodeTime(binary.LittleEndian.Uint32(p.Data)))
		s.send(ctx, ss, p, zk.CmdAckOK, nil)
	case zk.CmdDisableDevice:
		s.disable(ss, p.Data)
		s.send(ctx, ss, p, zk.CmdAckOK, nil)
	case zk.CmdEnableDevice:
		if s.dev.setDisabled(false) {
			s.log.Info("device enabled", "session", ss.id)
		}
		s.stats.enabled()
		s.send(ctx, ss, p, zk.CmdAckOK, nil)
	case zk.CmdRegEvent:
		if len(p.Data) < 4 {
			s.send(ctx, ss, p, zk.CmdAckError, nil)
			break
		}
		ss.mu.Lock()
		ss.mask = binary.LittleEndian.Uint32(p.Data)
		ss.mu.Unlock()
		s.send(ctx, ss, p, zk.CmdAckOK, nil)
	case zk.CmdUserWRQ:
		s.send(ctx, ss, p, ackIf(s.writeUser(p.Data), zk.CmdAckError), nil)
	case zk.CmdDeleteUser:
		ok := len(p.Data) >= 2 && s.dev.deleteUser(binary.LittleEndian.Uint16(p.Data))
		s.send(ctx, ss, p, ackIf(ok, zk.CmdAckError), nil)
	case zk.CmdClearAttLog:
		s.dev.clear(true, false)
		s.send(ctx, ss, p, zk.CmdAckOK, nil)
	case zk.CmdClearData:
		s.clearData(p.Data)
		s.send(ctx, ss, p, zk.CmdAckOK, nil)
	case zk.CmdDataWRRQ:
		s.dataWRRQ(ctx, ss, p)
	case zk.CmdDataRDY:
		return s.dataRDY(ctx, ss, p)
	case zk.CmdFreeData:
		ss.mu.Lock()
		ss.snapshot = nil
		ss.mu.Unlock()
		s.send(ctx, ss, p, zk.CmdAckOK, nil)
	case zk.CmdAttLogRRQ, zk.CmdUserTempRRQ:
		return s.directRead(ctx, ss, p)
	default:
		s.send(ctx, ss, p, zk.CmdAckUnknown, nil)
	}
	return false
}

// send replies and logs a failed write at Debug: the reader of the
// connection sees the failure and ends the session.
func (s *Sim) send(ctx context.Context, ss *session, req zk.Packet, code zk.Command, data []byte) {
	if err := s.reply(ctx, ss, req, code, data); err != nil {
		s.log.Debug("reply", "session", ss.id, "command", req.Command, "err", err)
	}
}

// ackIf is ACK_OK when ok, else the failure code.
func ackIf(ok bool, fail zk.Command) zk.Command {
	if ok {
		return zk.CmdAckOK
	}
	return fail
}

// disable handles DISABLEDEVICE. Like the firmware, only a payload of
// exactly 4 bytes sets (or, with 0, stops) the session's time-out.
func (s *Sim) disable(ss *session, data []byte) {
	timeout := 0
	if len(data) == 4 {
		secs := binary.LittleEndian.Uint32(data)
		timeout = int(min(secs, 1<<31-1))
		s.setDisableTimeout(ss, time.Duration(timeout)*time.Second)
	}
	if s.dev.setDisabled(true) {
		s.log.Info("device disabled", "session", ss.id, "timeout_s", timeout)
	}
	s.stats.disabled(timeout)
}

// restart behaves like a reboot: every session ends and the device comes
// back enabled.
func (s *Sim) restart() {
	s.log.Info("device restarting")
	s.mu.Lock()
	clear(s.timers)
	s.mu.Unlock()
	s.dev.setDisabled(false)
	s.closeAllSessions()
}

// writeUser handles USER_WRQ: one user in the 28- or 72-byte form, told
// apart by length.
func (s *Sim) writeUser(data []byte) bool {
	if len(data) != zk.UserSize28 && len(data) != zk.UserSize72 {
		return false
	}
	set := binary.LittleEndian.AppendUint32(make([]byte, 0, 4+len(data)), uint32(len(data)))
	us, err := zk.ParseUserSet(append(set, data...), 1)
	if err != nil || len(us.Users) != 1 {
		return false
	}
	if err := s.dev.upsertUser(us.Users[0]); err != nil {
		s.log.Debug("user write refused", "uid", us.Users[0].UID, "err", err)
		return false
	}
	return true
}

// clearData handles CLEAR_DATA. With a 1-byte table it clears that table
// (1 attendance, 5 users; 2 fingerprints and 4 the operation log hold
// nothing here); with any other payload, none included, it wipes users and
// attendance, as the firmware does.
func (s *Sim) clearData(data []byte) {
	if len(data) != 1 {
		s.log.Warn("CLEAR_DATA without a table: wiping users and attendance")
		s.dev.clear(true, true)
		return
	}
	switch data[0] {
	case zk.FctAttLog:
		s.dev.clear(true, false)
	case zk.FctUser:
		s.dev.clear(false, true)
	}
}
