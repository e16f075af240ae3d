package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a panel user or an API token may do.
type Role string

// Roles.
const (
	RoleAdmin  Role = "admin"  // everything
	RoleViewer Role = "viewer" // read only
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleViewer }

func errRole(r Role) error {
	return fmt.Errorf("%w: role %q: want admin or viewer", ErrInvalid, r)
}

// User is a panel user. The password hash never leaves the store.
type User struct {
	ID      int64
	Name    string
	Role    Role
	Created time.Time
	Updated time.Time
}

// MinPasswordLen is the shortest password accepted, in characters.
const MinPasswordLen = 12

// MaxUserNameLen is the longest user name accepted.
const MaxUserNameLen = 32

// validUserName reports whether name is 1 to MaxUserNameLen characters of
// A-Z, a-z, 0-9, '.', '_' and '-'. Names compare ignoring case.
func validUserName(name string) bool {
	if name == "" || len(name) > MaxUserNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func errUserName(name string) error {
	return fmt.Errorf("%w: user name %q: want 1 to %d characters of A-Z, a-z, 0-9, '.', '_' and '-'", ErrInvalid, name, MaxUserNameLen)
}

// checkPassword judges a new password for the user name. A weak password is
// both ErrInvalid and ErrWeakPassword.
func checkPassword(name, pw string) error {
	switch {
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("%w: password: longer than %d bytes", ErrInvalid, MaxPasswordLen)
	case !utf8.ValidString(pw):
		return fmt.Errorf("%w: password: not valid UTF-8", ErrInvalid)
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return fmt.Errorf("%w: %w: shorter than %d characters", ErrInvalid, ErrWeakPassword, MinPasswordLen)
	case strings.EqualFold(pw, name):
		return fmt.Errorf("%w: %w: the same as the user name", ErrInvalid, ErrWeakPassword)
	}
	return nil
}

// CreateUser adds a panel user. A name already taken, in any case, is
// ErrConflict.
func (db *DB) CreateUser(ctx context.Context, name string, role Role, password string) (User, error) {
	if !validUserName(name) {
		return User{}, fmt.Errorf("create user: %w", errUserName(name))
	}
	if !role.Valid() {
		return User{}, fmt.Errorf("create user %s: %w", name, errRole(role))
	}
	if err := checkPassword(name, password); err != nil {
		return User{}, fmt.Errorf("create user %s: %w", name, err)
	}
	w, err := db.writer()
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", name, err)
	}
	phc, err := HashPassword(password)
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", name, err)
	}
	now := fromMillis(millis(db.now()))
	u := User{Name: name, Role: role, Created: now, Updated: now}
	err = w.QueryRowContext(ctx, "INSERT INTO users (name, role, password, created, updated) VALUES (?, ?, ?, ?, ?) RETURNING id",
		name, string(role), phc, millis(now), millis(now)).Scan(&u.ID)
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", name, classify(err))
	}
	return u, nil
}

// SetPassword changes the user's password, ends all their sessions and
// lifts the panel's sign-in lockouts of the account (see UnlockLogins).
func (db *DB) SetPassword(ctx context.Context, name, password string) error {
	if !validUserName(name) {
		return fmt.Errorf("set password: %w", errUserName(name))
	}
	if err := checkPassword(name, password); err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	w, err := db.writer()
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	phc, err := HashPassword(password)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, classify(err))
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, "UPDATE users SET password = ?, updated = ? WHERE name = ? RETURNING id", phc, millis(db.now()), name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("set password of %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, classify(err))
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", id); err != nil {
		return fmt.Errorf("set password of %s: %w", name, classify(err))
	}
	if err := unlockLogins(ctx, tx, strings.ToLower(name), db.now()); err != nil {
		return fmt.Errorf("set password of %s: %w", name, classify(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set password of %s: commit: %w", name, classify(err))
	}
	return nil
}

// SetRole changes the user's role. Demoting the last admin is ErrLastAdmin.
func (db *DB) SetRole(ctx context.Context, name string, role Role) error {
	if !validUserName(name) {
		return fmt.Errorf("set role: %w", errUserName(name))
	}
	if !role.Valid() {
		return fmt.Errorf("set role of %s: %w", name, errRole(role))
	}
	err := db.changeUser(ctx, name, role != RoleAdmin, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE users SET role = ?, updated = ? WHERE name = ? AND role <> ?",
			string(role), millis(db.now()), name, string(role))
		return err
	})
	if err != nil {
		return fmt.Errorf("set role of %s: %w", name, err)
	}
	return nil
}

