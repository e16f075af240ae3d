package store

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// The audit log records who changed what, when and from where. It is
// append-only: triggers in the schema refuse any update or delete, so not
// even a bug in punchbox can rewrite it.

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	Seq    int64     // set by the store, in the order of writing
	At     time.Time // when; Audit uses the store's clock when zero
	Actor  string    // who: a user name, "token:<name>", "central", "system"
	Action string    // what, e.g. "user.create", "employees.replace"
	Target string    // on what, e.g. the user name or PIN
	Detail string    // free text, cut at MaxAuditDetail bytes
	Remote string    // the client's address
}

// Limits on audit fields, in bytes. Longer values are cut rather than
// refused: a hostile value must still leave its trace.
const (
	MaxAuditDetail = 4 << 10
	maxAuditField  = 256
)

// clip returns s with invalid UTF-8 replaced and cut to at most n bytes
// without splitting a character.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Audit appends e to the audit log. Actor and Action are required.
func (db *DB) Audit(ctx context.Context, e AuditEntry) error {
	if e.Actor == "" || e.Action == "" {
		return fmt.Errorf("audit: %w: actor and action are required", ErrInvalid)
	}
	w, err := db.writer()
	if err != nil {
		return fmt.Errorf("audit %s: %w", clip(e.Action, maxAuditField), err)
	}
	if e.At.IsZero() {
		e.At = db.now()
	}
	e.Actor, e.Action, e.Target = clip(e.Actor, maxAuditField), clip(e.Action, maxAuditField), clip(e.Target, maxAuditField)
	e.Remote, e.Detail = clip(e.Remote, maxRemoteLen), clip(e.Detail, MaxAuditDetail)
	_, err = w.ExecContext(ctx, "INSERT INTO audit (at, actor, action, target, detail, remote) VALUES (?, ?, ?, ?, ?, ?)",
		millis(e.At), e.Actor, e.Action, e.Target, e.Detail, e.Remote)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, classify(err))
	}
	return nil
}

// AuditFilter selects audit entries, newest first. Empty fields select
// everything.
type AuditFilter struct {
	Actor  string
	Action string
	// ActionPrefix selects actions starting with it, e.g. "terminal.".
	ActionPrefix string
	Since, Until time.Time // Since included, Until excluded; zero: open
	Before       int64     // only entries with a smaller Seq: the last Seq of the previous page
	Limit        int       // 0: DefaultAuditLimit
}

// DefaultAuditLimit is the page size when AuditFilter.Limit is 0.
const DefaultAuditLimit = 100

// AuditLog returns the entries f selects, newest first.
func (db *DB) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit < 0 || f.Before < 0 {
		return nil, fmt.Errorf("read audit log: %w: negative limit or position", ErrInvalid)
	}
	if f.Limit == 0 {
		f.Limit = DefaultAuditLimit
	}
	var where []string
	var args []any
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if f.ActionPrefix != "" {
		where, args = append(where, "substr(action, 1, ?) = ?"), append(args, utf8.RuneCountInString(f.ActionPrefix), f.ActionPrefix)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, millis(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "at < ?"), append(args, millis(f.Until))
	}
	if f.Before > 0 {
		where, args = append(where, "seq < ?"), append(args, f.Before)
	}
	q := "SELECT seq, at, actor, action, target, detail, remote FROM audit"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := db.r.QueryContext(ctx, q+" ORDER BY seq DESC LIMIT ?", append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Remote); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		e.At = fromMillis(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}
