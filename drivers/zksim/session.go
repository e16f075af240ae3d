package zksim

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

// session is one client session, from CONNECT to EXIT (or the end of its
// TCP connection, or idleness on UDP).
type session struct {
	id     uint16
	w      *wire
	remote string
	done   chan struct{} // closed when the session ends
	kick   chan struct{} // wakes the event pump (capacity 1)

	mu         sync.Mutex // guards the fields below; taken after Sim.mu and wire.mu
	closed     bool
	authed     bool
	lastActive time.Time     // the last packet received (monotonic)
	disableFor time.Duration // DISABLEDEVICE time-out; 0 = none
	mask       uint32        // realtime event mask
	events     []*event      // unacknowledged events, oldest first
	eventBytes int           // their total packet length
	nextEvent  uint16        // reply id of the next event; never 0
	snapshot   []byte        // the dataset prepared by DATA_WRRQ
}

// openSession registers a new session on w with a fresh non-zero random id
// and starts its event pump. It returns nil while Run shuts down.
func (s *Sim) openSession(ctx context.Context, w *wire, remote string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return nil
	}
	id := uint16(rand.N(65535) + 1)
	for s.sessions[id] != nil {
		id = uint16(rand.N(65535) + 1)
	}
	ss := &session{
		id: id, w: w, remote: remote,
		done:       make(chan struct{}),
		kick:       make(chan struct{}, 1),
		authed:     s.cfg.CommKey == 0,
		lastActive: time.Now(),
		nextEvent:  1,
	}
	s.sessions[id] = ss
	s.stats.sessionOpened()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.pump(ctx, ss)
	}()
	s.log.Debug("session opened", "session", id, "remote", remote, "tcp", w.tcp())
	return ss
}

// closeSession ends ss: it leaves the registry, drops its events and
// snapshot and stops its pump. A TCP session's connection is closed too.
// Its disable time-out, if any, keeps running.
func (s *Sim) closeSession(ss *session, why string) {
	s.mu.Lock()
	if s.sessions[ss.id] == ss {
		delete(s.sessions, ss.id)
	}
	s.mu.Unlock()
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return
	}
	ss.closed = true
	ss.events, ss.eventBytes, ss.snapshot = nil, 0, nil
	close(ss.done)
	ss.mu.Unlock()
	s.stats.sessionClosed()
	s.log.Debug("session closed", "session", ss.id, "remote", ss.remote, "why", why)
}

// closeAllSessions ends every session and closes their TCP connections, as
// a restart or shutdown does.
func (s *Sim) closeAllSessions() {
	s.mu.Lock()
	all := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	for _, ss := range all {
		s.closeSession(ss, "shutdown")
		ss.w.close()
	}
}

// session returns the open session with id.
func (s *Sim) session(id uint16) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

// connect answers CONNECT on w: it ends old (the previous session on this
// TCP connection or from this UDP peer), opens a new session and replies
// ACK_OK, or ACK_UNAUTH when a comm key is set, with the new session id.
func (s *Sim) connect(ctx context.Context, w *wire, remote string, old *session, req zk.Packet) *session {
	if old != nil {
		s.closeSession(old, "reconnect")
	}
	ss := s.openSession(ctx, w, remote)
	if ss == nil {
		return nil
	}
	code := zk.CmdAckOK
	if s.cfg.CommKey != 0 {
		code = zk.CmdAckUnauth
	}
	if err := s.reply(ctx, ss, req, code, nil); err != nil {
		s.log.Debug("connect reply", "remote", remote, "err", err)
	}
	return ss
}

// touch records that a packet arrived from the session.
func (ss *session) touch() {
	ss.mu.Lock()
	ss.lastActive = time.Now()
	ss.mu.Unlock()
}

func (ss *session) isAuthed() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.authed
}

// setDisableTimeout starts (d > 0) or stops the session's auto-enable
// time-out, counted from its last packet.
func (s *Sim) setDisableTimeout(ss *session, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss.mu.Lock()
	ss.disableFor = d
	ss.mu.Unlock()
	if d > 0 {
		s.timers[ss] = struct{}{}
	} else {
		delete(s.timers, ss)
	}
}

// expireDisables re-enables the device for every session, open or gone,
// whose disable time-out has passed in silence.
func (s *Sim) expireDisables(now time.Time) {
	s.mu.Lock()
	var fired []*session
	for ss := range s.timers {
		ss.mu.Lock()
		if ss.disableFor > 0 && now.Sub(ss.lastActive) >= ss.disableFor {
			ss.disableFor = 0
			fired = append(fired, ss)
		}
		stopped := ss.disableFor == 0
		ss.mu.Unlock()
		if stopped {
			delete(s.timers, ss)
		}
	}
	s.mu.Unlock()
	for _, ss := range fired {
		if s.dev.setDisabled(false) {
			s.stats.autoEnabled()
			s.log.Info("device re-enabled: disable time-out passed", "session", ss.id)
		}
	}
}

// expireIdle drops UDP sessions silent for longer than SessionIdle.
func (s *Sim) expireIdle(now time.Time) {
	s.mu.Lock()
	var idle []*session
	for _, ss := range s.sessions {
		if ss.w.tcp() {
			continue
		}
		ss.mu.Lock()
		if now.Sub(ss.lastActive) >= s.cfg.SessionIdle {
			idle = append(idle, ss)
		}
		ss.mu.Unlock()
	}
	s.mu.Unlock()
	for _, ss := range idle {
		s.closeSession(ss, "idle")
	}
}
