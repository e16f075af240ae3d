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
	secret, tok, err := db.CreateToken(ctx, "nightly export", store.RoleViewer, "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := store.Token{ID: tok.ID, Name: "nightly export", Role: store.RoleViewer, Created: clk.Now(), CreatedBy: "alice"}
	if !secretRE.MatchString(secret) || tok.ID == 0 || tok != want {
		t.Fatalf("secret %q, token %+v; want %+v", secret, tok, want)
	}
	var n int
	if err := rawDB(t, db).QueryRow("SELECT count(*) FROM api_tokens WHERE hash = ? OR hash = ?", secret, strings.TrimPrefix(secret, "pbx_")).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the secret is stored: %d, %v", n, err)
	}
	if got, err := db.TokenBySecret(ctx, secret); err != nil || got.ID != tok.ID || got.Name != tok.Name || got.Role != tok.Role {
		t.Fatalf("by secret: %+v, %v", got, err)
	}
	if _, _, err := db.CreateToken(ctx, "nightly export", store.RoleAdmin, "bob"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("same name: %v; want ErrConflict", err)
	}
	secret2, _, err := db.CreateToken(ctx, "Zoë's script", store.RoleAdmin, "")
	if err != nil || secret2 == secret {
		t.Fatalf("second token: %q, %v", secret2, err)
	}
	ts, err := db.Tokens(ctx)
	if err != nil || len(ts) != 2 || ts[0].Name != "nightly export" || ts[1].Name != "Zoë's script" || ts[1].Role != store.RoleAdmin {
		t.Fatalf("tokens = %+v, %v", ts, err)
	}
}

func TestCreateTokenInvalid(t *testing.T) {
	tests := []struct {
		name, token string
		role        store.Role
		by          string
	}{
		{"EmptyName", "", store.RoleViewer, "alice"},
		{"LongName", strings.Repeat("n", 65), store.RoleViewer, "alice"},
		{"ControlInName", "export\n", store.RoleViewer, "alice"},
		{"TabInName", "a\tb", store.RoleViewer, "alice"},
		{"LeadingSpace", " export", store.RoleViewer, "alice"},
		{"NotUTF8", "export\xff", store.RoleViewer, "alice"},
		{"Role", "export", "superuser", "alice"},
		{"CreatedBy", "export", store.RoleViewer, "alice\x00"},
	}
	db, _ := openClock(t)
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := db.CreateToken(ctx, tt.token, tt.role, tt.by); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("err = %v; want ErrInvalid", err)
			}
		})
	}
	if ts, err := db.Tokens(ctx); err != nil || len(ts) != 0 {
		t.Fatalf("refused tokens were stored: %+v, %v", ts, err)
	}
	if _, _, err := db.CreateToken(ctx, strings.Repeat("é", 64), store.RoleViewer, ""); err != nil {
		t.Fatalf("64-character name: %v", err)
	}
}

func TestTokenLastUsed(t *testing.T) {
	db, clk := openClock(t)
	ctx := context.Background()
	secret, tok, err := db.CreateToken(ctx, "export", store.RoleViewer, "alice")
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
	secret, tok, err := db.CreateToken(ctx, "export", store.RoleViewer, "alice")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := db.CreateToken(ctx, "backup", store.RoleAdmin, "alice")
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
