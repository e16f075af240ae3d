package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
)

// Terminals live in the store; the configuration file only seeds them on
// first start.

const terminalColumns = "id, name, kind, address, zone, options, enabled"

func scanTerminal(s scanner) (punchbox.Terminal, error) {
	var t punchbox.Terminal
	var kind, opts string
	if err := s.Scan(&t.ID, &t.Name, &kind, &t.Address, &t.Zone, &opts, &t.Enabled); err != nil {
		return t, err
	}
	t.Kind = punchbox.TerminalKind(kind)
	if err := json.Unmarshal([]byte(opts), &t.Options); err != nil {
		return t, fmt.Errorf("terminal %s: options: %w", t.ID, err)
	}
	return t, nil
}

// validateTerminal checks what the store itself relies on; each driver
// checks its own options when the terminal is built.
func validateTerminal(t punchbox.Terminal) (string, error) {
	switch {
	case !punchbox.ValidName(t.ID):
		return "", fmt.Errorf("%w: terminal id %q: want 1-%d of a-z, 0-9 and '-'", ErrInvalid, t.ID, punchbox.MaxNameLen)
	case !t.Kind.Valid():
		return "", fmt.Errorf("%w: terminal %s: kind %q", ErrInvalid, t.ID, t.Kind)
	case len(t.Name) > 100 || len(t.Address) > 255:
		return "", fmt.Errorf("%w: terminal %s: name or address too long", ErrInvalid, t.ID)
	}
	if t.Zone != "" {
		if _, err := time.LoadLocation(t.Zone); err != nil {
			return "", fmt.Errorf("%w: terminal %s: zone %q", ErrInvalid, t.ID, t.Zone)
		}
	}
	opts := t.Options
	if opts == nil {
		opts = map[string]any{}
	}
	b, err := json.Marshal(opts)
	if err != nil {
		return "", fmt.Errorf("%w: terminal %s: options: %w", ErrInvalid, t.ID, err)
	}
	return string(b), nil
}

