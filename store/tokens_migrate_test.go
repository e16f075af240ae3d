package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/punchbox/punchbox/store"
)

// Migration 0005 gives every API token an owner: the user who created it,
// or the owner of the token that created it. A token whose creator is not a
// user is revoked, with an entry in the audit log.
func TestMigrateTokenOwners(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), store.FileName)
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= 4; v++ {
		matches, _ := fs.Glob(store.Migrations(), fmt.Sprintf("migrations/%04d_*.sql", v))
		b, err := fs.ReadFile(store.Migrations(), matches[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(string(b)); err != nil {
			t.Fatalf("%s: %v", matches[0], err)
		}
	}
	for _, q := range []string{
		"PRAGMA user_version = 4",
		"INSERT INTO users (id, name, role, password, created, updated) VALUES (1, 'alice', 'admin', 'x', 1, 1), (2, 'bob', 'viewer', 'x', 1, 1)",
		`INSERT INTO api_tokens (id, name, hash, role, created, created_by, revoked) VALUES
			(1, 'by-alice', 'h1', 'admin', 1, 'Alice', 0),
			(2, 'by-token', 'h2', 'viewer', 1, 'token:by-alice', 0),
			(3, 'by-chain', 'h3', 'admin', 1, 'token:by-token', 0),
			(4, 'by-gone', 'h4', 'admin', 1, 'carol', 0),
			(5, 'by-nobody', 'h5', 'viewer', 1, '', 0),
			(6, 'revoked', 'h6', 'admin', 1, 'carol', 1234),
			(7, 'by-bob', 'h7', 'admin', 1, 'bob', 0),
			(8, 'loop', 'h8', 'admin', 1, 'token:loop', 0)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ts, err := db.Tokens(ctx)
	if err != nil || len(ts) != 8 {
		t.Fatalf("tokens %+v, %v", ts, err)
	}
	want := []struct {
		owner     string
		effective store.Role
		revoked   bool
	}{
		{"alice", store.RoleAdmin, false},
		{"alice", store.RoleViewer, false},
		{"alice", store.RoleAdmin, false},
		{"", "", true},
		{"", "", true},
		{"", "", true},
		{"bob", store.RoleViewer, false},
		{"", "", true},
	}
	for i, w := range want {
		tok := ts[i]
		if tok.Owner != w.owner || tok.Effective() != w.effective || tok.Revoked.IsZero() == w.revoked {
			t.Errorf("token %s: owner %q, acts as %q, revoked %v; want %q, %q, revoked %v", tok.Name, tok.Owner, tok.Effective(), tok.Revoked, w.owner, w.effective, w.revoked)
		}
	}
	if !ts[5].Revoked.Equal(time.UnixMilli(1234)) {
		t.Errorf("a token revoked before keeps its time: %v", ts[5].Revoked)
	}
	entries, err := db.AuditLog(ctx, store.AuditFilter{Action: "token.revoke"})
	if err != nil || len(entries) != 3 {
		t.Fatalf("audit %+v, %v; want three revocations", entries, err)
	}
	for _, e := range entries {
		if e.Actor != "punchbox" || e.Detail == "" {
			t.Errorf("audit entry %+v", e)
		}
	}
}
