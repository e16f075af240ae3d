package zkpull

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
)

// maybeClear empties the terminal's log when the policy allows it, under
// DESIGN invariant 2: only when every punch in it is stored and, under the
// "delivered" policy, acknowledged upstream. It re-reads the whole log with
// the terminal disabled and puts every punch again (idempotent, and proof
// that each is stored), so no punch can slip in between the check and the
// clear.
//
// A record set aside (no punch: see aside.go) counts as stored once the
// sink kept it raw through its RejectKeeper, which the re-read does again
// (idempotent too); it is never delivered upstream, so "delivered" asks it
// only to be kept. A sink that keeps nothing set aside never sees a log
// with such records cleared: the terminal's copy is then the only one. A
// log the box refuses to read is never cleared.
func (s *session) maybeClear(ctx context.Context) (err error) {
	t := s.t
	t.mu.Lock()
	cur, refusedLog := t.cursor, t.tally.logError != ""
	t.mu.Unlock()
	if t.opts.ClearLog == ClearNever || cur.Records == 0 || refusedLog {
		return nil
	}
	var dc drivers.DeliveryChecker
	if t.opts.ClearLog == ClearDelivered {
		var ok bool
		if dc, ok = t.deps.Sink.(drivers.DeliveryChecker); !ok {
			t.rl.Log(ctx, slog.LevelWarn, "not clearing", "not clearing the terminal's log: the store cannot tell what was delivered")
			return nil
		}
		// Cheap first: while the newest punch awaits delivery, so do others.
		newest := s.lastGood
		if newest == "" {
			newest = cur.LastID
		}
		if done, err := dc.Delivered(ctx, []string{newest}); err != nil || !done {
			return err
		}
	}
	if err := s.c.Disable(ctx, t.opts.DisableTimeout.D()); err != nil {
		return err
	}
	defer func() {
		ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.opts.Timeout.D())
		defer cancel()
		if eerr := s.c.Enable(ectx); eerr != nil && err == nil {
			err = eerr
		}
	}()
	count := 0
	if sz, err := s.c.Sizes(ctx); err == nil {
		count = s.saneCount(sz.Records)
	}
	log, err := s.c.ReadLog(ctx, count)
	if isRefused(err) {
		return nil // reported by the read that found it
	}
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(log.Records))
	punches := make([]punchbox.Punch, 0, len(log.Records))
	var aside asideBatch
	for i, r := range log.Records {
		p, err := s.punchOf(ctx, r)
		if err != nil {
			return err
		}
		if why := s.implausible(&log, i, p); why != nil {
			aside.add(s.rejected(punchbox.SourcePull, log.Raw(i), why))
			continue
		}
		punches = append(punches, p)
		ids = append(ids, p.ID)
	}
	if log.Trailing != nil {
		aside.add(s.rejected(punchbox.SourcePull, log.Trailing, fmt.Errorf("a partial record of %d bytes at the end of the log", len(log.Trailing))))
	}
	if aside.n > 0 && !t.keepsRejected() {
		t.rl.Log(ctx, slog.LevelWarn, "not clearing", "not clearing the terminal's log: it holds records that cannot be punches, and the store does not keep them",
			"set_aside", aside.n)
		return nil
	}
	if err := s.setAside(ctx, &aside, false); err != nil {
		return err
	}
	for i := 0; i < len(punches); i += putBatch {
		if err := t.deps.Sink.Put(ctx, punches[i:min(i+putBatch, len(punches))]); err != nil {
			return fmt.Errorf("store punches before clearing: %w", err)
		}
	}
	if dc != nil && len(ids) > 0 {
		done, err := dc.Delivered(ctx, ids)
		if err != nil {
			return fmt.Errorf("check delivery before clearing: %w", err)
		}
		if !done {
			t.log.Debug("not clearing the terminal's log yet: punches await delivery")
			return nil
		}
	}
	if err := s.c.ClearAttendance(ctx); err != nil {
		return err
	}
	t.mu.Lock()
	t.cursor.Records, t.cursor.Rejected, t.cursor.LastID, t.cursor.LastTime = 0, 0, "", ""
	t.tally.rejected = 0
	t.mu.Unlock()
	s.dirty, s.lastGood = true, ""
	t.log.Info("cleared the terminal's attendance log", "records", len(log.Records), "set_aside_kept", aside.n, "policy", t.opts.ClearLog)
	return s.saveCursor(ctx)
}
