package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// DefaultRetentionDays is how long delivered punches are kept.
const DefaultRetentionDays = 400

// Prune deletes delivered punches received before cutoff, oldest first, in
// transactions of at most batch punches, so that other writers are never
// held up for long. Undelivered punches are never deleted. It returns how
// many it deleted.
func (db *DB) Prune(ctx context.Context, cutoff time.Time, batch int) (int64, error) {
	w, err := db.writer()
	if err != nil {
		return 0, err
	}
	if batch <= 0 {
		batch = 1000
	}
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		// Punches arrive in sequence order, so the oldest delivered one
		// tells at once whether there is anything to prune.
		var oldest int64
		err := db.r.QueryRowContext(ctx, `SELECT COALESCE((SELECT received FROM punches
			WHERE seq <= (SELECT delivered_seq FROM outbox) ORDER BY seq LIMIT 1), 0)`).Scan(&oldest)
		if err != nil {
			return total, fmt.Errorf("prune: %w", err)
		}
		if oldest == 0 || oldest >= cutoff.UnixMilli() {
			return total, nil
		}
		res, err := w.ExecContext(ctx, `DELETE FROM punches WHERE seq IN (SELECT seq FROM punches
			WHERE seq <= (SELECT delivered_seq FROM outbox) AND received < ? ORDER BY seq LIMIT ?)`, cutoff.UnixMilli(), batch)
		if err != nil {
			return total, fmt.Errorf("prune: %w", classify(err))
		}
		n, _ := res.RowsAffected()
		total += n
		if n < int64(batch) {
			return total, nil
		}
	}
}

// Pruner deletes old delivered punches periodically.
type Pruner struct {
	DB     *DB
	Days   func(ctx context.Context) int // retention in days; DefaultRetentionDays when nil or not positive
	Every  time.Duration                 // default 1 h
	Logger *slog.Logger
}

// Run prunes at start and then every Every until ctx ends. Failures are
// logged, never fatal.
func (p *Pruner) Run(ctx context.Context) error {
	every := p.Every
	if every <= 0 {
		every = time.Hour
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		days := DefaultRetentionDays
		if p.Days != nil {
			if d := p.Days(ctx); d > 0 {
				days = d
			}
		}
		n, err := p.DB.Prune(ctx, p.DB.now().AddDate(0, 0, -days), 1000)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && !failing:
			log.Warn("pruning old punches fails", "err", err)
		case err != nil:
			log.Debug("pruning old punches still fails", "err", err)
		case n > 0:
			log.Info("pruned delivered punches", "punches", n, "older_than_days", days)
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
