package zkpull

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/protocol/zk"
)

// handleEvent stores a live punch and only then acknowledges it. What
// cannot be a punch is counted, logged without flooding (see ratelog) and
// acknowledged, so the terminal stops sending it: the log read finds the
// punch if the terminal logged one.
func (s *session) handleEvent(ctx context.Context, ev zk.Packet) error {
	t := s.t
	switch ev.Session {
	case zk.EventAttLog:
		e, err := zk.ParseAttLogEvent(ev.Data)
		if err != nil {
			s.malformedEvent(ctx, "malformed live punch", ev, err)
			return s.c.AckEvent(ev)
		}
		if e.State&zk.StateRepeat != 0 {
			t.log.Debug("terminal flagged a live punch as a repeat; not a log record", "pin", e.UserID)
			return s.c.AckEvent(ev)
		}
		pin := e.UserID
		if e.ByUID {
			if pin, err = s.pinOf(ctx, e.UID); isRefused(err) {
				s.malformedEvent(ctx, "unusable live punch", ev, err)
				return s.c.AckEvent(ev)
			} else if err != nil {
				return err
			}
		}
		p := s.punch(pin, punchbox.LocalTime(e.Time), e.State, e.Verify, e.WorkCode, punchbox.SourceLive)
		if err := s.implausiblePunch(p); err != nil {
			s.malformedEvent(ctx, "unusable live punch", ev, err)
			return s.c.AckEvent(ev)
		}
		if err := t.deps.Sink.Put(ctx, []punchbox.Punch{p}); err != nil {
			return fmt.Errorf("store live punch: %w", err) // not acked: the terminal sends it again
		}
		if err := s.c.AckEvent(ev); err != nil {
			return err
		}
		// The punch is the terminal's newest log record, unless the log
		// read that just ended found it already or it is a copy the
		// terminal sent again (its acknowledgement crossed the copy, or it
		// came before the first was stored).
		if !s.lastRead[p.ID] && !s.live.seen(p.ID) {
			t.mu.Lock()
			t.cursor.Records++
			t.cursor.LastID, t.cursor.LastTime = p.ID, p.Local.String()
			t.mu.Unlock()
			s.dirty, s.lastGood = true, p.ID
		}
		t.contact()
	case zk.EventAlarm:
		a, err := zk.ParseAlarmEvent(ev.Data)
		if err != nil {
			s.malformedEvent(ctx, "malformed alarm", ev, err)
		} else {
			// One kind per alarm the protocol names, one for all others: a
			// terminal inventing alarm types must not invent log lines.
			kind := "alarm of another type"
			if a.Known() {
				kind = "alarm " + a.String()
			}
			t.rl.Log(ctx, slog.LevelWarn, kind, "terminal alarm", "alarm", a.String())
		}
		return s.c.AckEvent(ev)
	default:
		t.rl.Log(ctx, slog.LevelDebug, "other event", "terminal event of no interest", "code", ev.Session, "bytes", len(ev.Data))
		return s.c.AckEvent(ev)
	}
	return nil
}

// pinOf maps an internal UID to its PIN, reading the users when needed,
// at most once between two polls: a UID no user has (a user deleted since,
// or a terminal that makes UIDs up) must not cost a read of the whole user
// table per punch. Users the box refuses to read (see ReadUserSet) are not
// asked for again until the next poll either.
func (s *session) pinOf(ctx context.Context, uid uint16) (string, error) {
	if pin, ok := s.users[uid]; ok {
		return pin, nil
	}
	if s.usersErr != nil {
		return "", s.usersErr
	}
	if s.usersFresh {
		return strconv.Itoa(int(uid)), nil
	}
	if err := s.loadUsers(ctx); err != nil {
		if isRefused(err) {
			s.usersErr = err
		}
		return "", err
	}
	if pin, ok := s.users[uid]; ok {
		return pin, nil
	}
	// A user deleted since: keep the number, as the terminal's own reports do.
	return strconv.Itoa(int(uid)), nil
}

// userCount reads the terminal's user count now, as a hint for the record
// size of its users: the count of the last poll may be stale (a user
// enrolled or written since). It is 0 (unknown) when the terminal does not
// say, or says more than any terminal holds.
func (s *session) userCount(ctx context.Context) int {
	sz, err := s.c.Sizes(ctx)
	if err != nil || sz.Users <= 0 || sz.Users > MaxUsers {
		return 0
	}
	return sz.Users
}

func (s *session) loadUsers(ctx context.Context) error {
	us, err := s.c.ReadUserSet(ctx, s.userCount(ctx))
	if err != nil {
		return err
	}
	if us.Skipped > 0 || us.Trailing > 0 {
		s.t.rl.Log(ctx, slog.LevelWarn, "bad users", "left out user records that cannot be users",
			"records", us.Skipped, "partial_bytes", us.Trailing)
	}
	s.users = make(map[uint16]string, len(us.Users))
	for _, u := range us.Users {
		s.users[u.UID] = u.UserID
	}
	s.userSize, s.usersFresh = us.Size, true
	return nil
}

// recentLive remembers the ids of the last live punches stored, so that a
// copy of one, sent again, is not counted as a new record of the log.
type recentLive struct {
	ids  [recentLiveN]string
	next int
	set  map[string]bool
}

// recentLiveN is how many live punch ids are remembered: more than a
// terminal keeps unacknowledged (80 events).
const recentLiveN = 128

// seen reports whether id is among the last live punches, and remembers it.
func (r *recentLive) seen(id string) bool {
	if r.set[id] {
		return true
	}
	if r.set == nil {
		r.set = make(map[string]bool, recentLiveN)
	}
	delete(r.set, r.ids[r.next])
	r.ids[r.next], r.set[id] = id, true
	r.next = (r.next + 1) % recentLiveN
	return false
}
