package zkpull

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	// usersErr is why the users could not be read this session; they are
	// not asked for again until the next poll. usersFresh is set once they
	// were read since the last poll.
	usersErr   error
	usersFresh bool
	// dirty is set when the cursor changed since it was saved.
	dirty bool
	// lastRead holds the ids of the last records the latest log read
	// found, so that a live event for one of them does not count twice.
	lastRead map[string]bool
	// lastGood is the id of the newest punch stored from the log.
	lastGood string
	// live remembers the last live punches stored.
	live recentLive
	// clock is the terminal's last clock reading as a naive wall time in
	// UTC, clockAt the box's time then; clockOK once it read as a date.
	clock, clockAt time.Time
	clockOK        bool
}

// recentReads is how many of the last records read are remembered.
const recentReads = 256

// start learns who the terminal is, reads what it holds that the box has
// not seen, and subscribes to live punches.
func (s *session) start(ctx context.Context) error {
	t := s.t
	info, err := identify(ctx, s.c)
	if err != nil {
		return err
	}
	s.info = info
	serial := info.Serial
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

// identify reads who the terminal is: its serial number, which must be
// usable once cleaned, and the optional identity older firmware may lack,
// every string cleaned and bounded.
func identify(ctx context.Context, c *Client) (drivers.Info, error) {
	raw, err := c.Option(ctx, "~SerialNumber")
	if err != nil {
		return drivers.Info{}, err
	}
	serial := zk.CleanString(raw, drivers.MaxInfoText+1)
	if !punchbox.ValidIdent(serial) {
		return drivers.Info{}, fmt.Errorf("terminal reports an unusable serial number %q", zk.CleanString(raw, drivers.MaxInfoText))
	}
	info := drivers.Info{Serial: serial, Transport: c.Transport()}
	text := func(v string, _ error) string { return zk.CleanString(v, drivers.MaxInfoText) }
	info.Platform = text(c.Option(ctx, "~Platform"))
	info.DeviceName = text(c.Option(ctx, "~DeviceName"))
	info.Firmware = text(c.Version(ctx))
	return info, ctx.Err()
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
			s.run(ctx, cmd)
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
// count says it holds punches the box has not seen (always when force). A
// log the box refuses is reported, and the session goes on.
func (s *session) poll(ctx context.Context, force bool) error {
	t := s.t
	sizes, err := s.c.Sizes(ctx)
	countKnown := err == nil
	var re zk.ReplyError
	if err != nil && !errors.Is(err, zk.ErrBadLength) && !errors.As(err, &re) {
		return err
	}
	if countKnown {
		s.info.Users, s.info.Records = sane(sizes.Users), sane(sizes.Records)
		s.info.UserCap, s.info.RecordCap = sane(sizes.UserCap), sane(sizes.RecordCap)
	}
	if err := s.readClock(ctx); err != nil {
		return err
	}
	s.usersErr, s.usersFresh = nil, false // worth another try
	s.report()
	t.mu.Lock()
	seen := t.cursor.Records
	t.mu.Unlock()
	if force || !countKnown || sizes.Records != seen {
		if _, err := s.reconcile(ctx, false); err != nil && !isRefused(err) {
			return err
		}
	}
	if err := s.maybeClear(ctx); err != nil {
		return err
	}
	return s.saveCursor(ctx)
}

// saneCount is a record count the terminal reported, as a hint for the
// record size: 0 (unknown) when it is negative or more than any terminal
// holds.
func (s *session) saneCount(n int) int {
	if n <= 0 || n > MaxLogRecords {
		return 0
	}
	return n
}

// readClock measures the terminal's clock against the box's. A reading
// that is no date is no clock: the offset is not updated, and records are
// not compared with it.
func (s *session) readClock(ctx context.Context) error {
	before := s.t.deps.Now()
	tm, err := s.c.Time(ctx)
	if err != nil {
		return err
	}
	after := s.t.deps.Now()
	if !zk.RealDate(tm) {
		s.clockOK = false
		s.t.rl.Log(ctx, slog.LevelWarn, "clock", "the terminal's clock reads no date", "clock", tm.String())
		return nil
	}
	box := before.Add(after.Sub(before) / 2)
	// The terminal's reading is truncated to the second: its true time lies
	// half a second later on average.
	term := punchbox.LocalTime(tm).In(s.t.loc).Add(500 * time.Millisecond)
	s.info.ClockOffset = term.Sub(box).Round(time.Second)
	s.info.ClockRead = after
	s.clock, s.clockAt, s.clockOK = punchbox.LocalTime(tm).In(time.UTC), after, true
	return nil
}

// report hands the terminal's Info, with what the driver set aside, to the
// supervisor. It runs on each poll and read, not on every event, so that a
// flood of garbage cannot flood the health's consumers either.
func (s *session) report() {
	t := s.t
	t.mu.Lock()
	s.info.RejectedRecords, s.info.MalformedEvents = t.tally.rejected, t.tally.malformed
	s.info.DroppedEvents, s.info.LogError = t.tally.dropped, t.tally.logError
	t.mu.Unlock()
	t.report(s.info)
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
	t.tally.rejected = c.Rejected
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

// run runs a command for its caller. Should the command crash the driver,
// the caller gets the crash as its answer at once (instead of waiting for
// its own deadline), and the panic goes on to the supervisor, which makes
// it the terminal's error.
func (s *session) run(ctx context.Context, cmd command) {
	answered := false
	defer func() {
		if v := recover(); v != nil {
			if !answered {
				cmd.done <- &drivers.PanicError{Value: v}
			}
			panic(v)
		}
	}()
	err := cmd.fn(ctx, s)
	answered = true
	cmd.done <- err
}
