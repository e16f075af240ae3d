package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// API tokens let scripts call the panel's API with
// "Authorization: Bearer pbx_…". The secret is shown once, at creation; the
// store keeps its SHA-256. A revoked token is kept, for the record.

// TokenPrefix starts every API token secret, so that one pasted into the
// wrong place is recognisable.
const TokenPrefix = "pbx_"

// MaxTokenNameLen is the longest token name accepted, in characters.
const MaxTokenNameLen = 64

// Token is an API token, without its secret. It acts for its owner, a
// user, with at most the owner's current role (Effective).
type Token struct {
	ID        int64
	Name      string
	Role      Role // the role it was given
	Created   time.Time
	CreatedBy string    // who created it: a user's name, or "token:NAME"
	LastUsed  time.Time // to within touchEvery; zero if never used
	Revoked   time.Time // zero while valid
	OwnerID   int64     // 0 once the owner is deleted (the token is revoked then)
	Owner     string    // the owner's name now; "" once deleted
	OwnerRole Role      // the owner's role now
}

// Effective is the role the token acts with: the lower of its own and its
// owner's current role; "" (no rights at all) without an owner.
func (t Token) Effective() Role {
	switch {
	case t.OwnerID == 0 || !t.OwnerRole.Valid():
		return ""
	case t.Role == RoleAdmin && t.OwnerRole == RoleAdmin:
		return RoleAdmin
	}
	return RoleViewer
}

// rank orders roles: a viewer is below an admin.
func (r Role) rank() int {
	if r == RoleAdmin {
		return 2
	}
	return 1
}

// validLabel reports whether s is valid UTF-8 of 1 to n printable
// characters, not starting or ending with a space.
func validLabel(s string, n int) bool {
	return s != "" && utf8.ValidString(s) && utf8.RuneCountInString(s) <= n &&
		strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 &&
		strings.TrimSpace(s) == s
}

// CreateToken creates an API token owned by the user with id owner and
// returns its secret, which is not stored and cannot be shown again.
// createdBy records who made it ("" for the owner). A name already taken is
// ErrConflict; an unknown owner ErrNotFound; a role above the owner's
// ErrInvalid.
func (db *DB) CreateToken(ctx context.Context, name string, role Role, owner int64, createdBy string) (string, Token, error) {
	if !validLabel(name, MaxTokenNameLen) {
		return "", Token{}, fmt.Errorf("create token: %w: name %q: want 1 to %d printable characters", ErrInvalid, name, MaxTokenNameLen)
	}
	if !role.Valid() {
		return "", Token{}, fmt.Errorf("create token %s: %w", name, errRole(role))
	}
	if createdBy != "" && !validLabel(createdBy, MaxTokenNameLen+len("token:")) {
		return "", Token{}, fmt.Errorf("create token %s: %w: created by %q: want up to %d printable characters", name, ErrInvalid, createdBy, MaxTokenNameLen)
	}
	w, err := db.writer()
	if err != nil {
		return "", Token{}, fmt.Errorf("create token %s: %w", name, err)
	}
	secret, err := newSecret()
	if err != nil {
		return "", Token{}, fmt.Errorf("create token %s: %w", name, err)
	}
	secret = TokenPrefix + secret
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return "", Token{}, fmt.Errorf("create token %s: %w", name, classify(err))
	}
	defer tx.Rollback()
	t := Token{Name: name, Role: role, Created: fromMillis(millis(db.now())), OwnerID: owner}
	err = tx.QueryRowContext(ctx, "SELECT name, role FROM users WHERE id = ?", owner).Scan(&t.Owner, &t.OwnerRole)
	if errors.Is(err, sql.ErrNoRows) {
		return "", Token{}, fmt.Errorf("create token %s: owner %d: %w", name, owner, ErrNotFound)
	}
	if err != nil {
		return "", Token{}, fmt.Errorf("create token %s: read owner: %w", name, classify(err))
	}
	if role.rank() > t.OwnerRole.rank() {
		return "", Token{}, fmt.Errorf("create token %s: %w: role %s is above its owner %s's role %s", name, ErrInvalid, role, t.Owner, t.OwnerRole)
	}
	t.CreatedBy = cmp.Or(createdBy, t.Owner)
	err = tx.QueryRowContext(ctx, "INSERT INTO api_tokens (name, hash, role, created, created_by, owner_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
		name, hashSecret(secret), string(role), millis(t.Created), t.CreatedBy, owner).Scan(&t.ID)
	if err != nil {
		return "", Token{}, fmt.Errorf("create token %s: %w", name, classify(err))
	}
	if err := tx.Commit(); err != nil {
		return "", Token{}, fmt.Errorf("create token %s: commit: %w", name, classify(err))
	}
	return secret, t, nil
}

