package zkpull

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/protocol/zk"
)

// putBatch is how many punches one Put carries during a log read.
const putBatch = 5000

// reconcile reads the attendance log and stores every punch in it the box
// may not have. Unless full, it reads only the records after those of the
// last pass, after checking that the log still continues them; otherwise,
// or when the log was cleared or rewritten, it reads the whole log. count is
// the record count the terminal reported (a hint; 0 if unknown).
//
// The terminal is disabled, with its self-re-enable timeout, for the length
// of the read and always enabled again afterwards.
func (s *session) reconcile(ctx context.Context, full bool, count int) (res drivers.PullResult, err error) {
	t := s.t
	if err := s.c.Disable(ctx, t.opts.DisableTimeout.D()); err != nil {
		return res, err
	}
	defer func() {
		// Even when ctx has ended: a terminal must not stay locked. If the
		// link is gone, the terminal's own timeout re-enables it.
		ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.opts.Timeout.D())
		defer cancel()
		if eerr := s.c.Enable(ectx); eerr != nil && err == nil {
			err = eerr
		}
	}()

	t.mu.Lock()
	cur := t.cursor
	t.mu.Unlock()
	began := time.Now()
	var recs []zk.Attendance
	base, size := 0, cur.RecordSize
	tail := !full && cur.Records > 0 && cur.RecordSize > 0 && cur.LastID != "" && (count == 0 || count >= cur.Records)
	if tail {
		got, err := s.c.ReadAttendanceFrom(ctx, cur.Records, cur.RecordSize)
		switch {
		case errors.Is(err, ErrLogChanged):
			tail = false
		case err != nil:
			return res, err
		default:
			first, err := s.punchOf(ctx, got[0])
			if err != nil {
				return res, err
			}
			if first.ID == cur.LastID {
				recs, base = got[1:], cur.Records
			} else {
				tail = false
			}
		}
		if !tail {
			t.log.Info("attendance log no longer continues the last read; reading it whole", "records_before", cur.Records)
		}
	}
	if !tail {
		// The count read now, with the terminal disabled, is the log's:
		// no punch can fall between it and the read.
		count = 0
		if sz, err := s.c.Sizes(ctx); err == nil {
			count = sz.Records
		}
		recs, size, err = s.c.ReadAttendance(ctx, count)
		if err != nil {
			return res, err
		}
	}
	res.Read = len(recs)
	s.lastRead = make(map[string]bool, min(len(recs), recentReads))
	last, put, err := s.store(ctx, recs)
	res.Put = put
	if err != nil {
		return res, err
	}
	t.mu.Lock()
	t.cursor.Records = base + len(recs)
	if len(recs) > 0 || !tail {
		t.cursor.RecordSize = size
		t.cursor.LastID, t.cursor.LastTime = last.ID, ""
		if last.ID != "" {
			t.cursor.LastTime = last.Local.String()
		}
	}
	t.mu.Unlock()
	s.dirty = true
	t.contact()
	lvl := t.log.Debug
	if len(recs) > 0 {
		lvl = t.log.Info
	}
	lvl("read attendance log", "records", len(recs), "whole", !tail, "log_records", base+len(recs), "took", time.Since(began).Round(time.Millisecond))
	return res, s.saveCursor(ctx)
}

// store turns records into punches and puts them in batches. Records that
// cannot be punches (a corrupt date) are skipped and counted. It returns the
// last record's punch and how many punches were put.
func (s *session) store(ctx context.Context, recs []zk.Attendance) (last punchbox.Punch, put int, err error) {
	t := s.t
	batch := make([]punchbox.Punch, 0, min(len(recs), putBatch))
	bad := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := t.deps.Sink.Put(ctx, batch); err != nil {
			return fmt.Errorf("store punches: %w", err)
		}
		put += len(batch)
		batch = batch[:0]
		return nil
	}
	for i, r := range recs {
		p, err := s.punchOf(ctx, r)
		if err != nil {
			return last, put, err
		}
		last = p
		if len(recs)-i <= recentReads {
			s.lastRead[p.ID] = true
		}
		if p.Validate() != nil {
			bad++
			continue
		}
		batch = append(batch, p)
		if len(batch) == putBatch {
			if err := flush(); err != nil {
				return last, put, err
			}
		}
	}
	if bad > 0 {
		t.log.Warn("skipped unusable records in the terminal's log", "records", bad)
	}
	return last, put, flush()
}

// punchOf builds the punch of a log record, mapping the UID of 8-byte
// records to a PIN.
func (s *session) punchOf(ctx context.Context, r zk.Attendance) (punchbox.Punch, error) {
	pin := r.UserID
	if pin == "" {
		var err error
		if pin, err = s.pinOf(ctx, r.UID); err != nil {
			return punchbox.Punch{}, err
		}
	}
	return s.punch(pin, punchbox.LocalTime(r.Time), r.State, r.Verify, r.WorkCode, punchbox.SourcePull), nil
}

// maybeClear empties the terminal's log when the policy allows it, under
// DESIGN invariant 2: only when every punch in it is stored and, under the
// "delivered" policy, acknowledged upstream. It re-reads the whole log with
// the terminal disabled and puts every punch again (idempotent, and proof
// that each is stored), so no punch can slip in between the check and the
// clear.
func (s *session) maybeClear(ctx context.Context) (err error) {
	t := s.t
	t.mu.Lock()
	cur := t.cursor
	t.mu.Unlock()
	if t.opts.ClearLog == ClearNever || cur.Records == 0 {
		return nil
	}
	var dc drivers.DeliveryChecker
	if t.opts.ClearLog == ClearDelivered {
		var ok bool
		if dc, ok = t.deps.Sink.(drivers.DeliveryChecker); !ok {
			t.log.Warn("not clearing the terminal's log: the store cannot tell what was delivered")
			return nil
		}
		// Cheap first: while the newest punch awaits delivery, so do others.
		if done, err := dc.Delivered(ctx, []string{cur.LastID}); err != nil || !done {
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
	recs, _, err := s.c.ReadAttendance(ctx, 0)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(recs))
	punches := make([]punchbox.Punch, 0, len(recs))
	for _, r := range recs {
		p, err := s.punchOf(ctx, r)
		if err != nil {
			return err
		}
		if p.Validate() == nil {
			punches = append(punches, p)
		}
		ids = append(ids, p.ID)
	}
	if len(punches) != len(recs) {
		t.log.Warn("not clearing the terminal's log: it holds records that cannot be stored", "unusable", len(recs)-len(punches))
		return nil
	}
	for i := 0; i < len(punches); i += putBatch {
		if err := t.deps.Sink.Put(ctx, punches[i:min(i+putBatch, len(punches))]); err != nil {
			return fmt.Errorf("store punches before clearing: %w", err)
		}
	}
	if dc != nil {
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
	t.cursor.Records, t.cursor.LastID, t.cursor.LastTime = 0, "", ""
	t.mu.Unlock()
	s.dirty = true
	t.log.Info("cleared the terminal's attendance log", "records", len(recs), "policy", t.opts.ClearLog)
	return s.saveCursor(ctx)
}
