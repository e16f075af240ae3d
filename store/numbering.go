package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// The numbers central sees (punch seqs, batch numbers, connection
// sessions) must never come again for other content, whatever happens to
// the database: a restore of an older backup takes its counters back. So
// the box keeps a high-water mark of every number it may have published in
// a small file beside the database, which a restore does not replace:
// written and synced before any number above the previous mark goes out,
// a block ahead so that it is written rarely, and read at every open. A
// database whose marks are behind the file's (or whose epoch is not the
// file's) is older than what central has seen: its numbering resumes above
// the file's marks, in a new epoch, and its record of batches in flight is
// dropped (their punches go out again in new batches).
//
// Where the file is lost too (a restore onto a fresh card), the numbers
// may repeat those of an earlier epoch; Restore gives every restored
// database a new epoch, carried in every batch and in the birth, so that
// central can tell the numberings apart.

// NumbersFile is the high-water file's name, in the database's directory.
const NumbersFile = "punchbox.numbers"

// Reservation blocks: how far ahead of the number in use a mark is set.
const (
	seqBlock     = 100_000
	batchBlock   = 1_000
	sessionBlock = 100
)

// marks are the high-water marks, as the file holds them.
type marks struct {
	Epoch   string `json:"epoch"`
	Seq     int64  `json:"seq"`
	Batch   int64  `json:"batch"`
	Session int64  `json:"session"`
}

// ahead reports whether m is above o in any number.
func (m marks) ahead(o marks) bool {
	return m.Seq > o.Seq || m.Batch > o.Batch || m.Session > o.Session
}

// numbersMu orders the writes of marks, database and file together, so
// that the file never goes back.
var numbersMu sync.Mutex

// numbersPath is the file beside the database at dbPath.
func numbersPath(dbPath string) string { return filepath.Join(filepath.Dir(dbPath), NumbersFile) }

// maxNumbersFile bounds what is read of the file: it is a few dozen bytes.
const maxNumbersFile = 4 << 10

// readMarks reads the file; found is false when there is none. A file
// that is not what the box writes is an error.
func readMarks(path string) (m marks, found bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxNumbersFile+1))
	if err != nil {
		return m, false, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxNumbersFile || json.Unmarshal(b, &m) != nil || m.Epoch == "" || m.Seq < 0 || m.Batch < 0 || m.Session < 0 {
		return marks{}, true, fmt.Errorf("%s is not a punchbox numbers file", path)
	}
	return m, true, nil
}

