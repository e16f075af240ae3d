package zksim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/punchbox/punchbox/protocol/zk"
)

// udpReadBuf is large enough for any datagram.
const udpReadBuf = 64 << 10

// serveUDP answers datagrams, one inner packet each, until the socket
// closes. Like the firmware's single loop it serves one packet at a time,
// a range transfer included.
func (s *Sim) serveUDP(ctx context.Context, pc *net.UDPConn) error {
	buf := make([]byte, udpReadBuf)
	for {
		n, peer, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("zksim: read udp: %w", err)
		}
		p, err := zk.ParsePacket(buf[:n])
		if err != nil {
			s.log.Debug("dropping a datagram", "peer", peer, "err", err)
			continue
		}
		s.stats.command(p.Command)
		s.serveDatagram(ctx, pc, peer, p)
	}
}

// serveDatagram answers one packet from peer.
func (s *Sim) serveDatagram(ctx context.Context, pc *net.UDPConn, peer netip.AddrPort, p zk.Packet) {
	if p.Command == zk.CmdConnect {
		s.connect(ctx, &wire{pc: pc, peer: peer}, peer.String(), s.peerSession(peer), p)
		return
	}
	ss := s.session(p.Session)
	if ss == nil || ss.w.peer != peer {
		s.unknownSession(ctx, &wire{pc: pc, peer: peer}, p)
		return
	}
	if s.handle(ctx, ss, p) {
		s.closeSession(ss, "ended")
	}
}

// peerSession is the open UDP session of peer, if any.
func (s *Sim) peerSession(peer netip.AddrPort) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.sessions {
		if !ss.w.tcp() && ss.w.peer == peer {
			return ss
		}
	}
	return nil
}
