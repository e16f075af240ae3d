package store

import (
	"context"
	"fmt"

	"github.com/punchbox/punchbox"
)

// putRequest is one Put waiting for its commit.
type putRequest struct {
	punches []punchbox.Punch
	done    chan error
}

// Put stores punches, idempotently on their id: a punch already stored is
// skipped. It returns only after the transaction committed (synchronous=FULL),
// so a caller may acknowledge the punches to their terminal once it returns
// nil. Invalid punches fail the whole call with ErrInvalid and nothing is
// written. Concurrent Puts share one transaction and one fsync.
func (db *DB) Put(ctx context.Context, punches []punchbox.Punch) error {
	if db.ro {
		return ErrReadOnly
	}
	if d := db.Damage(); d != nil {
		return d
	}
	for i := range punches {
		if err := punches[i].Validate(); err != nil {
			return fmt.Errorf("%w: punch %d of %d: %w", ErrInvalid, i+1, len(punches), err)
		}
	}
	if len(punches) == 0 {
		return nil
	}
	req := &putRequest{punches: punches, done: make(chan error, 1)}
	select {
	case db.puts <- req:
	case <-db.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		// The commit may still happen; a later Put of the same punches is
		// harmless.
		return ctx.Err()
	}
}

// commitLoop is the group committer: it takes a Put, gathers the others
// already waiting, writes them all in one transaction and answers each.
func (db *DB) commitLoop() {
	var group []*putRequest
	for {
		select {
		case <-db.quit:
			return
		case req := <-db.puts:
			group = append(group[:0], req)
		}
		n := len(group[0].punches)
	gather:
		for n < db.maxGroup {
			select {
			case req := <-db.puts:
				group = append(group, req)
				n += len(req.punches)
			default:
				break gather
			}
		}
		inserted, err := db.insert(group)
		db.noteWrite(err)
		if err == nil {
			db.received.Add(int64(n))
			db.stored.Add(inserted)
		}
		// Readers are woken before the writers are answered: once Put has
		// returned, whoever waited on Changed has been told.
		if inserted > 0 {
			db.signal()
		}
		for _, req := range group {
			req.done <- err
		}
	}
}

// insertPunch adds a punch with the next sequence number unless its id is
// stored. Only a conflict on id is ignored: any other failure is an error.
const insertPunch = `INSERT INTO punches
	(seq, id, terminal_id, terminal_serial, pin, local_time, zone, utc_time, received, state, verify, work_code, source)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO NOTHING`

// insert writes a group of Puts in one transaction and returns how many
// punches were new.
func (db *DB) insert(group []*putRequest) (int64, error) {
	if d := db.Damage(); d != nil {
		return 0, d
	}
	ctx := context.Background() // a commit, once begun, completes
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store punches: %w", classify(err))
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, insertPunch)
	if err != nil {
		return 0, fmt.Errorf("store punches: %w", classify(err))
	}
	defer stmt.Close()
	// Sequence numbers are given here, by the only writer of punches: the
	// next one is used only when a punch is new, so there are no gaps.
	seq := db.lastSeq
	counts := map[hourTerminal]int64{}
	for _, req := range group {
		for i := range req.punches {
			p := &req.punches[i]
			local := p.Local.String()
			res, err := stmt.ExecContext(ctx, seq+1, p.ID, p.TerminalID, p.TerminalSerial, p.PIN, local, p.Zone,
				p.Time.Unix(), p.Received.UnixMilli(), int(p.State), int(p.Verify), p.WorkCode, string(p.Source))
			if err != nil {
				return 0, fmt.Errorf("store punches: %w", classify(err))
			}
			if n, _ := res.RowsAffected(); n == 1 {
				seq++
				counts[hourTerminal{local[:13], p.TerminalID}]++
			}
		}
	}
	inserted := seq - db.lastSeq
	if inserted > 0 {
		if _, err := tx.ExecContext(ctx, "UPDATE outbox SET pending = pending + ?, last_seq = ?", inserted, seq); err != nil {
			return 0, fmt.Errorf("store punches: %w", classify(err))
		}
		for k, n := range counts {
			_, err := tx.ExecContext(ctx, `INSERT INTO punch_counts (hour, terminal_id, punches) VALUES (?, ?, ?)
				ON CONFLICT (hour, terminal_id) DO UPDATE SET punches = punches + excluded.punches`, k.hour, k.terminal, n)
			if err != nil {
				return 0, fmt.Errorf("store punch counts: %w", classify(err))
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store punches: commit: %w", classify(err))
	}
	db.lastSeq = seq
	return inserted, nil
}

// hourTerminal keys punch_counts.
type hourTerminal struct{ hour, terminal string }

// Changed returns a channel that is closed when punches are next committed.
// Take it before reading, then wait on it: no commit can slip between the
// read and the wait.
func (db *DB) Changed() <-chan struct{} {
	db.notifyMu.Lock()
	defer db.notifyMu.Unlock()
	return db.changed
}

func (db *DB) signal() {
	db.notifyMu.Lock()
	close(db.changed)
	db.changed = make(chan struct{})
	db.notifyMu.Unlock()
}

// Counters are totals since the store was opened.
type Counters struct {
	Received int64 // punches committed by Put, including ones already stored
	Stored   int64 // punches that were new
}

// Counters returns the punch totals since Open.
func (db *DB) Counters() Counters {
	return Counters{Received: db.received.Load(), Stored: db.stored.Load()}
}
