package store_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/punchbox/punchbox/store"
	_ "modernc.org/sqlite"
)

// rawDB opens db's file with database/sql, beside the store, for what the
// store's API does not do.
func rawDB(t *testing.T, db *store.DB) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", db.Path()+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

func b64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

func TestAudit(t *testing.T) {
	db, clk := openClock(t)
	ctx := context.Background()
	entries := []store.AuditEntry{
		{Actor: "alice", Action: "user.create", Target: "bob", Remote: "192.0.2.7"},
		{Actor: "central", Action: "employees.replace", Detail: "added 3, removed 1"},
		{Actor: "alice", Action: "login", Remote: "192.0.2.7", At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Actor: "bob", Action: "login"},
	}
	for _, e := range entries {
		clk.Add(time.Second)
		if err := db.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.AuditLog(ctx, store.AuditFilter{})
	if err != nil || len(all) != 4 {
		t.Fatalf("audit log = %+v, %v", all, err)
	}
	for i, got := range all {
		want := entries[len(entries)-1-i]
		want.Seq = int64(len(entries) - i)
		if want.At.IsZero() {
			want.At = time.Date(2026, 3, 2, 8, 0, len(entries)-i, 0, time.UTC)
		}
		if got != want {
			t.Errorf("entry %d = %+v; want %+v", i, got, want)
		}
	}
	seqs := func(es []store.AuditEntry) string {
		var s []string
		for _, e := range es {
			s = append(s, fmt.Sprint(e.Seq))
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name string
		f    store.AuditFilter
		want string
	}{
		{"ByActor", store.AuditFilter{Actor: "alice"}, "3,1"},
		{"ByAction", store.AuditFilter{Action: "login"}, "4,3"},
		{"ByBoth", store.AuditFilter{Actor: "alice", Action: "login"}, "3"},
		{"FirstPage", store.AuditFilter{Limit: 2}, "4,3"},
		{"NextPage", store.AuditFilter{Limit: 2, Before: 3}, "2,1"},
		{"LastPage", store.AuditFilter{Limit: 2, Before: 1}, ""},
		{"PagedByActor", store.AuditFilter{Actor: "alice", Before: 3}, "1"},
		{"NoMatch", store.AuditFilter{Actor: "mallory"}, ""},
		{"ByActionPrefix", store.AuditFilter{ActionPrefix: "user."}, "1"},
		{"ByPartialPrefix", store.AuditFilter{ActionPrefix: "log"}, "4,3"},
		{"Since", store.AuditFilter{Since: time.Date(2026, 3, 2, 8, 0, 2, 0, time.UTC)}, "4,2"},
		{"Until", store.AuditFilter{Until: time.Date(2026, 3, 2, 8, 0, 2, 0, time.UTC)}, "3,1"},
		{"Between", store.AuditFilter{Since: time.Date(2026, 3, 2, 8, 0, 1, 0, time.UTC), Until: time.Date(2026, 3, 2, 8, 0, 4, 0, time.UTC)}, "2,1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := db.AuditLog(ctx, tt.f)
			if err != nil || seqs(es) != tt.want {
				t.Fatalf("audit log = %s, %v; want %s", seqs(es), err, tt.want)
			}
		})
	}
	for _, f := range []store.AuditFilter{{Limit: -1}, {Before: -1}} {
		if _, err := db.AuditLog(ctx, f); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("AuditLog(%+v): %v; want ErrInvalid", f, err)
		}
	}
}

func TestAuditInvalid(t *testing.T) {
	db, _ := openClock(t)
	ctx := context.Background()
	for _, e := range []store.AuditEntry{{Action: "login"}, {Actor: "alice"}, {}} {
		if err := db.Audit(ctx, e); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Audit(%+v): %v; want ErrInvalid", e, err)
		}
	}
	// Long and malformed values are kept, cut and repaired, not refused.
	long := store.AuditEntry{Actor: strings.Repeat("a", 1000), Action: "login\xff", Target: strings.Repeat("€", 200),
		Detail: strings.Repeat("é", 3000), Remote: strings.Repeat("1", 100)}
	if err := db.Audit(ctx, long); err != nil {
		t.Fatal(err)
	}
	es, err := db.AuditLog(ctx, store.AuditFilter{})
	if err != nil || len(es) != 1 {
		t.Fatalf("audit log = %+v, %v", es, err)
	}
	e := es[0]
	if len(e.Actor) != 256 || e.Action != "login\uFFFD" || len(e.Target) != 255 || len(e.Detail) != store.MaxAuditDetail ||
		len(e.Remote) != 64 || !utf8.ValidString(e.Target) || !utf8.ValidString(e.Detail) {
		t.Fatalf("stored lengths actor %d, target %d, detail %d, remote %d; action %q",
			len(e.Actor), len(e.Target), len(e.Detail), len(e.Remote), e.Action)
	}
}

// TestAuditAppendOnly: the schema's triggers refuse to change or delete
// audit entries, whoever asks.
func TestAuditAppendOnly(t *testing.T) {
	db, _ := openClock(t)
	ctx := context.Background()
	for _, a := range []string{"login", "logout"} {
		if err := db.Audit(ctx, store.AuditEntry{Actor: "alice", Action: a}); err != nil {
			t.Fatal(err)
		}
	}
	raw := rawDB(t, db)
	tests := []struct{ name, sql string }{
		{"Update", "UPDATE audit SET actor = 'mallory' WHERE seq = 1"},
		{"UpdateAll", "UPDATE audit SET detail = 'nothing happened'"},
		{"Delete", "DELETE FROM audit WHERE seq = 2"},
		{"DeleteAll", "DELETE FROM audit"},
		{"Upsert", "INSERT INTO audit (seq, at, actor, action) VALUES (1, 0, 'mallory', 'nothing') ON CONFLICT (seq) DO UPDATE SET actor = 'mallory'"},
		{"Replace", "INSERT OR REPLACE INTO audit (seq, at, actor, action) VALUES (1, 0, 'mallory', 'nothing')"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := raw.Exec(tt.sql)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("%s: %v; want the trigger's refusal", tt.sql, err)
			}
		})
	}
	es, err := db.AuditLog(ctx, store.AuditFilter{})
	if err != nil || len(es) != 2 || es[0].Action != "logout" || es[1].Actor != "alice" || es[1].Detail != "" {
		t.Fatalf("audit log after the attempts = %+v, %v", es, err)
	}
}