// tokenColumns are read FROM api_tokens t LEFT JOIN users u ON u.id = t.owner_id.
const tokenColumns = "t.id, t.name, t.role, t.created, t.created_by, t.last_used, t.revoked, coalesce(t.owner_id, 0), coalesce(u.name, ''), coalesce(u.role, '')"

const tokensFrom = " FROM api_tokens t LEFT JOIN users u ON u.id = t.owner_id"

func scanToken(row interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var created, lastUsed, revoked int64
	if err := row.Scan(&t.ID, &t.Name, &t.Role, &created, &t.CreatedBy, &lastUsed, &revoked, &t.OwnerID, &t.Owner, &t.OwnerRole); err != nil {
		return t, err
	}
	t.Created, t.LastUsed, t.Revoked = fromMillis(created), fromMillis(lastUsed), fromMillis(revoked)
	if t.Owner == "" {
		t.OwnerID = 0
	}
	return t, nil
}

// TokenBySecret returns the token whose secret this is, with its owner's
// current name and role, read now: a change of the owner's role is in
// force at the token's next request. An unknown or revoked token, and one
// without an owner, is ErrNotFound. It records the use, at most once every
// touchEvery.
func (db *DB) TokenBySecret(ctx context.Context, secret string) (Token, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return Token{}, fmt.Errorf("token: %w", ErrNotFound)
	}
	t, err := scanToken(db.r.QueryRowContext(ctx, "SELECT "+tokenColumns+tokensFrom+" WHERE t.hash = ?", hashSecret(secret)))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("token: %w", ErrNotFound)
	}
	if err != nil {
		return Token{}, fmt.Errorf("read token: %w", err)
	}
	if !t.Revoked.IsZero() {
		return Token{}, fmt.Errorf("token %s: revoked: %w", t.Name, ErrNotFound)
	}
	if t.Effective() == "" {
		return Token{}, fmt.Errorf("token %s: its owner is gone: %w", t.Name, ErrNotFound)
	}
	now := db.now()
	if w, err := db.writer(); err == nil && now.Sub(t.LastUsed) >= touchEvery {
		// Best effort, as for sessions; a token revoked meanwhile stays so.
		if _, err := w.ExecContext(ctx, "UPDATE api_tokens SET last_used = ? WHERE id = ? AND revoked = 0", millis(now), t.ID); err != nil {
			db.log.Debug("record token use", "err", err)
		} else {
			t.LastUsed = fromMillis(millis(now))
		}
	}
	return t, nil
}

// Tokens returns every API token, revoked ones included, oldest first.
func (db *DB) Tokens(ctx context.Context) ([]Token, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT "+tokenColumns+tokensFrom+" ORDER BY t.id")
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes the token with id for good. Revoking a revoked token
// keeps its first revocation time; an unknown id is ErrNotFound.
func (db *DB) RevokeToken(ctx context.Context, id int64) error {
	w, err := db.writer()
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	var revoked int64
	err = w.QueryRowContext(ctx, `UPDATE api_tokens SET revoked = CASE revoked WHEN 0 THEN ? ELSE revoked END
		WHERE id = ? RETURNING revoked`, max(millis(db.now()), 1), id).Scan(&revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("revoke token %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, classify(err))
	}
	return nil
}
