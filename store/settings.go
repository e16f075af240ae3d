package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// Settings are what the panel and central may change at run time, kept as
// JSON values under short keys such as "site.zone" or "uplink.interval".

// Limits on settings.
const (
	MaxSettingKeyLen   = 64
	MaxSettingValueLen = 64 << 10 // bytes of JSON
)

// validSettingKey reports whether key is 1 to MaxSettingKeyLen characters of
// a-z, 0-9, '.', '_' and '-'.
func validSettingKey(key string) bool {
	if key == "" || len(key) > MaxSettingKeyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func errSettingKey(key string) error {
	return fmt.Errorf("%w: key %q: want 1 to %d characters of a-z, 0-9, '.', '_' and '-'", ErrInvalid, key, MaxSettingKeyLen)
}

// Setting decodes the value of key into into. It returns false, and leaves
// into alone, when key is unset.
func (db *DB) Setting(ctx context.Context, key string, into any) (bool, error) {
	if !validSettingKey(key) {
		return false, fmt.Errorf("read setting: %w", errSettingKey(key))
	}
	var v string
	err := db.r.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read setting %s: %w", key, err)
	}
	if err := json.Unmarshal([]byte(v), into); err != nil {
		return false, fmt.Errorf("read setting %s: %w", key, err)
	}
	return true, nil
}

// SetSetting stores v, encoded as JSON, under key. A value that does not
// encode (or a json.RawMessage that is not JSON) is ErrInvalid.
func (db *DB) SetSetting(ctx context.Context, key string, v any) error {
	if !validSettingKey(key) {
		return fmt.Errorf("set setting: %w", errSettingKey(key))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("set setting %s: %w: %w", key, ErrInvalid, err)
	}
	if len(b) > MaxSettingValueLen {
		return fmt.Errorf("set setting %s: %w: value longer than %d bytes", key, ErrInvalid, MaxSettingValueLen)
	}
	w, err := db.writer()
	if err != nil {
		return fmt.Errorf("set setting %s: %w", key, err)
	}
	_, err = w.ExecContext(ctx, `INSERT INTO settings (key, value, updated) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated`, key, string(b), millis(db.now()))
	if err != nil {
		return fmt.Errorf("set setting %s: %w", key, classify(err))
	}
	return nil
}

// Settings returns every setting, as stored.
func (db *DB) Settings(ctx context.Context) (map[string]json.RawMessage, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT key, value FROM settings")
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	defer rows.Close()
	out := make(map[string]json.RawMessage)
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("read settings: %w", err)
		}
		out[k] = json.RawMessage(v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	return out, nil
}

// DeleteSetting unsets key, or returns ErrNotFound when it was not set.
func (db *DB) DeleteSetting(ctx context.Context, key string) error {
	if !validSettingKey(key) {
		return fmt.Errorf("delete setting: %w", errSettingKey(key))
	}
	w, err := db.writer()
	if err != nil {
		return fmt.Errorf("delete setting %s: %w", key, err)
	}
	res, err := w.ExecContext(ctx, "DELETE FROM settings WHERE key = ?", key)
	if err != nil {
		return fmt.Errorf("delete setting %s: %w", key, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete setting %s: %w", key, ErrNotFound)
	}
	return nil
}
