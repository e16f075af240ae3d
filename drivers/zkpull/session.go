package zkpull

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/protocol/zk"
)

// eventWait is the longest the session waits for a realtime event before it
// looks at commands and timers again.
const eventWait = 200 * time.Millisecond

// session is one connection's work, owned by the Run goroutine.
type session struct {
	t    *Terminal
	c    *Client
	info drivers.Info
	// users maps internal UIDs to PINs, for 8-byte records and UID events;
	// userSize is the terminal's user record size (0 until read).
	users    map[uint16]string
	userSize int
	// dirty is set when the cursor changed since it was saved.
	dirty bool
	// lastRead holds the ids of the last records the latest log read
	// found, so that a live event for one of them does not count twice.
	lastRead map[string]bool
}

// recentReads is how many of the last records read are remembered.
const recentReads = 256

// start learns who the terminal is, reads what it holds that the box has
// not seen, and subscribes to live punches.
func (s *session) start(ctx context.Context) error {
	t := s.t
	serial, err := s.c.Option(ctx, "~SerialNumber")
	if err != nil {
		return err
	}
	if !punchbox.ValidIdent(serial) {
		return fmt.Errorf("terminal reports an unusable serial number %q", serial)
	}
	s.info = drivers.Info{Serial: serial, Transport: s.c.Transport()}
	// Optional identity: older firmware lacks some options.
	s.info.Platform, _ = s.c.Option(ctx, "~Platform")
	s.info.DeviceName, _ = s.c.Option(ctx, "~DeviceName")
	s.info.Firmware, _ = s.c.Version(ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := t.loadCursor(ctx); err != nil {
		return err
	}
	t.mu.Lock()
	if t.cursor.Serial != "" && t.cursor.Serial != serial {
		t.log.Warn("another terminal answers at this address; reading its log from the start", "address", t.addr, "serial", serial, "was", t.cursor.Serial)
		t.cursor = drivers.Cursor{}
	}
	t.cursor.Serial = serial
	t.mu.Unlock()

	if t.deps.Report != nil {
		t.deps.Report.State(drivers.StateOnline, nil)
	}
	t.log.Debug("connected", "transport", s.c.Transport(), "serial", serial, "platform", s.info.Platform, "firmware", s.info.Firmware)
	// Subscribe before reading, so that no punch falls between the read and
	// the subscription; events for punches the read also finds are kept
	// until it ends and then stored again, harmlessly.
	if *t.opts.Live {
		if err := s.c.RegisterEvents(ctx, uint32(zk.EventAttLog|zk.EventAlarm)); err != nil {
			return err
		}
	}
	return s.poll(ctx, true)
}

// loop handles live punches, commands and the periodic poll until the link
// fails or ctx ends.
func (s *session) loop(ctx context.Context) error {
	tick := time.NewTicker(s.t.opts.PollInterval.D())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case cmd := <-s.t.cmds:
			cmd.done <- cmd.fn(ctx, s)
			continue
		case <-tick.C:
			if err := s.poll(ctx, false); err != nil {
				return err
			}
			continue
		default:
		}
		ev, ok, err := s.c.NextEvent(ctx, eventWait)
		if err != nil {
			return err
		}
		if ok {
			if err := s.handleEvent(ctx, ev); err != nil {
				return err
			}
		}
	}
}

// poll reads the clock and the record count, and reads the log when the
// count says it holds punches the box has not seen (always when force).
func (s *session) poll(ctx context.Context, force bool) error {
	t := s.t
	sizes, err := s.c.Sizes(ctx)
	countKnown := err == nil
	var re zk.ReplyError
	if err != nil && !errors.Is(err, zk.ErrBadLength) && !errors.As(err, &re) {
		return err
	}
	if countKnown {
		s.info.Users, s.info.Records = sizes.Users, sizes.Records
		s.info.UserCap, s.info.RecordCap = sizes.UserCap, sizes.RecordCap
	}
	if err := s.readClock(ctx); err != nil {
		return err
	}
	t.report(s.info)
	t.mu.Lock()
	seen := t.cursor.Records
	t.mu.Unlock()
	if force || !countKnown || sizes.Records != seen {
		if _, err := s.reconcile(ctx, false, sizes.Records); err != nil {
			return err
		}
	}
	if err := s.maybeClear(ctx); err != nil {
		return err
	}
	return s.saveCursor(ctx)
}

// readClock measures the terminal's clock against the box's.
func (s *session) readClock(ctx context.Context) error {
	before := s.t.deps.Now()
	tm, err := s.c.Time(ctx)
	if err != nil {
		return err
	}
	after := s.t.deps.Now()
	box := before.Add(after.Sub(before) / 2)
	// The terminal's reading is truncated to the second: its true time lies
	// half a second later on average.
	term := punchbox.LocalTime(tm).In(s.t.loc).Add(500 * time.Millisecond)
	s.info.ClockOffset = term.Sub(box).Round(time.Second)
	s.info.ClockRead = after
	return nil
}