// CreateTerminal adds a terminal; ErrConflict if its id is taken.
func (db *DB) CreateTerminal(ctx context.Context, t punchbox.Terminal) error {
	opts, err := validateTerminal(t)
	if err != nil {
		return err
	}
	w, err := db.writer()
	if err != nil {
		return err
	}
	now := millis(db.now())
	_, err = w.ExecContext(ctx, `INSERT INTO terminals (id, name, kind, address, zone, options, enabled, created, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, t.Name, string(t.Kind), t.Address, t.Zone, opts, t.Enabled, now, now)
	if err != nil {
		return fmt.Errorf("create terminal %s: %w", t.ID, classify(err))
	}
	return nil
}

// UpdateTerminal replaces a terminal's configuration; ErrNotFound if none
// has its id. Its cursor and health stay.
func (db *DB) UpdateTerminal(ctx context.Context, t punchbox.Terminal) error {
	opts, err := validateTerminal(t)
	if err != nil {
		return err
	}
	w, err := db.writer()
	if err != nil {
		return err
	}
	res, err := w.ExecContext(ctx, `UPDATE terminals SET name = ?, kind = ?, address = ?, zone = ?, options = ?, enabled = ?, updated = ?
		WHERE id = ?`, t.Name, string(t.Kind), t.Address, t.Zone, opts, t.Enabled, millis(db.now()), t.ID)
	if err != nil {
		return fmt.Errorf("update terminal %s: %w", t.ID, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update terminal %s: %w", t.ID, ErrNotFound)
	}
	return nil
}

// DeleteTerminal removes a terminal and its state. Its punches stay.
func (db *DB) DeleteTerminal(ctx context.Context, id string) error {
	w, err := db.writer()
	if err != nil {
		return err
	}
	res, err := w.ExecContext(ctx, "DELETE FROM terminals WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete terminal %s: %w", id, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete terminal %s: %w", id, ErrNotFound)
	}
	return nil
}

// Terminal returns one terminal; ErrNotFound if none has id.
func (db *DB) Terminal(ctx context.Context, id string) (punchbox.Terminal, error) {
	t, err := scanTerminal(db.r.QueryRowContext(ctx, "SELECT "+terminalColumns+" FROM terminals WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("terminal %s: %w", id, ErrNotFound)
	}
	return t, err
}

// Terminals returns every terminal, by id.
func (db *DB) Terminals(ctx context.Context) ([]punchbox.Terminal, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT "+terminalColumns+" FROM terminals ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list terminals: %w", err)
	}
	defer rows.Close()
	var out []punchbox.Terminal
	for rows.Next() {
		t, err := scanTerminal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// seededKey marks in settings that the configuration's terminals were
// copied into the store.
const seededKey = "terminals.seeded"

// SeedTerminals stores ts on the first start only: once seeded, the store's
// terminals are what counts, however the configuration changes. It reports
// whether it seeded. Everything happens in one transaction.
func (db *DB) SeedTerminals(ctx context.Context, ts []punchbox.Terminal) (bool, error) {
	w, err := db.writer()
	if err != nil {
		return false, err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("seed terminals: %w", classify(err))
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM settings WHERE key = ?", seededKey).Scan(&n); err != nil {
		return false, fmt.Errorf("seed terminals: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	now := millis(db.now())
	for _, t := range ts {
		opts, err := validateTerminal(t)
		if err != nil {
			return false, fmt.Errorf("seed terminals: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO terminals (id, name, kind, address, zone, options, enabled, created, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, t.Name, string(t.Kind), t.Address, t.Zone, opts, t.Enabled, now, now)
		if err != nil {
			return false, fmt.Errorf("seed terminal %s: %w", t.ID, classify(err))
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO settings (key, value, updated) VALUES (?, 'true', ?)", seededKey, now); err != nil {
		return false, fmt.Errorf("seed terminals: %w", classify(err))
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("seed terminals: %w", classify(err))
	}
	return true, nil
}

// LoadCursor implements drivers.StateStore.
func (db *DB) LoadCursor(ctx context.Context, id string) (drivers.Cursor, error) {
	var c drivers.Cursor
	var raw string
	err := db.r.QueryRowContext(ctx, "SELECT cursor FROM terminal_state WHERE terminal_id = ?", id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("load cursor of %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return c, fmt.Errorf("load cursor of %s: %w", id, err)
	}
	return c, nil
}

// SaveCursor implements drivers.StateStore.
func (db *DB) SaveCursor(ctx context.Context, id string, c drivers.Cursor) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("save cursor of %s: %w", id, err)
	}
	return db.saveState(ctx, id, "cursor", string(b), 0)
}

// SaveHealth keeps what the supervisor knows of a terminal, so the panel
// shows it after a restart.
func (db *DB) SaveHealth(ctx context.Context, h drivers.Health) error {
	b, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("save health of %s: %w", h.ID, err)
	}
	return db.saveState(ctx, h.ID, "health", string(b), millis(h.LastContact))
}

func (db *DB) saveState(ctx context.Context, id, column, value string, contact int64) error {
	w, err := db.writer()
	if err != nil {
		return err
	}
	_, err = w.ExecContext(ctx, `INSERT INTO terminal_state (terminal_id, `+column+`, last_contact, updated)
		SELECT id, ?2, ?3, ?4 FROM terminals WHERE id = ?1
		ON CONFLICT (terminal_id) DO UPDATE SET `+column+` = ?2, last_contact = max(last_contact, ?3), updated = ?4`,
		id, value, contact, millis(db.now()))
	if err != nil {
		return fmt.Errorf("save %s of terminal %s: %w", column, id, classify(err))
	}
	return nil
}

// Healths returns the last saved health of every terminal that has one.
func (db *DB) Healths(ctx context.Context) (map[string]drivers.Health, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT terminal_id, health FROM terminal_state")
	if err != nil {
		return nil, fmt.Errorf("read terminal health: %w", err)
	}
	defer rows.Close()
	out := map[string]drivers.Health{}
	for rows.Next() {
		var id, raw string
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, err
		}
		var h drivers.Health
		if raw != "{}" && json.Unmarshal([]byte(raw), &h) == nil {
			out[id] = h
		}
	}
	return out, rows.Err()
}

var (
	_ drivers.StateStore      = (*DB)(nil)
	_ drivers.Sink            = (*DB)(nil)
	_ drivers.DeliveryChecker = (*DB)(nil)
)
