package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/punchbox/punchbox/store"
)

func TestUnlockLogins(t *testing.T) {
	db, clk := openClock(t)
	ctx := context.Background()
	mustCreateUser(t, db, "alice", store.RoleAdmin)
	if all, one, err := db.LoginUnlocks(ctx, "alice"); err != nil || !all.IsZero() || !one.IsZero() {
		t.Fatalf("before any unlock: %v, %v, %v", all, one, err)
	}
	if err := db.UnlockLogins(ctx, "ALICE"); err != nil {
		t.Fatal(err)
	}
	first := clk.Now()
	clk.Add(time.Minute)
	if err := db.UnlockLogins(ctx, ""); err != nil {
		t.Fatal(err)
	}
	all, one, err := db.LoginUnlocks(ctx, "Alice")
	if err != nil || !all.Equal(clk.Now()) || !one.Equal(first) {
		t.Fatalf("unlocks %v, %v, %v; want all at %v and alice at %v", all, one, err, clk.Now(), first)
	}
	if _, one, _ := db.LoginUnlocks(ctx, "bob"); !one.IsZero() {
		t.Errorf("bob's unlock %v, want none", one)
	}
	// A password set is an unlock of the account.
	clk.Add(time.Minute)
	if err := db.SetPassword(ctx, "alice", "another long password"); err != nil {
		t.Fatal(err)
	}
	if _, one, _ := db.LoginUnlocks(ctx, "alice"); !one.Equal(clk.Now()) {
		t.Errorf("after a password set, alice's unlock %v, want %v", one, clk.Now())
	}
	for name, want := range map[string]error{"carol": store.ErrNotFound, "a b": store.ErrInvalid} {
		if err := db.UnlockLogins(ctx, name); !errors.Is(err, want) {
			t.Errorf("unlock %q: %v, want %v", name, err, want)
		}
	}
}
