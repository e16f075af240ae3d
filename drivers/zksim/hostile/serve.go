package hostile

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

// sessionID is the id every session gets.
const sessionID = 0x4242

// writeTimeout bounds a write to a client that stopped reading.
const writeTimeout = 10 * time.Second

// maxDatagram is the largest payload a UDP event can carry.
const maxDatagram = 65000

// session is one client: a TCP connection or a UDP peer.
type session struct {
	s   *Server
	cfg Config

	conn net.Conn       // TCP
	pc   *net.UDPConn   // UDP
	peer netip.AddrPort // UDP

	wmu  sync.Mutex // one frame (or range transfer) at a time
	buf  []byte
	next uint16 // reply id of the next event

	started    time.Time // UDP: when the session began, for SessionFor
	snap       []byte    // the dataset DATA_WRRQ prepared
	registered bool      // the client asked for events
	flood      context.CancelFunc
	flooded    bool
}

func (ss *session) tcp() bool { return ss.conn != nil }

// send writes one packet.
func (ss *session) send(p zk.Packet) error {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	return ss.write(p)
}

// write writes one packet; the caller holds wmu.
func (ss *session) write(p zk.Packet) error {
	if ss.tcp() {
		ss.buf = zk.AppendTCP(ss.buf[:0], p)
		ss.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, err := ss.conn.Write(ss.buf)
		return err
	}
	ss.buf = p.Append(ss.buf[:0])
	_, err := ss.pc.WriteToUDPAddrPort(ss.buf, ss.peer)
	return err
}

func (ss *session) reply(req zk.Packet, code zk.Command, data []byte) error {
	return ss.send(zk.Packet{Command: code, Session: sessionID, Reply: req.Reply, Data: data})
}

// event sends one realtime event with the next reply id.
func (ss *session) event(ev Event) error {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	ss.next++
	if ss.next == 0 {
		ss.next = 1
	}
	data := ev.Data
	if !ss.tcp() && len(data) > maxDatagram {
		data = data[:maxDatagram]
	}
	if err := ss.write(zk.Packet{Command: zk.CmdRegEvent, Session: ev.Code, Reply: ss.next, Data: data}); err != nil {
		return err
	}
	ss.s.count(func(st *Stats) { st.EventsSent++ })
	return nil
}

// serveConn serves one TCP connection.
func (s *Server) serveConn(ctx context.Context, c net.Conn, cfg Config) {
	ctx, cancel := context.WithCancel(ctx)
	var floods sync.WaitGroup
	defer func() {
		cancel()
		c.Close()
		floods.Wait()
	}()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if cfg.SessionFor > 0 {
		t := time.AfterFunc(cfg.SessionFor, cancel)
		defer t.Stop()
	}
	s.log.Debug("hostile: connection", "config", cfg.Name, "remote", c.RemoteAddr())
	ss := &session{s: s, cfg: cfg, conn: c}
	var dec zk.TCPDecoder
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		dec.Feed(buf[:n])
		for {
			p, ok, perr := dec.Next()
			if errors.Is(perr, zk.ErrChecksum) {
				continue
			}
			if perr != nil {
				return
			}
			if !ok {
				break
			}
			if ss.handle(ctx, p, &floods) {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// serveUDP serves datagrams, one session per peer.
func (s *Server) serveUDP(ctx context.Context, pc *net.UDPConn) {
	var floods sync.WaitGroup
	defer floods.Wait()
	buf := make([]byte, 64<<10)
	for {
		n, peer, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			s.endPeers()
			return
		}
		p, err := zk.ParsePacket(buf[:n])
		if err != nil {
			continue
		}
		s.mu.Lock()
		ss := s.peers[peer.String()]
		s.mu.Unlock()
		if ss != nil && ss.cfg.SessionFor > 0 && time.Since(ss.started) > ss.cfg.SessionFor {
			// The session is over: the peer is a stranger until it connects.
			ss.endFlood()
			s.mu.Lock()
			delete(s.peers, peer.String())
			s.mu.Unlock()
			ss = nil
		}
		if p.Command == zk.CmdConnect {
			if ss != nil {
				ss.endFlood()
			}
			ss = &session{s: s, cfg: s.next(), pc: pc, peer: peer, started: time.Now()}
			s.mu.Lock()
			s.peers[peer.String()] = ss
			s.mu.Unlock()
		}
		if ss == nil {
			s.count(func(st *Stats) { st.Commands[p.Command]++ })
			zs := &session{s: s, pc: pc, peer: peer}
			zs.reply(p, zk.CmdAckUnauth, nil)
			continue
		}
		if ss.handle(ctx, p, &floods) {
			ss.endFlood()
			s.mu.Lock()
			delete(s.peers, peer.String())
			s.mu.Unlock()
		}
	}
}

func (s *Server) endPeers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, ss := range s.peers {
		ss.endFlood()
		delete(s.peers, k)
	}
}

func (ss *session) endFlood() {
	if ss.flood != nil {
		ss.flood()
	}
}

// handle answers one packet and reports whether the session ends.
func (ss *session) handle(ctx context.Context, p zk.Packet, floods *sync.WaitGroup) (end bool) {
	s, cfg := ss.s, ss.cfg
	s.count(func(st *Stats) { st.Commands[p.Command]++ })
	defer func() {
		on := cfg.FloodOn
		if on == 0 {
			on = zk.CmdRegEvent
		}
		if p.Command == on && ss.registered && len(cfg.Flood) > 0 && cfg.FloodCount != 0 && !ss.flooded {
			ss.flooded = true
			fctx, cancel := context.WithCancel(ctx)
			ss.flood = cancel
			floods.Add(1)
			go func() {
				defer floods.Done()
				ss.runFlood(fctx)
			}()
		}
	}()
	switch p.Command {
	case zk.CmdConnect:
		ev := Event{Code: zk.EventAttLog, Data: make([]byte, cfg.PreConnectSize)}
		for range cfg.PreConnect {
			if err := ss.event(ev); err != nil {
				return true
			}
		}
		ss.reply(p, zk.CmdAckOK, nil)
	case zk.CmdAckOK:
		s.count(func(st *Stats) { st.Acks++ })
	case zk.CmdExit:
		ss.reply(p, zk.CmdAckOK, nil)
		return true
	case zk.CmdOptionsRRQ:
		name := zk.CString(p.Data)
		v, ok := map[string]string{"~SerialNumber": cfg.Serial, "~Platform": cfg.Platform, "~DeviceName": cfg.DeviceName}[name]
		if !ok {
			ss.reply(p, zk.CmdAckError, nil)
			break
		}
		ss.reply(p, zk.CmdAckOK, zk.AppendOption(nil, name, v))
	case zk.CmdGetVersion:
		ss.reply(p, zk.CmdAckOK, append([]byte(cfg.Firmware), 0))
	case zk.CmdGetFreeSizes:
		ss.reply(p, zk.CmdAckOK, cfg.Sizes.Append(nil))
	case zk.CmdGetTime:
		clock := cfg.Clock
		if clock == (zk.Time{}) {
			n := time.Now().UTC()
			clock = zk.Time{Year: n.Year(), Month: n.Month(), Day: n.Day(), Hour: n.Hour(), Minute: n.Minute(), Second: n.Second()}
		}
		v, _ := zk.EncodeTime(clock)
		ss.reply(p, zk.CmdAckOK, binary.LittleEndian.AppendUint32(nil, v))
	case zk.CmdRegEvent:
		ss.reply(p, zk.CmdAckOK, nil)
		ss.registered = len(p.Data) >= 4 && binary.LittleEndian.Uint32(p.Data) != 0
	case zk.CmdDataWRRQ:
		ss.prepare(p)
	case zk.CmdDataRDY:
		return ss.readRange(p)
	case zk.CmdAuth, zk.CmdDisableDevice, zk.CmdEnableDevice, zk.CmdRefreshData, zk.CmdRefreshOption,
		zk.CmdFreeData, zk.CmdClearAttLog, zk.CmdSetTime, zk.CmdUserWRQ:
		ss.reply(p, zk.CmdAckOK, nil)
	default:
		ss.reply(p, zk.CmdAckUnknown, nil)
	}
	return false
}

// runFlood sends the configured events until FloodCount or ctx's end.
func (ss *session) runFlood(ctx context.Context) {
	cfg := ss.cfg
	for i := 0; cfg.FloodCount < 0 || i < cfg.FloodCount; i++ {
		if ctx.Err() != nil {
			return
		}
		if err := ss.event(cfg.Flood[i%len(cfg.Flood)]); err != nil {
			return
		}
		if cfg.FloodEvery > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(cfg.FloodEvery):
			}
		}
	}
	ss.s.count(func(st *Stats) { st.FloodsDone++ })
}

