package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
	"golang.org/x/crypto/argon2"
)

const goodPW = "a long enough password"

func mustCreateUser(t *testing.T, db *store.DB, name string, role store.Role) store.User {
	t.Helper()
	u, err := db.CreateUser(context.Background(), name, role, goodPW)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestCreateUser(t *testing.T) {
	db, clk := openClock(t)
	ctx := context.Background()
	u := mustCreateUser(t, db, "Alice", store.RoleAdmin)
	if u.ID == 0 || u.Name != "Alice" || u.Role != store.RoleAdmin || !u.Created.Equal(clk.Now()) || !u.Updated.Equal(u.Created) {
		t.Fatalf("created %+v", u)
	}
	for _, name := range []string{"Alice", "alice", "ALICE"} {
		got, err := db.UserByName(ctx, name)
		if err != nil || got != u {
			t.Fatalf("by name %s: %+v, %v; want %+v", name, got, err, u)
		}
	}
	if got, err := db.UserByID(ctx, u.ID); err != nil || got != u {
		t.Fatalf("by id: %+v, %v", got, err)
	}
	if _, err := db.UserByName(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown name: %v", err)
	}
	if _, err := db.UserByID(ctx, u.ID+1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	for _, name := range []string{"Alice", "aLiCe"} {
		if _, err := db.CreateUser(ctx, name, store.RoleViewer, goodPW); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second %s: %v; want ErrConflict", name, err)
		}
	}
	mustCreateUser(t, db, "bob.v_2-x", store.RoleViewer)
	users, err := db.Users(ctx)
	if err != nil || len(users) != 2 || users[0].Name != "Alice" || users[1].Name != "bob.v_2-x" {
		t.Fatalf("users = %+v, %v", users, err)
	}
	if admins, total, err := db.CountUsers(ctx); admins != 1 || total != 2 || err != nil {
		t.Fatalf("count = %d admins of %d, %v", admins, total, err)
	}
}

func TestCreateUserInvalid(t *testing.T) {
	tests := []struct {
		name, user string
		role       store.Role
		pw         string
		weak       bool
	}{
		{"EmptyName", "", store.RoleAdmin, goodPW, false},
		{"LongName", strings.Repeat("a", 33), store.RoleAdmin, goodPW, false},
		{"SpaceInName", "al ice", store.RoleAdmin, goodPW, false},
		{"NonASCIIName", "zoë", store.RoleAdmin, goodPW, false},
		{"AtInName", "a@b", store.RoleAdmin, goodPW, false},
		{"UnknownRole", "alice", "root", goodPW, false},
		{"EmptyRole", "alice", "", goodPW, false},
		{"ShortPassword", "alice", store.RoleAdmin, "elevenchars", true},
		{"ShortInRunes", "alice", store.RoleAdmin, "ééééééééééé", true}, // 22 bytes, 11 characters
		{"PasswordIsName", "alice.smith1", store.RoleAdmin, "Alice.Smith1", true},
		{"PasswordNotUTF8", "alice", store.RoleAdmin, "twelve bytes\xff", false},
		{"PasswordTooLong", "alice", store.RoleAdmin, strings.Repeat("p", store.MaxPasswordLen+1), false},
	}
	db := storetest.Open(t)
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.CreateUser(ctx, tt.user, tt.role, tt.pw)
			if !errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrWeakPassword) != tt.weak {
				t.Fatalf("err = %v; want ErrInvalid (weak password: %v)", err, tt.weak)
			}
		})
	}
	if _, total, err := db.CountUsers(ctx); total != 0 || err != nil {
		t.Fatalf("refused users were stored: %d, %v", total, err)
	}
	if _, err := db.CreateUser(ctx, strings.Repeat("a", 32), store.RoleAdmin, "ééééééééééée"); err != nil {
		t.Fatalf("longest name, 12-character password: %v", err)
	}
}

