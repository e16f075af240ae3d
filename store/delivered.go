package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
)

// Range is an inclusive span of outbox sequence numbers.
type Range struct{ From, To int64 }

// delivery is the outbox's delivered state: everything up to Prefix, and
// the disjoint Ranges above it.
type delivery struct {
	Prefix int64
	Ranges []Range // sorted; each From > Prefix+1; none touch
}

// has reports whether seq was delivered.
func (d delivery) has(seq int64) bool {
	if seq <= d.Prefix {
		return true
	}
	_, found := slices.BinarySearchFunc(d.Ranges, seq, func(r Range, s int64) int {
		switch {
		case r.To < s:
			return -1
		case r.From > s:
			return 1
		}
		return 0
	})
	return found
}

// add merges [from, to] in and returns the parts of it that were not yet
// delivered.
func (d *delivery) add(from, to int64) []Range {
	from = max(from, d.Prefix+1)
	if from > to {
		return nil
	}
	// The uncovered parts of [from, to].
	var fresh []Range
	at := from
	for _, r := range d.Ranges {
		if r.To < at {
			continue
		}
		if r.From > to {
			break
		}
		if r.From > at {
			fresh = append(fresh, Range{at, r.From - 1})
		}
		at = max(at, r.To+1)
	}
	if at <= to {
		fresh = append(fresh, Range{at, to})
	}
	// Merge, then fold what touches the prefix into it.
	rs := append(d.Ranges, Range{from, to})
	slices.SortFunc(rs, func(a, b Range) int { return int(a.From - b.From) })
	merged := rs[:0]
	for _, r := range rs {
		if n := len(merged); n > 0 && r.From <= merged[n-1].To+1 {
			merged[n-1].To = max(merged[n-1].To, r.To)
			continue
		}
		merged = append(merged, r)
	}
	for len(merged) > 0 && merged[0].From <= d.Prefix+1 {
		d.Prefix = max(d.Prefix, merged[0].To)
		merged = merged[1:]
	}
	d.Ranges = slices.Clone(merged)
	return fresh
}

func loadDelivery(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (delivery, error) {
	var d delivery
	var raw string
	if err := q.QueryRowContext(ctx, "SELECT delivered_seq, delivered_ranges FROM outbox").Scan(&d.Prefix, &raw); err != nil {
		return d, fmt.Errorf("read delivered state: %w", err)
	}
	var pairs [][2]int64
	if err := json.Unmarshal([]byte(raw), &pairs); err != nil {
		return d, fmt.Errorf("read delivered state: %w", err)
	}
	for _, p := range pairs {
		d.Ranges = append(d.Ranges, Range{p[0], p[1]})
	}
	return d, nil
}

func (d delivery) rangesJSON() string {
	pairs := make([][2]int64, len(d.Ranges))
	for i, r := range d.Ranges {
		pairs[i] = [2]int64{r.From, r.To}
	}
	b, _ := json.Marshal(pairs)
	return string(b)
}

// Acknowledge records that the punches in ranges were acknowledged
// upstream, and that the batches done are, in one transaction: their
// record (RecordBatch) goes, and the uplink's batch sequence (the highest
// batch acknowledged) only grows. Positions only move forward: what is
// already delivered stays so.
func (db *DB) Acknowledge(ctx context.Context, ranges []Range, done ...int64) error {
	w, err := db.writer()
	if err != nil {
		return err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("acknowledge: %w", classify(err))
	}
	defer tx.Rollback()
	d, err := loadDelivery(ctx, tx)
	if err != nil {
		return err
	}
	var newly int64
	for _, r := range ranges {
		for _, f := range d.add(r.From, r.To) {
			var n int64
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM punches WHERE seq BETWEEN ? AND ?", f.From, f.To).Scan(&n); err != nil {
				return fmt.Errorf("acknowledge: %w", err)
			}
			newly += n
		}
	}
	var batch int64
	for _, b := range done {
		batch = max(batch, b)
		if _, err := tx.ExecContext(ctx, "DELETE FROM batches WHERE batch = ?", b); err != nil {
			return fmt.Errorf("acknowledge: %w", classify(err))
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE outbox SET delivered_seq = ?, delivered_ranges = ?, pending = pending - ?,
		delivered_at = CASE WHEN ? > 0 THEN ? ELSE delivered_at END, batch_seq = max(batch_seq, ?)`,
		d.Prefix, d.rangesJSON(), newly, newly, millis(db.now()), batch)
	if err != nil {
		return fmt.Errorf("acknowledge: %w", classify(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("acknowledge: %w", classify(err))
	}
	return nil
}

// MarkDelivered records that every punch up to seq was acknowledged
// upstream.
func (db *DB) MarkDelivered(ctx context.Context, seq int64) error {
	return db.Acknowledge(ctx, []Range{{1, seq}})
}

// Undelivered returns up to limit punches with seq in (after, upTo] that
// were not delivered, in outbox order. upTo 0 means no upper bound.
func (db *DB) Undelivered(ctx context.Context, after, upTo int64, limit int) ([]StoredPunch, error) {
	d, err := loadDelivery(ctx, db.r)
	if err != nil {
		return nil, err
	}
	if upTo <= 0 {
		upTo = 1<<63 - 1
	}
	out := make([]StoredPunch, 0, min(limit, 1024))
	at := max(after, d.Prefix)
	// The undelivered gaps: between the ranges, and above the last one.
	gaps := make([]Range, 0, len(d.Ranges)+1)
	for _, r := range d.Ranges {
		if r.From-1 > at {
			gaps = append(gaps, Range{at + 1, r.From - 1})
		}
		at = max(at, r.To)
	}
	gaps = append(gaps, Range{at + 1, upTo})
	for _, g := range gaps {
		from, to := max(g.From, after+1), min(g.To, upTo)
		if len(out) >= limit || from > to {
			continue
		}
		rows, err := db.r.QueryContext(ctx, "SELECT "+punchColumns+" FROM punches WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?", from, to, limit-len(out))
		if err != nil {
			return nil, fmt.Errorf("read outbox: %w", err)
		}
		if out, err = scanPunches(rows, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// UplinkState is what the uplink resumes from after a restart.
type UplinkState struct {
	BatchSeq  int64  // the highest batch acknowledged
	LastBatch int64  // the last batch number given out: the next is above it
	Session   int64  // the connection counter
	Epoch     string // the numbering's epoch (see NumbersFile)
}

// Uplink returns the uplink's persisted state.
func (db *DB) Uplink(ctx context.Context) (UplinkState, error) {
	var u UplinkState
	if err := db.r.QueryRowContext(ctx, "SELECT batch_seq, last_batch, session, epoch FROM outbox").Scan(&u.BatchSeq, &u.LastBatch, &u.Session, &u.Epoch); err != nil {
		return u, fmt.Errorf("read uplink state: %w", err)
	}
	return u, nil
}

// NextSession increments and returns the uplink's connection counter,
// reserving it in the numbers file first when it passes the mark.
func (db *DB) NextSession(ctx context.Context) (int64, error) {
	w, err := db.writer()
	if err != nil {
		return 0, err
	}
	numbersMu.Lock()
	defer numbersMu.Unlock()
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("next session: %w", classify(err))
	}
	defer tx.Rollback()
	var n int64
	if err := tx.QueryRowContext(ctx, "UPDATE outbox SET session = session + 1 RETURNING session").Scan(&n); err != nil {
		return 0, fmt.Errorf("next session: %w", classify(err))
	}
	if err := db.reserveAndCommit(ctx, tx, 0, 0, n); err != nil {
		return 0, fmt.Errorf("next session: %w", err)
	}
	return n, nil
}
