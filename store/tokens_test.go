package store_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox/store"
)

var secretRE = regexp.MustCompile(`^pbx_[A-Za-z0-9_-]{43}$`)

func TestCreateToken(t *testing.T) {
	db, clk := openClock(t)
	ctx := context.Background()
	alice := mustCreateUser(t, db, "alice", store.RoleAdmin)
	secret, tok, err := db.CreateToken(ctx, "nightly export", store.RoleViewer, alice.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	want := store.Token{ID: tok.ID, Name: "nightly export", Role: store.RoleViewer, Created: clk.Now(), CreatedBy: "alice",
		OwnerID: alice.ID, Owner: "alice", OwnerRole: store.RoleAdmin}
	if !secretRE.MatchString(secret) || tok.ID == 0 || tok != want || tok.Effective() != store.RoleViewer {
		t.Fatalf("secret %q, token %+v; want %+v", secret, tok, want)
	}
	var n int
	if err := rawDB(t, db).QueryRow("SELECT count(*) FROM api_tokens WHERE hash = ? OR hash = ?", secret, strings.TrimPrefix(secret, "pbx_")).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the secret is stored: %d, %v", n, err)
	}
	if got, err := db.TokenBySecret(ctx, secret); err != nil || got.ID != tok.ID || got.Name != tok.Name || got.Role != tok.Role || got.Owner != "alice" {
		t.Fatalf("by secret: %+v, %v", got, err)
	}
	if _, _, err := db.CreateToken(ctx, "nightly export", store.RoleAdmin, alice.ID, ""); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("same name: %v; want ErrConflict", err)
	}
	secret2, t2, err := db.CreateToken(ctx, "Zoë's script", store.RoleAdmin, alice.ID, "token:nightly export")
	if err != nil || secret2 == secret || t2.CreatedBy != "token:nightly export" || t2.Effective() != store.RoleAdmin {
		t.Fatalf("second token: %q, %+v, %v", secret2, t2, err)
	}
	ts, err := db.Tokens(ctx)
	if err != nil || len(ts) != 2 || ts[0].Name != "nightly export" || ts[1].Name != "Zoë's script" || ts[1].Role != store.RoleAdmin || ts[1].Owner != "alice" {
		t.Fatalf("tokens = %+v, %v", ts, err)
	}
}

func TestCreateTokenInvalid(t *testing.T) {
	db, _ := openClock(t)
	alice := mustCreateUser(t, db, "alice", store.RoleAdmin)
	bob := mustCreateUser(t, db, "bob", store.RoleViewer)
	tests := []struct {
		name, token string
		role        store.Role
		owner       int64
		by          string
		want        error
	}{
		{"EmptyName", "", store.RoleViewer, alice.ID, "", store.ErrInvalid},
		{"LongName", strings.Repeat("n", 65), store.RoleViewer, alice.ID, "", store.ErrInvalid},
		{"ControlInName", "export\n", store.RoleViewer, alice.ID, "", store.ErrInvalid},
		{"TabInName", "a\tb", store.RoleViewer, alice.ID, "", store.ErrInvalid},
		{"LeadingSpace", " export", store.RoleViewer, alice.ID, "", store.ErrInvalid},
		{"NotUTF8", "export\xff", store.RoleViewer, alice.ID, "", store.ErrInvalid},
		{"Role", "export", "superuser", alice.ID, "", store.ErrInvalid},
		{"CreatedBy", "export", store.RoleViewer, alice.ID, "alice\x00", store.ErrInvalid},
		{"UnknownOwner", "export", store.RoleViewer, 999, "", store.ErrNotFound},
		{"NoOwner", "export", store.RoleViewer, 0, "", store.ErrNotFound},
		{"AboveOwner", "export", store.RoleAdmin, bob.ID, "", store.ErrInvalid},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := db.CreateToken(ctx, tt.token, tt.role, tt.owner, tt.by); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v; want %v", err, tt.want)
			}
		})
	}
	if ts, err := db.Tokens(ctx); err != nil || len(ts) != 0 {
		t.Fatalf("refused tokens were stored: %+v, %v", ts, err)
	}
	if _, _, err := db.CreateToken(ctx, strings.Repeat("é", 64), store.RoleViewer, bob.ID, ""); err != nil {
		t.Fatalf("64-character name: %v", err)
	}
}

func TestTokenLastUsed(t *testing.T) {
	db, clk := openClock(t)
	ctx := context.Background()
	alice := mustCreateUser(t, db, "alice", store.RoleAdmin)
	secret, tok, err := db.CreateToken(ctx, "export", store.RoleViewer, alice.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		advance time.Duration
		want    time.Duration // last used, after creation
	}{
		{"FirstUse", 0, 0},
		{"WithinAMinute", 59 * time.Second, 0},
		{"AfterAMinute", time.Minute, 119 * time.Second},
		{"SoonAfter", time.Second, 119 * time.Second},
	}
	for _, st := range steps {
		clk.Add(st.advance)
		got, err := db.TokenBySecret(ctx, secret)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		ts, err := db.Tokens(ctx)
		if err != nil || len(ts) != 1 {
			t.Fatalf("%s: tokens %+v, %v", st.name, ts, err)
		}
		want := tok.Created.Add(st.want)
		if !got.LastUsed.Equal(want) || !ts[0].LastUsed.Equal(want) {
			t.Fatalf("%s: last used %v, stored %v; want %v", st.name, got.LastUsed, ts[0].LastUsed, want)
		}
	}
}

