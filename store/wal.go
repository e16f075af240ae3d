package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"time"
)

// The write-ahead log grows while a reader holds an old snapshot: no
// checkpoint can pass the reader, so every commit since it began stays in
// the WAL (a stalled CSV export grew it to 51 MB). Two things bring it back:
// the writer's journal_size_limit truncates the WAL to WALLimit whenever it
// starts over, and the WAL keeper, which looks at the WAL's size every
// WALCheck and, once it is over WALLimit, checkpoints it: first passively
// (writers go on meanwhile), then, once every frame is in the database,
// with TRUNCATE, which leaves it empty. Neither waits for a reader: while
// one still needs the WAL the keeper tries again at its next look.
const (
	defaultWALLimit = 8 << 20 // bytes: two auto-checkpoints' worth of pages
	defaultWALCheck = 10 * time.Second
)

// walKeeper keeps the WAL of the store at path under limit.
type walKeeper struct {
	path  string
	limit int64
	db    *DB
	conn  *sql.DB // opened at the first checkpoint, never waits on a lock
	// blocked is true while a checkpoint could not finish because of a
	// reader; it is logged once per episode.
	blocked bool
}

// runWALKeeper looks at the WAL every check until quit is closed.
func (db *DB) runWALKeeper(limit int64, check time.Duration) {
	k := &walKeeper{path: db.path, limit: limit, db: db}
	defer k.close()
	t := time.NewTicker(check)
	defer t.Stop()
	for {
		select {
		case <-db.quit:
			return
		case <-t.C:
		}
		if db.Damage() != nil {
			continue // nothing writes into a damaged store, checkpoints neither
		}
		if err := k.keep(context.Background()); err != nil {
			db.log.Debug("checkpoint the WAL", "err", err)
		}
	}
}

// keep checkpoints the WAL if it is over the limit.
func (k *walKeeper) keep(ctx context.Context) error {
	size, err := fileSize(k.path + "-wal")
	if err != nil || size <= k.limit {
		return err
	}
	if k.conn == nil {
		q := url.Values{}
		q.Set("_busy_timeout", "0")
		if k.conn, err = sql.Open("sqlite", k.path+"?"+q.Encode()); err != nil {
			return err
		}
		k.conn.SetMaxOpenConns(1)
	}
	done, err := k.checkpoint(ctx, "PASSIVE")
	if err == nil && done {
		done, err = k.checkpoint(ctx, "TRUNCATE")
	}
	switch {
	case err != nil:
		return err
	case !done && !k.blocked:
		k.blocked = true
		k.db.log.Info("the WAL cannot shrink while a long read is under way; trying again", "wal_bytes", size, "limit", k.limit)
	case done:
		after, _ := fileSize(k.path + "-wal")
		if k.blocked {
			k.db.log.Info("the WAL shrank after a long read", "from_bytes", size, "to_bytes", after)
		}
		k.blocked = false
	}
	return nil
}

// checkpoint runs one checkpoint of the given mode and reports whether it
// moved every frame of the WAL into the database.
func (k *walKeeper) checkpoint(ctx context.Context, mode string) (bool, error) {
	var busy, frames, moved int
	err := k.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &moved)
	if errors.Is(classify(err), ErrDatabaseBusy) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checkpoint (%s): %w", mode, classify(err))
	}
	return busy == 0 && frames == moved, nil
}

func (k *walKeeper) close() {
	if k.conn != nil {
		k.conn.Close()
	}
}

// fileSize is the size of the file at path; 0 when there is none.
func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
