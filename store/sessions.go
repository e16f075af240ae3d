package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Panel sessions live on the server so that logout ends them: the panel's
// signed cookie carries the token, and the store keeps only its SHA-256.
// Expiry is fixed at creation; it does not slide with use.

// Session is one panel login.
type Session struct {
	ID       string // SHA-256 of the token, in hex: what the store keeps
	UserID   int64
	Created  time.Time
	Expires  time.Time
	LastSeen time.Time // to within touchEvery
	Remote   string    // client address at login
	Agent    string    // User-Agent at login
}

// touchEvery is how stale last_seen or last_used may be: refreshing it on
// every request would write the SD card on every request.
const touchEvery = time.Minute

// Limits on what a session records of its client; longer values are cut.
const (
	maxRemoteLen = 64
	maxAgentLen  = 256
)

// newSecret returns 32 random bytes in unpadded base64url.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// hashSecret returns the SHA-256 of a session token or API token in hex.
func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// CreateSession starts a session for the user, valid for ttl, and returns
// its token, which is not stored: only the SHA-256 of it. An unknown user
// is ErrNotFound.
func (db *DB) CreateSession(ctx context.Context, userID int64, ttl time.Duration, remote, agent string) (string, Session, error) {
	if ttl < time.Second {
		return "", Session{}, fmt.Errorf("create session: %w: ttl %v: want a second or more", ErrInvalid, ttl)
	}
	w, err := db.writer()
	if err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", err)
	}
	token, err := newSecret()
	if err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", err)
	}
	now := fromMillis(millis(db.now()))
	s := Session{ID: hashSecret(token), UserID: userID, Created: now, Expires: now.Add(ttl.Truncate(time.Millisecond)),
		LastSeen: now, Remote: clip(remote, maxRemoteLen), Agent: clip(agent, maxAgentLen)}
	res, err := w.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created, expires, last_seen, remote, agent)
		SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE id = ?)`,
		s.ID, s.UserID, millis(s.Created), millis(s.Expires), millis(s.LastSeen), s.Remote, s.Agent, userID)
	if err != nil {
		return "", Session{}, fmt.Errorf("create session for user %d: %w", userID, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", Session{}, fmt.Errorf("create session: user %d: %w", userID, ErrNotFound)
	}
	return token, s, nil
}

const sessionColumns = "s.id, s.user_id, s.created, s.expires, s.last_seen, s.remote, s.agent"

func scanSession(row interface{ Scan(...any) error }, extra ...any) (Session, error) {
	var s Session
	var created, expires, lastSeen int64
	dest := append([]any{&s.ID, &s.UserID, &created, &expires, &lastSeen, &s.Remote, &s.Agent}, extra...)
	if err := row.Scan(dest...); err != nil {
		return s, err
	}
	s.Created, s.Expires, s.LastSeen = fromMillis(created), fromMillis(expires), fromMillis(lastSeen)
	return s, nil
}

// SessionByToken returns the session of token and its user. An unknown or
// expired session is ErrNotFound. It records the use, at most once every
// touchEvery.
func (db *DB) SessionByToken(ctx context.Context, token string) (Session, User, error) {
	var u User
	var created, updated int64
	s, err := scanSession(db.r.QueryRowContext(ctx, "SELECT "+sessionColumns+", u.id, u.name, u.role, u.created, u.updated"+
		" FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?", hashSecret(token)),
		&u.ID, &u.Name, &u.Role, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, User{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, User{}, fmt.Errorf("read session: %w", err)
	}
	now := db.now()
	if !now.Before(s.Expires) {
		return Session{}, User{}, fmt.Errorf("session: expired: %w", ErrNotFound)
	}
	u.Created, u.Updated = fromMillis(created), fromMillis(updated)
	if w, err := db.writer(); err == nil && now.Sub(s.LastSeen) >= touchEvery {
		// Best effort: a full disk must not lock the panel out.
		if _, err := w.ExecContext(ctx, "UPDATE sessions SET last_seen = ? WHERE id = ?", millis(now), s.ID); err != nil {
			db.log.Debug("record session use", "err", err)
		} else {
			s.LastSeen = fromMillis(millis(now))
		}
	}
	return s, u, nil
}

// DeleteSession ends the session of token (logout). An unknown session is
// ErrNotFound.
func (db *DB) DeleteSession(ctx context.Context, token string) error {
	w, err := db.writer()
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	res, err := w.ExecContext(ctx, "DELETE FROM sessions WHERE id = ?", hashSecret(token))
	if err != nil {
		return fmt.Errorf("delete session: %w", classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete session: %w", ErrNotFound)
	}
	return nil
}

// DeleteSessions ends every session of the user.
func (db *DB) DeleteSessions(ctx context.Context, userID int64) error {
	w, err := db.writer()
	if err != nil {
		return fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	if _, err := w.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", userID); err != nil {
		return fmt.Errorf("delete sessions of user %d: %w", userID, classify(err))
	}
	return nil
}

// Sessions returns the user's sessions that have not expired, newest first.
func (db *DB) Sessions(ctx context.Context, userID int64) ([]Session, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT "+sessionColumns+" FROM sessions s WHERE s.user_id = ? AND s.expires > ? ORDER BY s.created DESC, s.id",
		userID, millis(db.now()))
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
	}
	return out, nil
}

// PruneSessions deletes expired sessions and returns how many.
func (db *DB) PruneSessions(ctx context.Context) (int, error) {
	w, err := db.writer()
	if err != nil {
		return 0, fmt.Errorf("prune sessions: %w", err)
	}
	res, err := w.ExecContext(ctx, "DELETE FROM sessions WHERE expires <= ?", millis(db.now()))
	if err != nil {
		return 0, fmt.Errorf("prune sessions: %w", classify(err))
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