func TestRevokeToken(t *testing.T) {
	db, clk := openClock(t)
	ctx := context.Background()
	alice := mustCreateUser(t, db, "alice", store.RoleAdmin)
	secret, tok, err := db.CreateToken(ctx, "export", store.RoleViewer, alice.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := db.CreateToken(ctx, "backup", store.RoleAdmin, alice.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	revokedAt := clk.Now()
	if err := db.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TokenBySecret(ctx, secret); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked token: %v; want ErrNotFound", err)
	}
	if _, err := db.TokenBySecret(ctx, other); err != nil {
		t.Fatalf("the other token: %v", err)
	}
	clk.Add(time.Hour)
	if err := db.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatalf("revoke again: %v", err)
	}
	ts, err := db.Tokens(ctx)
	if err != nil || len(ts) != 2 || !ts[0].Revoked.Equal(revokedAt) || !ts[1].Revoked.IsZero() {
		t.Fatalf("tokens = %+v, %v; want the first revoked at %v", ts, err, revokedAt)
	}
	if err := db.RevokeToken(ctx, 999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	for _, bad := range []string{"", "pbx_", strings.TrimPrefix(secret, "pbx_"), secret + "x", "Bearer " + other} {
		if _, err := db.TokenBySecret(ctx, bad); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("secret %q: %v; want ErrNotFound", bad, err)
		}
	}
}

// A token acts with at most its owner's current role, read at each use:
// demoting the owner lowers it at once, and deleting the owner revokes it.
func TestTokenFollowsOwner(t *testing.T) {
	db, clk := openClock(t)
	ctx := context.Background()
	mustCreateUser(t, db, "alice", store.RoleAdmin)
	bob := mustCreateUser(t, db, "bob", store.RoleAdmin)
	adminSecret, adminTok, err := db.CreateToken(ctx, "deploy", store.RoleAdmin, bob.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	viewerSecret, _, err := db.CreateToken(ctx, "report", store.RoleViewer, bob.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	effective := func(secret string) store.Role {
		t.Helper()
		tok, err := db.TokenBySecret(ctx, secret)
		if err != nil {
			t.Fatalf("token: %v", err)
		}
		return tok.Effective()
	}
	steps := []struct {
		name      string
		role      store.Role
		wantAdmin store.Role // of the admin token
	}{
		{"Demoted", store.RoleViewer, store.RoleViewer},
		{"Promoted", store.RoleAdmin, store.RoleAdmin},
		{"DemotedAgain", store.RoleViewer, store.RoleViewer},
	}
	for _, st := range steps {
		if err := db.SetRole(ctx, "bob", st.role); err != nil {
			t.Fatal(err)
		}
		if got := effective(adminSecret); got != st.wantAdmin {
			t.Errorf("%s: the admin token acts as %q, want %q", st.name, got, st.wantAdmin)
		}
		if got := effective(viewerSecret); got != store.RoleViewer {
			t.Errorf("%s: the viewer token acts as %q", st.name, got)
		}
	}
	clk.Add(time.Minute)
	revoked, err := db.DeleteUser(ctx, "BOB")
	if err != nil || len(revoked) != 2 || revoked[0].ID != adminTok.ID || revoked[0].Name != "deploy" || revoked[1].Name != "report" {
		t.Fatalf("delete bob: revoked %+v, %v; want both tokens", revoked, err)
	}
	for _, secret := range []string{adminSecret, viewerSecret} {
		if _, err := db.TokenBySecret(ctx, secret); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a token of a deleted user: %v, want ErrNotFound", err)
		}
	}
	ts, err := db.Tokens(ctx)
	if err != nil || len(ts) != 2 {
		t.Fatalf("tokens %+v, %v", ts, err)
	}
	for _, tok := range ts {
		if !tok.Revoked.Equal(clk.Now()) || tok.Owner != "" || tok.OwnerID != 0 || tok.CreatedBy != "bob" || tok.Effective() != "" {
			t.Errorf("after the owner's deletion: %+v, want revoked now, no owner, created by bob kept", tok)
		}
	}
	// A new user of the same name (SQLite may even give them the same id)
	// owns nothing of the old one's.
	mustCreateUser(t, db, "bob", store.RoleAdmin)
	if ts, err := db.Tokens(ctx); err != nil || ts[0].OwnerID != 0 || ts[1].OwnerID != 0 {
		t.Errorf("a new bob owns the old bob's tokens: %+v, %v", ts, err)
	}
}
