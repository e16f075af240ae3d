package zkpull

import (
	"context"
	"fmt"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/internal/ratelog"
	"github.com/punchbox/punchbox/protocol/zk"
)

// SetTime implements drivers.Commander: the terminal's clock is set to at,
// read in the terminal's zone.
func (t *Terminal) SetTime(ctx context.Context, at time.Time) error {
	return t.do(ctx, func(ctx context.Context, s *session) error {
		if err := s.c.SetTime(ctx, zk.Time(t.localTime(at))); err != nil {
			return err
		}
		if err := s.readClock(ctx); err != nil {
			return err
		}
		t.report(s.info)
		t.log.Info("set the terminal's clock", "to", t.localTime(at).String(), "offset_now", s.info.ClockOffset)
		return nil
	})
}

// PullNow implements drivers.Commander: the whole log is read at once.
func (t *Terminal) PullNow(ctx context.Context) (drivers.PullResult, error) {
	var res drivers.PullResult
	err := t.do(ctx, func(ctx context.Context, s *session) error {
		var err error
		if res, err = s.reconcile(ctx, true); err != nil {
			return err
		}
		return s.maybeClear(ctx)
	})
	return res, err
}

// ReadUsers implements drivers.Commander.
func (t *Terminal) ReadUsers(ctx context.Context) ([]punchbox.Employee, error) {
	var out []punchbox.Employee
	err := t.do(ctx, func(ctx context.Context, s *session) error {
		users, _, err := s.c.ReadUsers(ctx, s.userCount(ctx))
		if err != nil {
			return err
		}
		out = make([]punchbox.Employee, 0, len(users))
		for _, u := range users {
			out = append(out, employeeOf(u))
		}
		return nil
	})
	return out, err
}

// WriteUsers implements drivers.Commander: each employee is written to the
// user with the same PIN, or to a new user.
func (t *Terminal) WriteUsers(ctx context.Context, emps []punchbox.Employee) error {
	return t.do(ctx, func(ctx context.Context, s *session) error {
		us, err := s.c.ReadUserSet(ctx, s.userCount(ctx))
		if err != nil {
			return err
		}
		users, size := us.Users, us.Size
		if size == 0 {
			size = zk.UserSize72
			if s.info.Platform != "" && !t.extendedUsers(ctx, s) {
				size = zk.UserSize28
			}
		}
		byPIN := make(map[string]zk.User, len(users))
		next := max(uint16(1), us.MaxUID+1) // past every record, those left out included
		for _, u := range users {
			byPIN[u.UserID] = u
			next = max(next, u.UID+1)
		}
		for _, e := range emps {
			u, ok := byPIN[e.PIN]
			if !ok {
				u = zk.User{UID: next, UserID: e.PIN, Group: 1}
				next++
			}
			u.Name = e.Name
			u.Privilege = privilegeByte(e)
			if e.Card != "" {
				var card uint32
				if _, err := fmt.Sscan(e.Card, &card); err != nil {
					return fmt.Errorf("employee %s: card %q is not a number", e.PIN, e.Card)
				}
				u.Card = card
			}
			if err := s.c.WriteUser(ctx, u, size); err != nil {
				return err
			}
		}
		if err := s.c.Refresh(ctx); err != nil {
			return err
		}
		s.users, s.usersFresh = nil, false // re-read on next need
		t.log.Info("wrote users to the terminal", "users", len(emps))
		return nil
	})
}

// extendedUsers asks whether the terminal uses 72-byte users.
func (t *Terminal) extendedUsers(ctx context.Context, s *session) bool {
	v, err := s.c.Option(ctx, "~UserExtFmt")
	return err != nil || v != "0"
}

func employeeOf(u zk.User) punchbox.Employee {
	e := punchbox.Employee{
		PIN:       u.UserID,
		Name:      u.Name,
		Privilege: punchbox.Privilege(u.Privilege & zk.PrivRoleMask),
		Disabled:  u.Privilege&zk.PrivDisabled != 0,
	}
	if u.Card != 0 {
		e.Card = fmt.Sprint(u.Card)
	}
	return e
}

func privilegeByte(e punchbox.Employee) uint8 {
	b := uint8(e.Privilege) & zk.PrivRoleMask
	if e.Disabled {
		b |= zk.PrivDisabled
	}
	return b
}

// Probe implements drivers.Prober: a short session of its own that reads
// the terminal's identity, counts and clock, without touching the log.
func (t *Terminal) Probe(ctx context.Context) (drivers.Info, error) {
	c, err := t.dial(ctx)
	if err != nil {
		return drivers.Info{}, err
	}
	defer c.Close()
	return Inspect(ctx, c, t.loc, t.deps.Now)
}

// Inspect reads a terminal's identity, counts and clock offset over an open
// session.
func Inspect(ctx context.Context, c *Client, loc *time.Location, now func() time.Time) (drivers.Info, error) {
	s := &session{t: &Terminal{loc: loc, deps: drivers.Deps{Now: now}, rl: ratelog.New(nil, 0, now)}, c: c}
	info, err := identify(ctx, c)
	if err != nil {
		return drivers.Info{}, err
	}
	s.info = info
	if sizes, err := c.Sizes(ctx); err == nil {
		s.info.Users, s.info.Records = sane(sizes.Users), sane(sizes.Records)
		s.info.UserCap, s.info.RecordCap = sane(sizes.UserCap), sane(sizes.RecordCap)
	}
	if err := s.readClock(ctx); err != nil {
		return s.info, err
	}
	return s.info, ctx.Err()
}
