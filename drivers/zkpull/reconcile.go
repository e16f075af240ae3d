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
// or when the log was cleared or rewritten, it reads the whole log.
// Records that cannot be punches are set aside (see setAside) and keep
// their place in the log. A log the box refuses to read (larger than the
// terminal can hold, in no record form) is reported, and the error is a
// refusal: the session goes on.
//
// The terminal is disabled, with its self-re-enable timeout, for the length
// of the read and always enabled again afterwards.
func (s *session) reconcile(ctx context.Context, full bool) (res drivers.PullResult, err error) {
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
		if isRefused(err) {
			t.logRefused(err)
			s.report()
		}
	}()

	t.mu.Lock()
	cur := t.cursor
	t.mu.Unlock()
	began := time.Now()
	var log zk.AttendanceLog
	from, base := 0, 0
	tail := !full && cur.Records > 0 && cur.RecordSize > 0 && cur.LastID != ""
	if tail {
		got, err := s.c.ReadAttendanceFrom(ctx, cur.Records, cur.RecordSize)
		switch {
		case errors.Is(err, ErrLogChanged):
			tail = false
		case err != nil:
			return res, err
		default:
			first, err := s.punchOf(ctx, got.Records[0])
			if err != nil {
				return res, err
			}
			if first.ID == cur.LastID {
				log, from, base = got, 1, cur.Records-1
			} else {
				tail = false
			}
		}
		if !tail {
			t.log.Info("attendance log no longer continues the last read; reading it whole", "records_before", cur.Records)
		}
	}
	if !tail {
		// The count read now, with the terminal disabled, is the log's: no
		// punch can fall between it and the read.
		count := 0
		if sz, err := s.c.Sizes(ctx); err == nil {
			count = s.saneCount(sz.Records)
		}
		if log, err = s.c.ReadLog(ctx, count); err != nil {
			return res, err
		}
	}
	res.Read = len(log.Records) - from
	s.lastRead = make(map[string]bool, min(res.Read, recentReads))
	st, err := s.store(ctx, &log, from)
	res.Put = st.put
	if err != nil {
		return res, err
	}
	t.mu.Lock()
	t.cursor.Records = base + len(log.Records)
	if !tail {
		t.cursor.Rejected = 0
	}
	t.cursor.Rejected += st.bad
	if res.Read > 0 || !tail {
		t.cursor.RecordSize = log.Size
		t.cursor.LastID, t.cursor.LastTime = st.last.ID, ""
		if st.last.ID != "" {
			t.cursor.LastTime = st.last.Local.String()
		}
	}
	rejected := t.cursor.Rejected
	if log.Trailing != nil {
		rejected++
	}
	t.tally.rejected = rejected
	t.mu.Unlock()
	t.logRefused(nil)
	if st.lastGood != "" {
		s.lastGood = st.lastGood
	}
	s.dirty = true
	t.contact()
	s.report()
	lvl := t.log.Debug
	if res.Read > 0 {
		lvl = t.log.Info
	}
	lvl("read attendance log", "records", res.Read, "whole", !tail, "log_records", base+len(log.Records), "set_aside", st.bad,
		"took", time.Since(began).Round(time.Millisecond))
	return res, s.saveCursor(ctx)
}

// stored is what store did with a log.
type stored struct {
	last     punchbox.Punch // the punch of the log's last record, set aside or not
	lastGood string         // the id of the last punch stored
	put      int            // punches handed to the sink
	bad      int            // whole records set aside
}

// store turns the records of log from index from on into punches and puts
// them in batches; records that cannot be punches, and a partial record at
// the end, are set aside.
func (s *session) store(ctx context.Context, log *zk.AttendanceLog, from int) (st stored, err error) {
	t := s.t
	n := len(log.Records) - from
	batch := make([]punchbox.Punch, 0, min(max(n, 0), putBatch))
	var aside asideBatch
	flush := func() error {
		if err := s.setAside(ctx, &aside, true); err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		if err := t.deps.Sink.Put(ctx, batch); err != nil {
			return fmt.Errorf("store punches: %w", err)
		}
		st.put += len(batch)
		batch = batch[:0]
		return nil
	}
	for i := from; i < len(log.Records); i++ {
		p, err := s.punchOf(ctx, log.Records[i])
		if err != nil {
			return st, err
		}
		st.last = p
		if len(log.Records)-i <= recentReads {
			s.lastRead[p.ID] = true
		}
		if why := s.implausible(log, i, p); why != nil {
			st.bad++
			aside.add(s.rejected(punchbox.SourcePull, log.Raw(i), why))
			if len(aside.recs) < putBatch {
				continue
			}
		} else {
			batch = append(batch, p)
			st.lastGood = p.ID
			if len(batch) < putBatch {
				continue
			}
		}
		if err := flush(); err != nil {
			return st, err
		}
	}
	if log.Trailing != nil {
		aside.add(s.rejected(punchbox.SourcePull, log.Trailing,
			fmt.Errorf("a partial record of %d bytes at the end of the log (records are %d bytes)", len(log.Trailing), log.Size)))
	}
	return st, flush()
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