func TestSetPassword(t *testing.T) {
	db, _ := openClock(t)
	ctx := context.Background()
	alice := mustCreateUser(t, db, "alice", store.RoleAdmin)
	bob := mustCreateUser(t, db, "bob", store.RoleViewer)
	tokA, _, err := db.CreateSession(ctx, alice.ID, time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	tokB, _, err := db.CreateSession(ctx, bob.ID, time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetPassword(ctx, "alice", "short"); !errors.Is(err, store.ErrWeakPassword) {
		t.Fatalf("weak password: %v", err)
	}
	if _, _, err := db.SessionByToken(ctx, tokA); err != nil {
		t.Fatalf("a refused password change ended the session: %v", err)
	}
	if err := db.SetPassword(ctx, "ALICE", "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Authenticate(ctx, "alice", goodPW); !errors.Is(err, store.ErrBadCredentials) {
		t.Fatalf("old password: %v", err)
	}
	if u, err := db.Authenticate(ctx, "alice", "a brand new password"); err != nil || u.ID != alice.ID {
		t.Fatalf("new password: %+v, %v", u, err)
	}
	if _, _, err := db.SessionByToken(ctx, tokA); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("alice's session after the change: %v; want ErrNotFound", err)
	}
	if _, _, err := db.SessionByToken(ctx, tokB); err != nil {
		t.Fatalf("bob's session after alice's change: %v", err)
	}
	if err := db.SetPassword(ctx, "carol", "a brand new password"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestLastAdmin(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	mustCreateUser(t, db, "alice", store.RoleAdmin)
	mustCreateUser(t, db, "bob", store.RoleViewer)
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"DemoteLastAdmin", func() error { return db.SetRole(ctx, "alice", store.RoleViewer) }, store.ErrLastAdmin},
		{"DeleteLastAdmin", func() error { _, err := db.DeleteUser(ctx, "Alice"); return err }, store.ErrLastAdmin},
		{"KeepAdmin", func() error { return db.SetRole(ctx, "alice", store.RoleAdmin) }, nil},
		{"UnknownRole", func() error { return db.SetRole(ctx, "bob", "owner") }, store.ErrInvalid},
		{"UnknownUser", func() error { return db.SetRole(ctx, "carol", store.RoleAdmin) }, store.ErrNotFound},
		{"DeleteUnknown", func() error { _, err := db.DeleteUser(ctx, "carol"); return err }, store.ErrNotFound},
		{"DeleteBadName", func() error { _, err := db.DeleteUser(ctx, "a b"); return err }, store.ErrInvalid},
		{"PromoteBob", func() error { return db.SetRole(ctx, "bob", store.RoleAdmin) }, nil},
		{"DemoteAlice", func() error { return db.SetRole(ctx, "alice", store.RoleViewer) }, nil},
		{"DeleteBobNowLast", func() error { _, err := db.DeleteUser(ctx, "bob"); return err }, store.ErrLastAdmin},
		{"DeleteViewerAlice", func() error { _, err := db.DeleteUser(ctx, "alice"); return err }, nil},
	}
	for _, s := range steps {
		if err := s.do(); !errors.Is(err, s.want) || (s.want == nil && err != nil) {
			t.Fatalf("%s: %v; want %v", s.name, err, s.want)
		}
	}
	users, err := db.Users(ctx)
	if err != nil || len(users) != 1 || users[0].Name != "bob" || users[0].Role != store.RoleAdmin {
		t.Fatalf("users = %+v, %v", users, err)
	}
}

// TestLastAdminConcurrent: two admins demoting each other at once leave one.
func TestLastAdminConcurrent(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	mustCreateUser(t, db, "alice", store.RoleAdmin)
	mustCreateUser(t, db, "bob", store.RoleAdmin)
	errs := make(chan error, 2)
	go func() { _, err := db.DeleteUser(ctx, "alice"); errs <- err }()
	go func() { errs <- db.SetRole(ctx, "bob", store.RoleViewer) }()
	var lastAdmin int
	for range 2 {
		if err := <-errs; errors.Is(err, store.ErrLastAdmin) {
			lastAdmin++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if admins, _, err := db.CountUsers(ctx); admins != 1 || lastAdmin != 1 || err != nil {
		t.Fatalf("%d admins left, %d refusals, %v", admins, lastAdmin, err)
	}
}

func TestDeleteUserEndsSessions(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	mustCreateUser(t, db, "alice", store.RoleAdmin)
	bob := mustCreateUser(t, db, "bob", store.RoleViewer)
	tok, _, err := db.CreateSession(ctx, bob.ID, time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SessionByToken(ctx, tok); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session of a deleted user: %v", err)
	}
	var n int
	if err := rawDB(t, db).QueryRow("SELECT count(*) FROM sessions").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d sessions left, %v; want the cascade to delete them", n, err)
	}
}

func TestAuthenticate(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	alice := mustCreateUser(t, db, "alice", store.RoleAdmin)
	tests := []struct {
		name, user, pw string
		ok             bool
	}{
		{"Right", "alice", goodPW, true},
		{"NameIgnoresCase", "ALICE", goodPW, true},
		{"WrongPassword", "alice", goodPW + "!", false},
		{"PasswordCase", "alice", strings.ToUpper(goodPW), false},
		{"EmptyPassword", "alice", "", false},
		{"UnknownUser", "mallory", goodPW, false},
		{"InvalidName", "al ice'--", goodPW, false},
		{"EmptyName", "", "", false},
		{"HugePassword", "alice", strings.Repeat("x", 1<<20), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := db.Authenticate(ctx, tt.user, tt.pw)
			if tt.ok && (err != nil || u != alice) {
				t.Fatalf("authenticate = %+v, %v; want %+v", u, err, alice)
			}
			if !tt.ok && (!errors.Is(err, store.ErrBadCredentials) || u != (store.User{})) {
				t.Fatalf("authenticate = %+v, %v; want ErrBadCredentials", u, err)
			}
		})
	}
}

// TestAuthenticateRehashes: a password hashed with other parameters is
// rehashed with the current ones at the next login.
func TestAuthenticateRehashes(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	mustCreateUser(t, db, "alice", store.RoleAdmin)
	raw := rawDB(t, db)
	salt := []byte("sixteen byte slt")
	old := fmt.Sprintf("$argon2id$v=19$m=8192,t=1,p=1$%s$%s", b64(salt), b64(argon2.IDKey([]byte(goodPW), salt, 1, 8192, 1, 32)))
	if _, err := raw.Exec("UPDATE users SET password = ? WHERE name = 'alice'", old); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Authenticate(ctx, "alice", "wrong password!"); !errors.Is(err, store.ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	var phc string
	if err := raw.QueryRow("SELECT password FROM users").Scan(&phc); err != nil || phc != old {
		t.Fatalf("a failed login changed the hash: %q, %v", phc, err)
	}
	if _, err := db.Authenticate(ctx, "alice", goodPW); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow("SELECT password FROM users").Scan(&phc); err != nil || !phcRE.MatchString(phc) {
		t.Fatalf("hash after login %q, %v; want the current parameters", phc, err)
	}
	if _, err := db.Authenticate(ctx, "alice", goodPW); err != nil {
		t.Fatalf("login with the rehashed password: %v", err)
	}
}

// TestUsersReadOnly: a read-only store reads users, sessions and employees
// and refuses every change.
func TestUsersReadOnly(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	alice := mustCreateUser(t, db, "alice", store.RoleAdmin)
	tok, sess, err := db.CreateSession(ctx, alice.ID, time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	// A second before the session expires, however long the checks take.
	ro, err := store.Open(ctx, db.Path(), store.Options{ReadOnly: true, Now: func() time.Time { return sess.Expires.Add(-time.Second) }})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if u, err := ro.Authenticate(ctx, "alice", goodPW); err != nil || u != alice {
		t.Fatalf("authenticate read-only: %+v, %v", u, err)
	}
	if _, u, err := ro.SessionByToken(ctx, tok); err != nil || u != alice {
		t.Fatalf("session read-only: %+v, %v", u, err)
	}
	if _, _, err := ro.Employees(ctx, store.EmployeeFilter{Query: "x"}); err != nil {
		t.Fatalf("employees read-only: %v", err)
	}
	if _, err := ro.CreateUser(ctx, "bob", store.RoleAdmin, goodPW); !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("create user read-only: %v", err)
	}
	if err := ro.SetRole(ctx, "alice", store.RoleViewer); !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("set role read-only: %v", err)
	}
	if _, _, err := ro.CreateToken(ctx, "x", store.RoleAdmin, alice.ID, ""); !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("create token read-only: %v", err)
	}
	if err := ro.PutEmployee(ctx, emp("1", "Ann")); !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("put employee read-only: %v", err)
	}
	if err := ro.Audit(ctx, store.AuditEntry{Actor: "a", Action: "b"}); !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("audit read-only: %v", err)
	}
}
