package zksim

import (
	"context"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

// Realtime events. Each session queues its unacknowledged events; its pump
// sends new ones at once and resends each pending one every ResendEvery
// until the client answers CMD_ACK_OK with the session id and the event's
// reply id.

// Event queue limits per session, those of the firmware: 80 events or 1024
// bytes of packets, whichever comes first; the oldest go first.
const (
	maxQueuedEvents = 80
	maxQueuedBytes  = 1024
)

// event is one queued realtime event.
type event struct {
	pkt  zk.Packet // command 500, session slot = event code, reply slot = id
	sent time.Time // zero until first sent
}

// broadcast queues an EF_ATTLOG event for a to every subscribed session.
func (s *Sim) broadcast(a zk.Attendance) {
	payload, err := zk.AppendAttLogEvent(nil, zk.AttLogEvent{
		UserID: a.UserID, UID: a.UID, Verify: a.Verify, State: a.State, Time: a.Time, WorkCode: a.WorkCode,
	}, s.cfg.EventForm)
	if err != nil {
		s.log.Warn("punch without a realtime event: the event form cannot carry it", "pin", a.UserID, "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.sessions {
		ss.mu.Lock()
		if !ss.closed && ss.mask&uint32(zk.EventAttLog) != 0 {
			s.enqueue(ss, zk.EventAttLog, payload)
		}
		ss.mu.Unlock()
	}
}

// enqueue adds an event to ss's queue and wakes its pump. The caller holds
// ss.mu.
func (s *Sim) enqueue(ss *session, code uint16, payload []byte) {
	id := ss.nextEvent
	ss.nextEvent++
	if ss.nextEvent == 0 {
		ss.nextEvent = 1
	}
	ev := &event{pkt: zk.Packet{Command: zk.CmdRegEvent, Session: code, Reply: id, Data: payload}}
	ss.events = append(ss.events, ev)
	ss.eventBytes += ev.pkt.Len()
	for len(ss.events) > maxQueuedEvents || (ss.eventBytes > maxQueuedBytes && len(ss.events) > 1) {
		old := ss.events[0]
		ss.events = ss.events[1:]
		ss.eventBytes -= old.pkt.Len()
		s.log.Debug("event queue full: dropping the oldest", "session", ss.id, "reply", old.pkt.Reply)
	}
	select {
	case ss.kick <- struct{}{}:
	default:
	}
}

// ackEvent removes the event with reply id from ss's queue.
func (s *Sim) ackEvent(ss *session, reply uint16) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for i, ev := range ss.events {
		if ev.pkt.Reply == reply {
			ss.events = append(ss.events[:i], ss.events[i+1:]...)
			ss.eventBytes -= ev.pkt.Len()
			s.stats.eventAcked()
			return
		}
	}
	s.log.Debug("acknowledgement for no pending event", "session", ss.id, "reply", reply)
}

// pump sends ss's events until the session or Run ends.
func (s *Sim) pump(ctx context.Context, ss *session) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ss.done:
			return
		case <-ss.kick:
		case <-t.C:
		}
		if next := s.flushEvents(ss); next > 0 {
			t.Reset(next)
		}
	}
}

// flushEvents sends the events of ss that were never sent or are due for a
// resend, and returns how long until the next one is due (0: none pending).
func (s *Sim) flushEvents(ss *session) time.Duration {
	ss.w.mu.Lock() // waits for a transfer in progress to finish
	defer ss.w.mu.Unlock()
	now := time.Now()
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return 0
	}
	var due []zk.Packet
	next := time.Duration(0)
	for _, ev := range ss.events {
		if ev.sent.IsZero() || now.Sub(ev.sent) >= s.cfg.ResendEvery {
			if ev.sent.IsZero() {
				s.stats.eventSent()
			} else {
				s.stats.eventResent()
			}
			ev.sent = now
			due = append(due, ev.pkt)
		}
		wait := s.cfg.ResendEvery - now.Sub(ev.sent)
		if next == 0 || wait < next {
			next = max(wait, time.Millisecond)
		}
	}
	ss.mu.Unlock()
	for _, p := range due {
		if err := ss.w.send(p, false); err != nil {
			s.log.Debug("event", "session", ss.id, "err", err)
			break
		}
	}
	return next
}

// pendingEvents counts unacknowledged events over the open sessions.
func (s *Sim) pendingEvents() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.sessions {
		ss.mu.Lock()
		n += len(ss.events)
		ss.mu.Unlock()
	}
	return n
}
