package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/punchbox/punchbox/internal/sysinfo"
)

// probeEvery bounds how often Healthy writes to learn whether the store can
// write: a full disk must not turn every health check into a write.
const probeEvery = 10 * time.Second

// Healthy reports whether the store is usable: not damaged, answering a
// query, and able to write. It cannot write while the disk holding it has
// less than 1 MiB free, or while its latest write failed; after a failed
// write Healthy writes one row (at most every probeEvery) to find out
// whether it can write again, so that it turns healthy as soon as it can,
// punches or not. It is cheap enough for a health endpoint.
func (db *DB) Healthy(ctx context.Context) error {
	if d := db.Damage(); d != nil {
		return d
	}
	if err := db.Answers(ctx); err != nil {
		return err
	}
	if db.ro {
		return nil
	}
	dir := filepath.Dir(db.path)
	if d := sysinfo.ReadDisk(dir); d.Known && d.Free < lowSpace {
		return fmt.Errorf("%w: %w: %s free on the disk holding %s", ErrCannotWrite, ErrDiskFull, byteSize(d.Free), dir)
	}
	if db.LastWrite().Err != nil {
		db.probe(ctx)
	}
	if err := db.LastWrite().Err; err != nil {
		return fmt.Errorf("%w: %w", ErrCannotWrite, err)
	}
	return nil
}

// Answers reports whether the store answers a query: that the process is
// not wedged, which is what the service watchdog needs to know. A damaged
// store or a full disk is no reason to restart the service.
func (db *DB) Answers(ctx context.Context) error {
	var one int
	if err := db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// probe writes the health row, at most every probeEvery, and notes the
// outcome as the latest write.
func (db *DB) probe(ctx context.Context) {
	db.probeMu.Lock()
	defer db.probeMu.Unlock()
	now := db.now()
	if !db.probed.IsZero() && now.Sub(db.probed) < probeEvery && now.After(db.probed) {
		return
	}
	db.probed = now
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	w, err := db.writer()
	if err == nil {
		_, err = w.ExecContext(ctx, `INSERT INTO health (id, probed) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET probed = excluded.probed`, millis(now))
		err = classify(err)
	}
	if err != nil && ctx.Err() != nil && !errors.Is(err, ErrDiskFull) {
		return // the writer is busy, not failing
	}
	if err != nil {
		err = fmt.Errorf("health probe: %w", err)
	}
	db.noteWrite(err)
}

// Checker runs the full integrity check of a store in the background:
// Delay after Run starts (damage may have happened while the box was off),
// then every Every. Set the fields, then call Run.
type Checker struct {
	DB     *DB
	Delay  time.Duration // default 1 minute
	Every  time.Duration // default 24 hours
	Logger *slog.Logger
}

// Run checks until ctx ends; once the store is damaged there is nothing
// more to find, and it only waits. A check that fails to run is logged and
// retried at the next turn.
func (c *Checker) Run(ctx context.Context) error {
	if c.DB == nil {
		return fmt.Errorf("integrity checker: %w: DB is required", ErrInvalid)
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	delay, every := c.Delay, c.Every
	if delay <= 0 {
		delay = time.Minute
	}
	if every <= 0 {
		every = 24 * time.Hour
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	failing := false
	for c.DB.Damage() == nil {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		res, err := c.DB.CheckIntegrity(ctx)
		var d *Damage
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.As(err, &d):
			continue // logged by the store
		case err != nil && !failing:
			log.Warn("the integrity check of the store could not run; trying again at the next turn", "err", err)
		case err != nil:
			log.Debug("the integrity check still cannot run", "err", err)
		default:
			log.Info("the store passed its integrity check", "took", res.Took.Round(time.Millisecond))
		}
		failing = err != nil
		timer.Reset(every)
	}
	<-ctx.Done()
	return nil
}
