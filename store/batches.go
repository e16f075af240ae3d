package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// SentBatch is a batch of punches as it was published: recorded before it
// goes out, so that until it is acknowledged it can go out again under
// its number with the same punches, and its number is never given to
// other punches.
type SentBatch struct {
	Batch      int64
	Historical bool
	Resend     string  // the resend command's request id; "" for the outbox's own
	Ranges     []Range // the outbox seqs it carries, ascending
}

// RecordBatch records b before it is published: its number becomes the
// last given out, and the numbers file is raised first when b's number or
// its highest seq passes the mark. A batch number is recorded once.
func (db *DB) RecordBatch(ctx context.Context, b SentBatch) error {
	w, err := db.writer()
	if err != nil {
		return err
	}
	if b.Batch < 1 || len(b.Ranges) == 0 {
		return fmt.Errorf("record batch %d: %w: no number or no punches", b.Batch, ErrInvalid)
	}
	pairs := make([][2]int64, len(b.Ranges))
	for i, r := range b.Ranges {
		pairs[i] = [2]int64{r.From, r.To}
	}
	ranges, _ := json.Marshal(pairs)
	numbersMu.Lock()
	defer numbersMu.Unlock()
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record batch %d: %w", b.Batch, classify(err))
	}
	defer tx.Rollback()
	var last int64
	if err := tx.QueryRowContext(ctx, "SELECT last_batch FROM outbox").Scan(&last); err != nil {
		return fmt.Errorf("record batch %d: %w", b.Batch, err)
	}
	if b.Batch <= last {
		return fmt.Errorf("record batch %d: %w: batch %d was given out already", b.Batch, ErrInvalid, last)
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO batches (batch, historical, resend, ranges) VALUES (?, ?, ?, ?)", b.Batch, b.Historical, b.Resend, string(ranges))
	if err == nil {
		_, err = tx.ExecContext(ctx, "UPDATE outbox SET last_batch = ?", b.Batch)
	}
	if err != nil {
		return fmt.Errorf("record batch %d: %w", b.Batch, classify(err))
	}
	if err := db.reserveAndCommit(ctx, tx, b.Ranges[len(b.Ranges)-1].To, b.Batch, 0); err != nil {
		return fmt.Errorf("record batch %d: %w", b.Batch, err)
	}
	return nil
}

// PendingBatches returns the recorded batches not yet acknowledged, in
// number order.
func (db *DB) PendingBatches(ctx context.Context) ([]SentBatch, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT batch, historical, resend, ranges FROM batches ORDER BY batch")
	if err != nil {
		return nil, fmt.Errorf("read batches: %w", err)
	}
	defer rows.Close()
	var out []SentBatch
	for rows.Next() {
		var b SentBatch
		var raw string
		if err := rows.Scan(&b.Batch, &b.Historical, &b.Resend, &raw); err != nil {
			return nil, fmt.Errorf("read batches: %w", err)
		}
		var pairs [][2]int64
		if err := json.Unmarshal([]byte(raw), &pairs); err != nil {
			return nil, fmt.Errorf("read batch %d: %w", b.Batch, err)
		}
		for _, p := range pairs {
			b.Ranges = append(b.Ranges, Range{p[0], p[1]})
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// PunchesIn returns the stored punches with seqs in ranges, in seq order.
func (db *DB) PunchesIn(ctx context.Context, ranges []Range) ([]StoredPunch, error) {
	var out []StoredPunch
	for _, r := range ranges {
		rows, err := db.r.QueryContext(ctx, "SELECT "+punchColumns+" FROM punches WHERE seq >= ? AND seq <= ? ORDER BY seq", r.From, r.To)
		if err != nil {
			return nil, fmt.Errorf("read punches: %w", err)
		}
		if out, err = scanPunches(rows, out); err != nil {
			return nil, err
		}
	}
	d, err := loadDelivery(ctx, db.r)
	if err != nil {
		return nil, err
	}
	markDelivered(d, out)
	return out, nil
}