// prepare answers DATA_WRRQ: the dataset inline when small, else its size,
// true or announced.
func (ss *session) prepare(p zk.Packet) {
	req, err := zk.ParseWRRQ(p.Data)
	if err != nil {
		ss.reply(p, zk.CmdAckError, nil)
		return
	}
	var body []byte
	var announce uint32
	switch req.Command {
	case zk.CmdAttLogRRQ:
		body, announce = ss.cfg.Log, ss.cfg.AnnounceLog
	case zk.CmdUserTempRRQ:
		body, announce = ss.cfg.Users, ss.cfg.AnnounceUsers
	}
	set := append(binary.LittleEndian.AppendUint32(nil, uint32(len(body))), body...)
	ss.snap = set
	if announce == 0 && len(set) <= zk.MaxInlineChunk {
		ss.reply(p, zk.CmdData, set)
		return
	}
	size := uint32(len(set))
	if announce != 0 {
		size = announce
	}
	ss.reply(p, zk.CmdAckOK, zk.DataStat{Size: size}.Append(nil))
}

// readRange answers DATA_RDY from the prepared dataset.
func (ss *session) readRange(p zk.Packet) (end bool) {
	rr, err := zk.ParseReadRange(p.Data)
	if err != nil || uint64(rr.Offset)+uint64(rr.Size) > uint64(len(ss.snap)) {
		ss.s.count(func(st *Stats) { st.Refused++ })
		ss.reply(p, zk.CmdAckError, nil)
		return false
	}
	data := ss.snap[rr.Offset : rr.Offset+rr.Size]
	if rr.Size <= zk.MaxInlineChunk {
		ss.reply(p, zk.CmdData, data)
		return false
	}
	psize := zk.UDPPacket
	if ss.tcp() {
		psize = zk.TCPPacket
	}
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	prep := zk.PrepareData{Size: rr.Size, PacketSize: uint32(psize)}
	if ss.write(zk.Packet{Command: zk.CmdPrepareData, Session: sessionID, Reply: p.Reply, Data: prep.Append(nil)}) != nil {
		return true
	}
	for i, off := 0, 0; off < len(data); i++ {
		n := min(psize, len(data)-off)
		if ss.write(zk.Packet{Command: zk.CmdData, Session: uint16(i), Reply: p.Reply, Data: data[off : off+n]}) != nil {
			return true
		}
		off += n
	}
	return ss.write(zk.Packet{Command: zk.CmdAckOK, Session: sessionID, Reply: p.Reply}) != nil
}
