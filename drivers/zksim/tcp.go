package zksim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

// acceptTCP accepts connections until the listener closes.
func (s *Sim) acceptTCP(ctx context.Context, ln net.Listener) error {
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// Out of file descriptors and the like: back off, as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Debug("accept", "err", err, "retry_in", delay)
			if !sleep(ctx, delay) {
				return nil
			}
			continue
		}
		delay = 0
		if !s.trackConn(c) {
			c.Close()
			return nil
		}
		s.stats.connection()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrackConn(c)
			s.serveConn(ctx, c)
		}()
	}
}

// trackConn records an open connection; it refuses while Run shuts down.
func (s *Sim) trackConn(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Sim) untrackConn(c net.Conn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// tcpReadBuf is the read size; frames may be split or merged across reads.
const tcpReadBuf = 64 << 10

// serveConn reads the frames of one TCP connection and answers them. The
// connection holds at most one session at a time.
func (s *Sim) serveConn(ctx context.Context, c net.Conn) {
	remote := c.RemoteAddr().String()
	s.log.Debug("connection accepted", "remote", remote)
	w := &wire{conn: c}
	var ss *session
	defer func() {
		if ss != nil {
			s.closeSession(ss, "connection closed")
		}
	}()
	var dec zk.TCPDecoder
	buf := make([]byte, tcpReadBuf)
	for {
		n, rerr := c.Read(buf)
		dec.Feed(buf[:n])
		for {
			p, ok, err := dec.Next()
			if errors.Is(err, zk.ErrChecksum) {
				s.log.Debug("dropping a packet with a bad checksum", "remote", remote, "command", p.Command)
				continue
			}
			if err != nil {
				s.log.Debug("closing a broken stream", "remote", remote, "err", err)
				return
			}
			if !ok {
				break
			}
			s.stats.command(p.Command)
			switch {
			case p.Command == zk.CmdConnect:
				if ss = s.connect(ctx, w, remote, ss, p); ss == nil {
					return
				}
			case ss == nil || p.Session != ss.id:
				s.unknownSession(ctx, w, p)
			default:
				if s.handle(ctx, ss, p) {
					return
				}
			}
		}
		if rerr != nil {
			s.log.Debug("connection ended", "remote", remote, "err", rerr)
			return
		}
	}
}

// unknownSession answers a packet that names no session of its peer with
// ACK_UNAUTH; acknowledgements are ignored.
func (s *Sim) unknownSession(ctx context.Context, w *wire, p zk.Packet) {
	if p.Command == zk.CmdAckOK {
		return
	}
	if err := s.replyOn(ctx, w, zk.Packet{Command: zk.CmdAckUnauth, Session: p.Session, Reply: p.Reply}); err != nil {
		s.log.Debug("reply", "err", fmt.Errorf("unknown session %d: %w", p.Session, err))
	}
}
