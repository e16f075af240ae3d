package zkpull

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/protocol/zk"
)

// Records that cannot be punches are set aside: counted, kept raw through
// the sink's drivers.RejectKeeper when it has one, logged without
// flooding, and never stored or published as punches. The terminal's good
// records go on regardless, and the terminal stays online.

// futureMargin is how far past the terminal's own clock a punch may be
// dated. A terminal logs a punch at its clock's time, so a record later
// than its clock is garbage; the margin allows for a clock set back after
// punches were logged (sync/clock corrects drifts of minutes, an admin may
// correct one of hours) and for the time between reading the clock and
// reading the log. The terminal's clock, not the box's, is the reference:
// the two may be far apart.
const futureMargin = 24 * time.Hour

// implausible says why record i of log cannot be a punch, or nil: a
// record the codec finds implausible (a sentinel time, an unprintable PIN,
// an unknown state), one dated after the terminal's clock by more than
// futureMargin, or a punch that does not validate.
func (s *session) implausible(log *zk.AttendanceLog, i int, p punchbox.Punch) error {
	if err := log.Check(i); err != nil {
		return err
	}
	return s.implausiblePunch(p)
}

// implausiblePunch is the part of implausible that needs no raw record.
func (s *session) implausiblePunch(p punchbox.Punch) error {
	if now, ok := s.terminalNow(); ok && p.Local.In(time.UTC).After(now.Add(futureMargin)) {
		return fmt.Errorf("%w: time %s is later than the terminal's clock (%s) by more than %s",
			zk.ErrImplausible, p.Local, now.Format(punchbox.LocalTimeLayout), futureMargin)
	}
	return p.Validate()
}

// terminalNow estimates the terminal's clock now, as a naive wall time in
// UTC, from its last reading; ok is false when it gave none that is a date.
func (s *session) terminalNow() (time.Time, bool) {
	if !s.clockOK {
		return time.Time{}, false
	}
	return s.clock.Add(s.t.deps.Now().Sub(s.clockAt)), true
}

// rejected builds the record of something set aside.
func (s *session) rejected(src punchbox.Source, raw []byte, why error) drivers.Rejected {
	return drivers.Rejected{
		TerminalID: s.t.cfg.ID, Serial: s.info.Serial, Source: src, Reason: reason(why),
		Raw: raw[:min(len(raw), drivers.MaxRejectedRaw)], Received: s.t.deps.Now(),
	}
}

// reason is an error as a reason for a person: without the codec's
// prefixes.
func reason(err error) string {
	msg := err.Error()
	for _, p := range []string{zk.ErrImplausible.Error() + ": ", punchbox.ErrInvalidPunch.Error() + ": "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// asideBatch collects records to set aside.
type asideBatch struct {
	recs  []drivers.Rejected
	first string // the first reason, for the log
	n     int    // records added in all
}

func (b *asideBatch) add(r drivers.Rejected) {
	if b.n == 0 {
		b.first = r.Reason
	}
	b.n++
	b.recs = append(b.recs, r)
}

// setAside hands the batch to the sink's RejectKeeper (when it has one)
// and, with logIt, logs it rate-limited; it empties the batch.
func (s *session) setAside(ctx context.Context, b *asideBatch, logIt bool) error {
	if len(b.recs) == 0 {
		return nil
	}
	t := s.t
	if rk, ok := t.deps.Sink.(drivers.RejectKeeper); ok {
		if err := rk.Reject(ctx, b.recs); err != nil {
			return fmt.Errorf("keep records set aside: %w", err)
		}
	}
	if logIt {
		t.rl.Log(ctx, slog.LevelWarn, "set aside", "set aside records of the terminal's log that cannot be punches",
			"records", len(b.recs), "reason", b.first, "kept", t.keepsRejected())
	}
	b.recs = b.recs[:0]
	return nil
}

// keepsRejected reports whether the sink keeps what is set aside.
func (t *Terminal) keepsRejected() bool {
	_, ok := t.deps.Sink.(drivers.RejectKeeper)
	return ok
}

// liveKeptPerMinute bounds the live events kept raw per minute: a flood of
// garbage is counted, and a sample of it kept, not all of it.
const liveKeptPerMinute = 16

// malformedEvent counts a live event that cannot be a punch, logs it
// rate-limited, and keeps a bounded sample of it raw. The log read finds
// the punch, if the terminal logged one.
func (s *session) malformedEvent(ctx context.Context, kind string, ev zk.Packet, why error) {
	t := s.t
	t.mu.Lock()
	t.tally.malformed++
	now := t.deps.Now()
	if now.Sub(t.liveWindow) >= time.Minute {
		t.liveWindow, t.liveKept = now, 0
	}
	keep := t.liveKept < liveKeptPerMinute && t.keepsRejected()
	if keep {
		t.liveKept++
	}
	t.mu.Unlock()
	t.rl.Log(ctx, slog.LevelWarn, kind, kind, "err", why, "bytes", len(ev.Data),
		"note", "the next log read recovers the punch if the terminal logged one")
	if keep {
		rk := t.deps.Sink.(drivers.RejectKeeper)
		if err := rk.Reject(ctx, []drivers.Rejected{s.rejected(punchbox.SourceLive, ev.Data, why)}); err != nil && !errors.Is(err, context.Canceled) {
			t.rl.Log(ctx, slog.LevelWarn, "keep live", "could not keep a live event set aside", "err", err)
		}
	}
}

// logRefused records why the box refuses the terminal's log, err, or that
// it reads it again (nil): a change is logged once, at Warn or Info, the
// same refusal again at Debug, however often it is retried.
func (t *Terminal) logRefused(err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	t.mu.Lock()
	prev := t.tally.logError
	t.tally.logError = msg
	t.mu.Unlock()
	switch {
	case msg == prev && err != nil:
		t.log.Debug("still refusing the terminal's attendance log", "err", err)
	case msg == prev:
	case err != nil:
		t.log.Warn("refusing the terminal's attendance log; the terminal stays online and its live punches are taken", "err", err)
	default:
		t.log.Info("the terminal's attendance log is read again")
	}
}
