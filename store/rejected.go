package store

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
)

// MaxRejectedPerTerminal bounds the rejected records kept per terminal: a
// terminal whose whole log is garbage cannot fill the SD card. Past it the
// least recently seen go first.
const MaxRejectedPerTerminal = 1000

// maxReason bounds the reason kept with a rejected record.
const maxReason = 200

// RejectedRecord is a record a terminal sent that could not be a punch, as
// the store keeps it (see drivers.Rejected).
type RejectedRecord struct {
	ID         int64           `json:"id"`
	TerminalID string          `json:"terminal_id"`
	Serial     string          `json:"serial,omitempty"`
	Source     punchbox.Source `json:"source"`
	Reason     string          `json:"reason"`
	Raw        []byte          `json:"raw"`
	FirstSeen  time.Time       `json:"first_seen"`
	LastSeen   time.Time       `json:"last_seen"`
}

// Reject implements drivers.RejectKeeper: each record is kept once per
// terminal and raw bytes (a record read again only moves its last-seen
// time), raw cut at drivers.MaxRejectedRaw and the reason at 200 bytes, and
// no terminal keeps more than MaxRejectedPerTerminal. Records of a terminal
// the store does not know are dropped.
func (db *DB) Reject(ctx context.Context, recs []drivers.Rejected) error {
	if len(recs) == 0 {
		return nil
	}
	w, err := db.writer()
	if err != nil {
		return err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("keep rejected records: %w", classify(err))
	}
	defer tx.Rollback()
	now := millis(db.now())
	terminals := map[string]int{}
	// Only the newest MaxRejectedPerTerminal of one terminal could stay.
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if terminals[r.TerminalID] >= MaxRejectedPerTerminal {
			continue
		}
		terminals[r.TerminalID]++
		raw := r.Raw[:min(len(r.Raw), drivers.MaxRejectedRaw)]
		seen := millis(r.Received)
		if seen == 0 {
			seen = now
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO rejected (terminal_id, serial, source, reason, raw, first_seen, last_seen)
			SELECT id, ?2, ?3, ?4, ?5, ?6, ?6 FROM terminals WHERE id = ?1
			ON CONFLICT (terminal_id, raw) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen),
				reason = excluded.reason, serial = excluded.serial`,
			r.TerminalID, clean(r.Serial, punchbox.MaxIdentLen), string(r.Source), clean(r.Reason, maxReason), raw, seen)
		if err != nil {
			return fmt.Errorf("keep rejected record of %s: %w", r.TerminalID, classify(err))
		}
	}
	for id := range terminals {
		_, err := tx.ExecContext(ctx, `DELETE FROM rejected WHERE terminal_id = ?1 AND id NOT IN
			(SELECT id FROM rejected WHERE terminal_id = ?1 ORDER BY last_seen DESC, id DESC LIMIT ?2)`, id, MaxRejectedPerTerminal)
		if err != nil {
			return fmt.Errorf("prune rejected records of %s: %w", id, classify(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("keep rejected records: %w", classify(err))
	}
	return nil
}

// RejectedRecords returns up to limit of a terminal's rejected records, the
// most recently seen first, and how many it keeps in all.
func (db *DB) RejectedRecords(ctx context.Context, terminalID string, limit int) ([]RejectedRecord, int, error) {
	var total int
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM rejected WHERE terminal_id = ?", terminalID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count rejected records of %s: %w", terminalID, err)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, terminal_id, serial, source, reason, raw, first_seen, last_seen
		FROM rejected WHERE terminal_id = ? ORDER BY last_seen DESC, id DESC LIMIT ?`, terminalID, max(0, limit))
	if err != nil {
		return nil, 0, fmt.Errorf("read rejected records of %s: %w", terminalID, err)
	}
	defer rows.Close()
	var out []RejectedRecord
	for rows.Next() {
		var r RejectedRecord
		var source string
		var first, last int64
		if err := rows.Scan(&r.ID, &r.TerminalID, &r.Serial, &source, &r.Reason, &r.Raw, &first, &last); err != nil {
			return nil, 0, err
		}
		r.Source, r.FirstSeen, r.LastSeen = punchbox.Source(source), fromMillis(first), fromMillis(last)
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// RejectedCounts returns how many rejected records the store keeps per
// terminal, for terminals that have any.
func (db *DB) RejectedCounts(ctx context.Context) (map[string]int, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT terminal_id, count(*) FROM rejected GROUP BY terminal_id")
	if err != nil {
		return nil, fmt.Errorf("count rejected records: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// ClearRejected forgets a terminal's rejected records (an admin looked at
// them); it returns how many there were.
func (db *DB) ClearRejected(ctx context.Context, terminalID string) (int, error) {
	w, err := db.writer()
	if err != nil {
		return 0, err
	}
	res, err := w.ExecContext(ctx, "DELETE FROM rejected WHERE terminal_id = ?", terminalID)
	if err != nil {
		return 0, fmt.Errorf("clear rejected records of %s: %w", terminalID, classify(err))
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// clean makes a string from outside fit to keep and show: valid UTF-8,
// no control characters, at most n bytes.
func clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

var _ drivers.RejectKeeper = (*DB)(nil)