// handleEvent stores a live punch and only then acknowledges it.
func (s *session) handleEvent(ctx context.Context, ev zk.Packet) error {
	t := s.t
	switch ev.Session {
	case zk.EventAttLog:
		e, err := zk.ParseAttLogEvent(ev.Data)
		if err != nil {
			// Nothing can be stored from it; the log read will find the
			// punch if the terminal logged one.
			t.log.Warn("malformed live punch; the next log read recovers it", "err", err, "bytes", len(ev.Data))
			return s.c.AckEvent(ev)
		}
		if e.State&zk.StateRepeat != 0 {
			t.log.Debug("terminal flagged a live punch as a repeat; not a log record", "pin", e.UserID)
			return s.c.AckEvent(ev)
		}
		pin := e.UserID
		if e.ByUID {
			if pin, err = s.pinOf(ctx, e.UID); err != nil {
				return err
			}
		}
		p := s.punch(pin, punchbox.LocalTime(e.Time), e.State, e.Verify, e.WorkCode, punchbox.SourceLive)
		if err := p.Validate(); err != nil {
			t.log.Warn("unusable live punch; the next log read recovers it", "err", err)
			return s.c.AckEvent(ev)
		}
		if err := t.deps.Sink.Put(ctx, []punchbox.Punch{p}); err != nil {
			return fmt.Errorf("store live punch: %w", err) // not acked: the terminal sends it again
		}
		if err := s.c.AckEvent(ev); err != nil {
			return err
		}
		// The punch is the terminal's newest log record, unless the log
		// read that just ended found it already.
		if !s.lastRead[p.ID] {
			t.mu.Lock()
			t.cursor.Records++
			t.cursor.LastID, t.cursor.LastTime = p.ID, p.Local.String()
			t.mu.Unlock()
			s.dirty = true
		}
		t.contact()
	case zk.EventAlarm:
		a, err := zk.ParseAlarmEvent(ev.Data)
		if err == nil {
			t.log.Warn("terminal alarm", "alarm", a.String())
		}
		return s.c.AckEvent(ev)
	default:
		return s.c.AckEvent(ev)
	}
	return nil
}

// punch builds a Punch read from this terminal.
func (s *session) punch(pin string, local punchbox.LocalTime, state, verify uint8, workCode uint32, src punchbox.Source) punchbox.Punch {
	wc := ""
	if workCode != 0 {
		wc = strconv.FormatUint(uint64(workCode), 10)
	}
	return punchbox.NewPunch(s.t.cfg.ID, s.info.Serial, pin, local, s.t.loc,
		punchbox.PunchState(state), punchbox.VerifyMode(verify), wc, src, s.t.deps.Now())
}

// pinOf maps an internal UID to its PIN, reading the users once per
// session when needed.
func (s *session) pinOf(ctx context.Context, uid uint16) (string, error) {
	if pin, ok := s.users[uid]; ok {
		return pin, nil
	}
	if err := s.loadUsers(ctx); err != nil {
		return "", err
	}
	if pin, ok := s.users[uid]; ok {
		return pin, nil
	}
	// A user deleted since: keep the number, as the terminal's own reports do.
	return strconv.Itoa(int(uid)), nil
}

func (s *session) loadUsers(ctx context.Context) error {
	users, size, err := s.c.ReadUsers(ctx, s.info.Users)
	if err != nil {
		return err
	}
	s.users = make(map[uint16]string, len(users))
	for _, u := range users {
		s.users[u.UID] = u.UserID
	}
	s.userSize = size
	return nil
}

func (s *session) saveCursor(ctx context.Context) error {
	t := s.t
	if !s.dirty || t.deps.State == nil {
		return nil
	}
	t.mu.Lock()
	c := t.cursor
	t.mu.Unlock()
	if err := t.deps.State.SaveCursor(ctx, t.cfg.ID, c); err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	s.dirty = false
	return nil
}

func (t *Terminal) loadCursor(ctx context.Context) error {
	t.mu.Lock()
	loaded := t.loaded
	t.mu.Unlock()
	if loaded || t.deps.State == nil {
		return nil
	}
	c, err := t.deps.State.LoadCursor(ctx, t.cfg.ID)
	if err != nil {
		return fmt.Errorf("load cursor: %w", err)
	}
	t.mu.Lock()
	t.cursor, t.loaded = c, true
	t.mu.Unlock()
	return nil
}

func (t *Terminal) report(info drivers.Info) {
	if t.deps.Report != nil {
		t.deps.Report.Info(info)
	}
}

func (t *Terminal) contact() {
	if t.deps.Report != nil {
		t.deps.Report.Contact()
	}
}
