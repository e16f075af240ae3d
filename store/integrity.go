package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
)

// The store is checked for damage twice over:
//
//   - At Open, before anything is written: the file's header, then
//     PRAGMA quick_check for at most Options.QuickCheck (default 5 s). The
//     quick check reads every page and checks each b-tree, but not that the
//     indexes agree with their tables. On a store of a million punches
//     (about 300 MB) it takes 0.6 s on a PC with the file cached; on a Pi
//     reading the file cold from its SD card it may not finish in the
//     budget, and then the start goes on and the full check decides.
//   - In the background (Checker): PRAGMA integrity_check, which also
//     checks every index against its table, shortly after start and then
//     daily. It takes 9 s on that PC for that store, minutes on a Pi, so it
//     runs on a read-only connection of its own, on a thread at the lowest
//     CPU and I/O priority, and writers go on meanwhile.
//
// Either one finding damage marks the store damaged (see Damage).

const (
	defaultQuickCheck = 5 * time.Second
	maxProblems       = 100 // problems asked of SQLite; the first say enough
)

// CheckResult is the outcome of a quick or integrity check.
type CheckResult struct {
	Kind     string        // "quick" or "integrity"
	At       time.Time     // when it began
	Took     time.Duration // how long it ran
	Finished bool          // false: it ran out of time (or ctx ended) first
	Problems []string      // what SQLite found; none when the store is intact
}

// OK reports whether the check finished and found nothing.
func (r CheckResult) OK() bool { return r.Finished && len(r.Problems) == 0 }

// QuickCheck runs PRAGMA quick_check on a reader for at most budget. Damage
// it finds marks the store damaged and is returned as a *Damage; a check
// that runs out of time is no error, and says so in its result.
func (db *DB) QuickCheck(ctx context.Context, budget time.Duration) (CheckResult, error) {
	cctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	res, err := runCheck(cctx, db.r, "quick", db.now)
	if err != nil && cctx.Err() != nil {
		return res, ctx.Err() // nil when only the budget ran out
	}
	return res, db.checked(res, err, FoundByQuick, true)
}

// openCheck is the quick check at Open, on the writer before it wrote
// anything. Damage it finds is recorded, not logged: Open returns it.
func (db *DB) openCheck(ctx context.Context, budget time.Duration) error {
	cctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	res, err := runCheck(cctx, db.w, "quick", db.now)
	if err != nil && cctx.Err() != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		db.log.Info("the quick check of the store did not finish in time; the integrity check in the background decides",
			"budget", budget, "database", db.path)
		return nil
	}
	if err := db.checked(res, err, FoundByQuick, false); err != nil {
		return err
	}
	db.log.Debug("the store passed its quick check", "took", res.Took.Round(time.Millisecond))
	return nil
}

// CheckIntegrity runs PRAGMA integrity_check, the full check, on a
// read-only connection of its own at low priority. Damage it finds marks
// the store damaged and is returned as a *Damage. When it passes, the time
// is kept in the store, for `punchbox check` to show.
func (db *DB) CheckIntegrity(ctx context.Context) (CheckResult, error) {
	type outcome struct {
		res CheckResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		// The thread is made low priority and never unlocked, so it ends
		// with this goroutine and its priority touches nothing else.
		runtime.LockOSThread()
		lowerPriority()
		conn, err := sql.Open("sqlite", readOnlyURI(db.path))
		if err != nil {
			done <- outcome{err: err}
			return
		}
		defer conn.Close()
		conn.SetMaxOpenConns(1)
		res, err := runCheck(ctx, conn, "integrity", db.now)
		done <- outcome{res, err}
	}()
	o := <-done
	if err := db.checked(o.res, o.err, FoundByIntegrity, true); err != nil {
		return o.res, err
	}
	db.lastCheck.Store(&o.res)
	if w, err := db.writer(); err == nil {
		_, err := w.ExecContext(ctx, `INSERT INTO health (id, probed, integrity_ok, integrity_ms) VALUES (1, 0, ?, ?)
			ON CONFLICT (id) DO UPDATE SET integrity_ok = excluded.integrity_ok, integrity_ms = excluded.integrity_ms`,
			millis(o.res.At), o.res.Took.Milliseconds())
		if err != nil {
			db.log.Debug("record the integrity check", "err", err)
		}
	}
	return o.res, nil
}

// LastIntegrity returns when the full check last passed and how long it
// took, as kept in the store; the zero time when it never has.
func (db *DB) LastIntegrity(ctx context.Context) (time.Time, time.Duration, error) {
	if r := db.lastCheck.Load(); r != nil {
		return r.At, r.Took, nil
	}
	var at, took int64
	err := db.r.QueryRowContext(ctx, "SELECT integrity_ok, integrity_ms FROM health WHERE id = 1").Scan(&at, &took)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, 0, nil
	}
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("read the last integrity check: %w", err)
	}
	return fromMillis(at), time.Duration(took) * time.Millisecond, nil
}

// checked turns a check's outcome into damage, when it found any, and
// records it (see markDamaged).
func (db *DB) checked(res CheckResult, err error, by string, logIt bool) error {
	var detail string
	switch {
	case err != nil && !errors.Is(classify(err), ErrDamaged):
		return fmt.Errorf("%s check: %w", res.Kind, err)
	case err != nil:
		detail = err.Error()
	case len(res.Problems) > 3:
		detail = fmt.Sprintf("%s; and %d more", strings.Join(res.Problems[:3], "; "), len(res.Problems)-3)
	case len(res.Problems) > 0:
		detail = strings.Join(res.Problems, "; ")
	default:
		return nil
	}
	db.markDamaged(&Damage{Found: res.At, By: by, Detail: detail}, logIt)
	return db.Damage()
}

// runCheck runs PRAGMA quick_check or integrity_check on conn and collects
// what it reports. SQLite's own errors (a page it cannot read as a
// database page) are returned as they are, for checked to judge.
func runCheck(ctx context.Context, conn *sql.DB, kind string, now func() time.Time) (CheckResult, error) {
	res := CheckResult{Kind: kind, At: now()}
	defer func() { res.Took = now().Sub(res.At) }()
	pragma := "quick_check"
	if kind == "integrity" {
		pragma = "integrity_check"
	}
	rows, err := conn.QueryContext(ctx, fmt.Sprintf("PRAGMA %s(%d)", pragma, maxProblems))
	if err != nil {
		res.Took = now().Sub(res.At)
		return res, err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return res, err
		}
		// A row may hold several lines, the first naming the database.
		for _, line := range strings.Split(s, "\n") {
			line = strings.TrimSpace(line)
			if line != "ok" && line != "" && !strings.HasPrefix(line, "*** in database") {
				res.Problems = append(res.Problems, clip(line, 256))
			}
		}
	}
	if err := rows.Err(); err != nil {
		res.Took = now().Sub(res.At)
		return res, err
	}
	res.Finished = true
	res.Took = now().Sub(res.At)
	return res, nil
}