// DeleteUser deletes the user and, with them, their sessions, and revokes
// their API tokens, which it returns (for the audit log). Deleting the last
// admin is ErrLastAdmin.
func (db *DB) DeleteUser(ctx context.Context, name string) ([]Token, error) {
	if !validUserName(name) {
		return nil, fmt.Errorf("delete user: %w", errUserName(name))
	}
	var revoked []Token
	err := db.changeUser(ctx, name, true, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE api_tokens SET revoked = ?
			WHERE revoked = 0 AND owner_id = (SELECT id FROM users WHERE name = ?)
			RETURNING id, name, role, created, created_by, last_used, revoked, 0, '', ''`, max(millis(db.now()), 1), name)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanToken(rows)
			if err != nil {
				return err
			}
			revoked = append(revoked, t)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM users WHERE name = ?", name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("delete user %s: %w", name, err)
	}
	slices.SortFunc(revoked, func(a, b Token) int { return cmp.Compare(a.ID, b.ID) })
	return revoked, nil
}

// changeUser runs change in a transaction once the user exists (else
// ErrNotFound) and, when removesAdmin, is not the last admin (else
// ErrLastAdmin). The write lock is taken at BEGIN, so no other change can
// slip between the check and the change.
func (db *DB) changeUser(ctx context.Context, name string, removesAdmin bool, change func(*sql.Tx) error) error {
	w, err := db.writer()
	if err != nil {
		return err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback()
	var role string
	var admins int
	err = tx.QueryRowContext(ctx, "SELECT role, (SELECT count(*) FROM users WHERE role = 'admin') FROM users WHERE name = ?", name).Scan(&role, &admins)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if removesAdmin && Role(role) == RoleAdmin && admins <= 1 {
		return ErrLastAdmin
	}
	if err := change(tx); err != nil {
		return classify(err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", classify(err))
	}
	return nil
}

const userColumns = "id, name, role, created, updated"

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var created, updated int64
	if err := row.Scan(&u.ID, &u.Name, &u.Role, &created, &updated); err != nil {
		return u, err
	}
	u.Created, u.Updated = fromMillis(created), fromMillis(updated)
	return u, nil
}

// Users returns every panel user, by name.
func (db *DB) Users(ctx context.Context) ([]User, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT "+userColumns+" FROM users ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// UserByName returns the user called name, in any case, or ErrNotFound.
func (db *DB) UserByName(ctx context.Context, name string) (User, error) {
	u, err := scanUser(db.r.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("read user %q: %w", name, err)
	}
	return u, nil
}

// UserByID returns the user with id, or ErrNotFound.
func (db *DB) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(db.r.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("read user %d: %w", id, err)
	}
	return u, nil
}

// CountUsers counts the admins and all users: with no admin, the panel
// offers to create the first one.
func (db *DB) CountUsers(ctx context.Context) (admins, total int, err error) {
	err = db.r.QueryRowContext(ctx, "SELECT coalesce(sum(role = 'admin'), 0), count(*) FROM users").Scan(&admins, &total)
	if err != nil {
		return 0, 0, fmt.Errorf("count users: %w", err)
	}
	return admins, total, nil
}

// Authenticate returns the user whose name and password these are. An
// unknown user and a wrong password are both ErrBadCredentials and take
// about the same time: an unknown name is checked against a dummy hash. A
// password stored with older hash parameters is rehashed.
func (db *DB) Authenticate(ctx context.Context, name, password string) (User, error) {
	var u User
	var phc string
	var created, updated int64
	err := ErrBadCredentials
	if validUserName(name) && len(password) <= MaxPasswordLen {
		err = db.r.QueryRowContext(ctx, "SELECT id, name, role, created, updated, password FROM users WHERE name = ?", name).
			Scan(&u.ID, &u.Name, &u.Role, &created, &updated, &phc)
	}
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, ErrBadCredentials) {
		_, _ = CheckPassword(dummyPHC, password[:min(len(password), MaxPasswordLen)])
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("authenticate %s: %w", name, err)
	}
	ok, err := CheckPassword(phc, password)
	if err != nil {
		return User{}, fmt.Errorf("authenticate %s: %w", name, err)
	}
	if !ok {
		return User{}, ErrBadCredentials
	}
	u.Created, u.Updated = fromMillis(created), fromMillis(updated)
	db.rehash(ctx, u.ID, phc, password)
	return u, nil
}

// rehash stores password hashed with the current parameters when phc, its
// hash, has others. It is best effort: the next login tries again.
func (db *DB) rehash(ctx context.Context, id int64, phc, password string) {
	w, err := db.writer()
	if p, perr := parsePHC(phc); err != nil || perr != nil || p.current() {
		return
	}
	fresh, err := HashPassword(password)
	if err == nil {
		// The old hash in the condition: a password changed meanwhile stays.
		_, err = w.ExecContext(ctx, "UPDATE users SET password = ? WHERE id = ? AND password = ?", fresh, id, phc)
	}
	if err != nil {
		db.log.Debug("rehash password", "user", id, "err", err)
	}
}
