package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// The panel keeps its sign-in lockouts in the daemon's memory; the console
// runs as another process on the same store. An unlock is a row in
// login_unlocks that the daemon reads when it is about to refuse a sign-in:
// lockouts whose last attempt is not after the unlock are forgotten.

// UnlockLogins lifts the panel's sign-in lockouts of the user called name
// (and of the client addresses that tried that account), or, with name "",
// every lockout of every account and address. An unknown user is
// ErrNotFound.
func (db *DB) UnlockLogins(ctx context.Context, name string) error {
	w, err := db.writer()
	if err != nil {
		return fmt.Errorf("unlock sign-ins: %w", err)
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("unlock sign-ins: %w", classify(err))
	}
	defer tx.Rollback()
	if name != "" {
		if !validUserName(name) {
			return fmt.Errorf("unlock sign-ins: %w", errUserName(name))
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE name = ?", name).Scan(&n); err != nil {
			return fmt.Errorf("unlock sign-ins of %s: %w", name, classify(err))
		}
		if n == 0 {
			return fmt.Errorf("unlock sign-ins of %s: %w", name, ErrNotFound)
		}
	}
	if err := unlockLogins(ctx, tx, strings.ToLower(name), db.now()); err != nil {
		return fmt.Errorf("unlock sign-ins: %w", classify(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("unlock sign-ins: commit: %w", classify(err))
	}
	return nil
}

// unlockLogins records an unlock of account (lower case; "" for all) at now.
func unlockLogins(ctx context.Context, tx *sql.Tx, account string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO login_unlocks (account, at) VALUES (?, ?)
		ON CONFLICT (account) DO UPDATE SET at = max(at, excluded.at)`, account, millis(now))
	return err
}

// LoginUnlocks returns when every lockout was last lifted and when the
// lockout of account (a user name in any case; "" for none) was; zero
// times for never.
func (db *DB) LoginUnlocks(ctx context.Context, account string) (all, one time.Time, err error) {
	rows, err := db.r.QueryContext(ctx, "SELECT account, at FROM login_unlocks WHERE account IN ('', ?)", strings.ToLower(account))
	if err != nil {
		return all, one, fmt.Errorf("read sign-in unlocks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		var at int64
		if err := rows.Scan(&a, &at); err != nil {
			return all, one, fmt.Errorf("read sign-in unlocks: %w", err)
		}
		if a == "" {
			all = fromMillis(at)
		} else {
			one = fromMillis(at)
		}
	}
	if err := rows.Err(); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("read sign-in unlocks: %w", err)
	}
	return all, one, nil
}
