package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Outbox returns up to limit punches after seq, in outbox order. The uplink
// reads from its last delivered position and marks what was acknowledged
// with MarkDelivered.
func (db *DB) Outbox(ctx context.Context, after int64, limit int) ([]StoredPunch, error) {
	return db.punches(ctx, "SELECT "+punchColumns+" FROM punches WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
}

// Backlog describes what waits for delivery.
type Backlog struct {
	DeliveredSeq int64     `json:"delivered_seq"`   // everything up to here is acknowledged upstream
	LastSeq      int64     `json:"last_seq"`        // the newest punch
	Pending      int64     `json:"pending"`         // punches after DeliveredSeq
	Oldest       time.Time `json:"oldest,omitzero"` // receive time of the oldest pending punch
	DeliveredAt  time.Time `json:"delivered_at,omitzero"`
}

// Age returns how long the oldest pending punch has waited.
func (b Backlog) Age(now time.Time) time.Duration {
	if b.Pending == 0 || b.Oldest.IsZero() {
		return 0
	}
	return now.Sub(b.Oldest)
}

// Backlog returns the outbox position, fast at any size: the pending count
// is kept up to date by every write.
func (db *DB) Backlog(ctx context.Context) (Backlog, error) {
	var b Backlog
	var deliveredAt int64
	err := db.r.QueryRowContext(ctx, `SELECT delivered_seq, pending, delivered_at, last_seq FROM outbox`).Scan(&b.DeliveredSeq, &b.Pending, &deliveredAt, &b.LastSeq)
	if err != nil {
		return b, fmt.Errorf("read backlog: %w", err)
	}
	b.DeliveredAt = fromMillis(deliveredAt)
	if b.Pending > 0 {
		var ms int64
		err := db.r.QueryRowContext(ctx, sqlOldestPending, b.DeliveredSeq).Scan(&ms)
		if err != nil {
			return b, fmt.Errorf("read backlog: %w", err)
		}
		b.Oldest = fromMillis(ms)
	}
	return b, nil
}

// Delivered implements drivers.DeliveryChecker: it reports whether every
// punch with one of ids is stored and acknowledged upstream.
func (db *DB) Delivered(ctx context.Context, ids []string) (bool, error) {
	d, err := loadDelivery(ctx, db.r)
	if err != nil {
		return false, err
	}
	const chunk = 500
	for i := 0; i < len(ids); i += chunk {
		part := ids[i:min(i+chunk, len(ids))]
		q := "SELECT seq FROM punches WHERE id IN (?" + strings.Repeat(",?", len(part)-1) + ")"
		args := make([]any, len(part))
		for j, id := range part {
			args[j] = id
		}
		rows, err := db.r.QueryContext(ctx, q, args...)
		if err != nil {
			return false, fmt.Errorf("check delivery: %w", err)
		}
		n := 0
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				rows.Close()
				return false, err
			}
			if !d.has(seq) {
				rows.Close()
				return false, nil
			}
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return false, err
		}
		if n != len(uniq(part)) {
			return false, nil // some are not even stored
		}
	}
	return true, nil
}

func uniq(ids []string) map[string]struct{} {
	m := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		m[id] = struct{}{}
	}
	return m
}