func writeMarks(path string, m marks) error {
	b, _ := json.Marshal(m)
	err := writeFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// newEpoch returns a new random epoch id: 16 hex digits.
func newEpoch() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// counters are the database's numbers and marks.
type counters struct {
	marks              // the database's record of the file, and its epoch
	lastSeq, lastBatch int64
	batchSeq, session  int64
}

type querier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

func readCounters(ctx context.Context, q querier) (counters, error) {
	var c counters
	err := q.QueryRowContext(ctx, `SELECT epoch, max(last_seq, COALESCE((SELECT max(seq) FROM punches), 0)), last_batch, batch_seq, session,
		mark_seq, mark_batch, mark_session FROM outbox`).Scan(&c.Epoch, &c.lastSeq, &c.lastBatch, &c.batchSeq, &c.session, &c.Seq, &c.Batch, &c.Session)
	if err != nil {
		return c, fmt.Errorf("read numbering: %w", err)
	}
	return c, nil
}

// syncNumbers compares the database with the numbers file at open and
// makes numbering resume above everything the file says was published.
// It runs before the committer starts, on the writer.
func (db *DB) syncNumbers(ctx context.Context) error {
	numbersMu.Lock()
	defer numbersMu.Unlock()
	path := numbersPath(db.path)
	file, found, ferr := readMarks(path)
	c, err := readCounters(ctx, db.w)
	if err != nil {
		return err
	}
	inUse := marks{Epoch: c.Epoch, Seq: max(c.Seq, c.lastSeq), Batch: max(c.Batch, c.lastBatch), Session: max(c.Session, c.session)}
	switch {
	case ferr != nil:
		// Someone wrote it, or the card is failing: nothing says what
		// was published, so start a new epoch above what the database
		// knows.
		db.log.Warn("the numbers file is unreadable; numbering goes on in a new epoch", "err", ferr)
		return db.renumber(ctx, path, marks{Epoch: newEpoch(), Seq: inUse.Seq, Batch: inUse.Batch, Session: inUse.Session}, c)
	case !found:
		// First start with this file (a new box, an upgrade, or a
		// restore onto a fresh card, which gave the database a new
		// epoch already).
		if err := db.setMarks(ctx, inUse); err != nil {
			return err
		}
		return writeMarks(path, inUse)
	case file.Epoch != c.Epoch || file.ahead(c.marks):
		// This database is older than the numbers published (restored,
		// or copied in), or is another numbering: resume above both.
		epoch := c.Epoch
		if file.Epoch == c.Epoch || epoch == "" {
			epoch = newEpoch()
		}
		next := marks{Epoch: epoch, Seq: max(file.Seq, inUse.Seq), Batch: max(file.Batch, inUse.Batch), Session: max(file.Session, inUse.Session)}
		db.log.Warn("the store is behind the numbers central may have seen (restored from a backup?); numbering resumes above them in a new epoch",
			"epoch", next.Epoch, "previous_epoch", file.Epoch, "seq_from", next.Seq+1, "batch_from", next.Batch+1,
			"store_seq", c.lastSeq, "store_batch", c.lastBatch)
		return db.renumber(ctx, path, next, c)
	case c.marks.ahead(file):
		// The database's marks were committed and the box stopped
		// before the file was written: nothing above the file went out.
		return writeMarks(path, c.marks)
	}
	return nil
}

// renumber makes the database resume above m, in m's epoch, forgets the
// batches in flight, and writes m to the file.
func (db *DB) renumber(ctx context.Context, path string, m marks, c counters) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("renumber: %w", classify(err))
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `UPDATE outbox SET epoch = ?, last_seq = ?, last_batch = ?, batch_seq = ?, session = ?,
		mark_seq = ?, mark_batch = ?, mark_session = ?`,
		m.Epoch, max(m.Seq, c.lastSeq), m.Batch, m.Batch, m.Session, m.Seq, m.Batch, m.Session)
	if err == nil {
		_, err = tx.ExecContext(ctx, "DELETE FROM batches")
	}
	if err != nil {
		return fmt.Errorf("renumber: %w", classify(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("renumber: %w", classify(err))
	}
	return writeMarks(path, m)
}

func (db *DB) setMarks(ctx context.Context, m marks) error {
	_, err := db.w.ExecContext(ctx, "UPDATE outbox SET mark_seq = ?, mark_batch = ?, mark_session = ?", m.Seq, m.Batch, m.Session)
	if err != nil {
		return fmt.Errorf("set numbering marks: %w", classify(err))
	}
	return nil
}

// reserveAndCommit raises the marks, in tx and then in the file, so that they cover
// seq, batch and session (0: not in use). The file is written after tx
// commits: commit is called here. The caller holds numbersMu.
func (db *DB) reserveAndCommit(ctx context.Context, tx *sql.Tx, seq, batch, session int64) error {
	c, err := readCounters(ctx, tx)
	if err != nil {
		return err
	}
	m := c.marks
	if seq > m.Seq {
		m.Seq = seq + seqBlock
	}
	if batch > m.Batch {
		m.Batch = batch + batchBlock
	}
	if session > m.Session {
		m.Session = session + sessionBlock
	}
	raised := m != c.marks
	if raised {
		if err := db.setMarksTx(ctx, tx, m); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return classify(err)
	}
	if raised {
		return writeMarks(numbersPath(db.path), m)
	}
	return nil
}

func (db *DB) setMarksTx(ctx context.Context, tx *sql.Tx, m marks) error {
	_, err := tx.ExecContext(ctx, "UPDATE outbox SET mark_seq = ?, mark_batch = ?, mark_session = ?", m.Seq, m.Batch, m.Session)
	return classify(err)
}

// newEpochIn gives the database at path (closed, not in use) a new epoch:
// Restore calls it on the restored database before it swaps it in. A
// database from before epochs gets one when it is migrated.
func newEpochIn(ctx context.Context, path string) error {
	conn, err := sql.Open("sqlite", sqliteURI(path, false))
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM pragma_table_info('outbox') WHERE name = 'epoch'").Scan(&n); err != nil {
		return fmt.Errorf("new epoch: %w", err)
	}
	if n == 0 {
		return nil // migration 0004 gives it a random one
	}
	if _, err := conn.ExecContext(ctx, "UPDATE outbox SET epoch = ?", newEpoch()); err != nil {
		return fmt.Errorf("new epoch: %w", err)
	}
	return nil
}

// raiseMarksFrom raises the numbers file to cover what the database at
// dbPath has given out, if it can be read: Restore calls it before it
// replaces that database, so that its numbers are known above even when
// the file was lost. A database that cannot be read is skipped.
func raiseMarksFrom(ctx context.Context, dbPath string) error {
	numbersMu.Lock()
	defer numbersMu.Unlock()
	path := numbersPath(dbPath)
	file, found, ferr := readMarks(path)
	conn, err := sql.Open("sqlite", readOnlyURI(dbPath))
	if err != nil {
		return nil
	}
	defer conn.Close()
	c, err := readCounters(ctx, conn)
	if err != nil {
		// From before epochs (the new punchbox never ran on it): its
		// counters are there all the same.
		err = conn.QueryRowContext(ctx, `SELECT max(last_seq, COALESCE((SELECT max(seq) FROM punches), 0)), batch_seq, session FROM outbox`).
			Scan(&c.lastSeq, &c.lastBatch, &c.session)
		if err != nil {
			return nil // damaged: the file stands as it is
		}
		c.Epoch = newEpoch()
	}
	cur := marks{Epoch: c.Epoch, Seq: max(c.Seq, c.lastSeq), Batch: max(c.Batch, c.lastBatch), Session: max(c.Session, c.session)}
	if ferr != nil || !found {
		return writeMarks(path, cur)
	}
	next := marks{Epoch: file.Epoch, Seq: max(file.Seq, cur.Seq), Batch: max(file.Batch, cur.Batch), Session: max(file.Session, cur.Session)}
	if next != file {
		return writeMarks(path, next)
	}
	return nil
}
