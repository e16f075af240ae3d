package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

func gate(id string) punchbox.Terminal {
	return punchbox.Terminal{ID: id, Name: "Gate " + id, Kind: punchbox.KindZK, Address: "192.168.1.201:4370",
		Options: map[string]any{"transport": "tcp", "commkey": float64(1234)}, Enabled: true}
}

func TestTerminalsCRUD(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	if err := db.CreateTerminal(ctx, gate("gate-a")); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateTerminal(ctx, gate("gate-a")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate create: %v", err)
	}
	got, err := db.Terminal(ctx, "gate-a")
	if err != nil || got.Name != "Gate gate-a" || got.Options["commkey"] != float64(1234) || !got.Enabled {
		t.Fatalf("Terminal = %+v, %v", got, err)
	}
	got.Address, got.Enabled, got.Zone = "10.0.0.9", false, "Asia/Kolkata"
	if err := db.UpdateTerminal(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateTerminal(ctx, gate("nope")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	all, _ := db.Terminals(ctx)
	if len(all) != 1 || all[0].Address != "10.0.0.9" || all[0].Enabled || all[0].Zone != "Asia/Kolkata" {
		t.Fatalf("Terminals = %+v", all)
	}
	for _, bad := range []punchbox.Terminal{
		{ID: "Bad Id", Kind: punchbox.KindZK},
		{ID: "x", Kind: "fax"},
		{ID: "x", Kind: punchbox.KindZK, Zone: "Nowhere/Land"},
		{ID: "x", Kind: punchbox.KindZK, Options: map[string]any{"f": func() {}}},
	} {
		if err := db.CreateTerminal(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CreateTerminal(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	if err := db.DeleteTerminal(ctx, "gate-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Terminal(ctx, "gate-a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestSeedTerminalsOnce(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	seeded, err := db.SeedTerminals(ctx, []punchbox.Terminal{gate("a"), gate("b")})
	if err != nil || !seeded {
		t.Fatalf("first seed = %v, %v", seeded, err)
	}
	// A later configuration does not override what the store holds, even
	// after the terminals were deleted in the panel.
	db.DeleteTerminal(ctx, "b")
	seeded, err = db.SeedTerminals(ctx, []punchbox.Terminal{gate("a"), gate("b"), gate("c")})
	if err != nil || seeded {
		t.Fatalf("second seed = %v, %v", seeded, err)
	}
	all, _ := db.Terminals(ctx)
	if len(all) != 1 || all[0].ID != "a" {
		t.Fatalf("terminals = %+v", all)
	}
	// A bad seed writes nothing at all.
	db2 := storetest.Open(t)
	if _, err := db2.SeedTerminals(ctx, []punchbox.Terminal{gate("ok"), {ID: "BAD", Kind: punchbox.KindZK}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad seed: %v", err)
	}
	if all, _ := db2.Terminals(ctx); len(all) != 0 {
		t.Fatalf("bad seed wrote %d terminals", len(all))
	}
}

func TestTerminalState(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	db.CreateTerminal(ctx, gate("gate-a"))
	if c, err := db.LoadCursor(ctx, "gate-a"); err != nil || c.Records != 0 {
		t.Fatalf("empty cursor = %+v, %v", c, err)
	}
	want := drivers.Cursor{Serial: "SN1", Records: 40000, RecordSize: 40, LastID: "abc", LastTime: "2026-01-01T08:00:00"}
	if err := db.SaveCursor(ctx, "gate-a", want); err != nil {
		t.Fatal(err)
	}
	contact := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	h := drivers.Health{ID: "gate-a", Kind: "zk", State: drivers.StateOnline, LastContact: contact, Info: drivers.Info{Serial: "SN1", ClockOffset: 3 * time.Second}}
	if err := db.SaveHealth(ctx, h); err != nil {
		t.Fatal(err)
	}
	if c, err := db.LoadCursor(ctx, "gate-a"); err != nil || c.Records != want.Records || c.LastID != want.LastID || c.Serial != "SN1" {
		t.Fatalf("cursor after health = %+v, %v", c, err)
	}
	hs, err := db.Healths(ctx)
	if err != nil || hs["gate-a"].State != drivers.StateOnline || hs["gate-a"].Info.ClockOffset != 3*time.Second || !hs["gate-a"].LastContact.Equal(contact) {
		t.Fatalf("healths = %+v, %v", hs, err)
	}
	// State of an unknown terminal is not kept.
	if err := db.SaveCursor(ctx, "ghost", want); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.LoadCursor(ctx, "ghost"); c.Records != 0 {
		t.Fatal("cursor kept for a terminal that does not exist")
	}
	// Deleting the terminal deletes its state.
	db.DeleteTerminal(ctx, "gate-a")
	db.CreateTerminal(ctx, gate("gate-a"))
	if c, _ := db.LoadCursor(ctx, "gate-a"); c.Records != 0 {
		t.Fatal("cursor survived the terminal's deletion")
	}
}

func TestPrune(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	db, err := store.Open(context.Background(), t.TempDir()+"/p.db", store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var ps []punchbox.Punch
	for i := 0; i < 2500; i++ {
		p := storetest.Punch("1", i)
		p.Received = now.AddDate(0, 0, -500+i/10) // 10 a day, from 500 days ago
		ps = append(ps, p)
	}
	if err := db.Put(ctx, ps); err != nil {
		t.Fatal(err)
	}
	cutoff := now.AddDate(0, 0, -400)
	// Nothing delivered: nothing pruned, however old.
	if n, err := db.Prune(ctx, cutoff, 100); err != nil || n != 0 {
		t.Fatalf("prune undelivered = %d, %v", n, err)
	}
	// Deliver up to seq 2000: those of the first 100 days are old enough.
	if err := db.MarkDelivered(ctx, 2000); err != nil {
		t.Fatal(err)
	}
	n, err := db.Prune(ctx, cutoff, 100)
	if err != nil || n != 1000 {
		t.Fatalf("prune = %d, %v; want 1000", n, err)
	}
	left, _ := db.CountPunches(ctx)
	b, _ := db.Backlog(ctx)
	if left != 1500 || b.Pending != 500 || b.DeliveredSeq != 2000 {
		t.Fatalf("after prune: %d punches, backlog %+v", left, b)
	}
	// New punches still get new sequence numbers.
	db.Put(ctx, []punchbox.Punch{storetest.Punch("2", 99999)})
	if b, _ := db.Backlog(ctx); b.LastSeq != 2501 {
		t.Fatalf("last seq after prune = %d", b.LastSeq)
	}
}
