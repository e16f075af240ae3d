package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/punchbox/punchbox/store"
)

// clock is a settable clock for stores under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// openClock opens a store in a temporary directory whose clock starts at
// 2026-03-02 08:00:00 UTC and moves only when told.
func openClock(t *testing.T) (*store.DB, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), store.FileName), store.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return db, c
}

var (
	tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	hexRE   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func TestCreateSession(t *testing.T) {
	db, clk := openClock(t)
	ctx := context.Background()
	alice := mustCreateUser(t, db, "alice", store.RoleAdmin)
	tok, s, err := db.CreateSession(ctx, alice.ID, 8*time.Hour, "192.0.2.7", "Mozilla/5.0")
	if err != nil {
		t.Fatal(err)
	}
	if !tokenRE.MatchString(tok) || !hexRE.MatchString(s.ID) || strings.Contains(s.ID, tok) {
		t.Fatalf("token %q, id %q", tok, s.ID)
	}
	now := clk.Now()
	if s.UserID != alice.ID || !s.Created.Equal(now) || !s.Expires.Equal(now.Add(8*time.Hour)) || !s.LastSeen.Equal(now) ||
		s.Remote != "192.0.2.7" || s.Agent != "Mozilla/5.0" {
		t.Fatalf("session %+v", s)
	}
	got, u, err := db.SessionByToken(ctx, tok)
	if err != nil || got != s || u != alice {
		t.Fatalf("by token: %+v %+v, %v", got, u, err)
	}
	var stored int
	if err := rawDB(t, db).QueryRow("SELECT count(*) FROM sessions WHERE id = ? OR id = ?", tok, s.ID).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("rows by token or hash: %d, %v; want only the hash stored", stored, err)
	}
	tok2, _, err := db.CreateSession(ctx, alice.ID, time.Hour, strings.Repeat("r", 100), strings.Repeat("é", 200)+"\xff")
	if err != nil || tok2 == tok {
		t.Fatalf("second session: %q, %v", tok2, err)
	}
	if s2, _, err := db.SessionByToken(ctx, tok2); err != nil || len(s2.Remote) != 64 || len(s2.Agent) != 256 {
		t.Fatalf("long remote and agent: %q %q, %v; want them cut to 64 and 256 bytes", s2.Remote, s2.Agent, err)
	}
	if _, _, err := db.CreateSession(ctx, alice.ID+1, time.Hour, "", ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session for an unknown user: %v", err)
	}
	for _, ttl := range []time.Duration{0, -time.Hour, time.Millisecond} {
		if _, _, err := db.CreateSession(ctx, alice.ID, ttl, "", ""); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("ttl %v: %v; want ErrInvalid", ttl, err)
		}
	}
	for _, bad := range []string{"", "nonsense", tok + "x", s.ID} {
		if _, _, err := db.SessionByToken(ctx, bad); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("token %q: %v; want ErrNotFound", bad, err)
		}
	}
}

func TestSessionExpiry(t *testing.T) {
	db, clk := openClock(t)
	ctx := context.Background()
	alice := mustCreateUser(t, db, "alice", store.RoleAdmin)
	short, _, err := db.CreateSession(ctx, alice.ID, time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	long, _, err := db.CreateSession(ctx, alice.ID, 2*time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour - time.Millisecond)
	if _, _, err := db.SessionByToken(ctx, short); err != nil {
		t.Fatalf("a millisecond before expiry: %v", err)
	}
	clk.Add(time.Millisecond)
	if _, _, err := db.SessionByToken(ctx, short); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("at expiry: %v; want ErrNotFound", err)
	}
	if ss, err := db.Sessions(ctx, alice.ID); err != nil || len(ss) != 1 {
		t.Fatalf("sessions = %+v, %v; want the unexpired one", ss, err)
	}
	if n, err := db.PruneSessions(ctx); n != 1 || err != nil {
		t.Fatalf("pruned %d, %v; want 1", n, err)
	}
	if n, err := db.PruneSessions(ctx); n != 0 || err != nil {
		t.Fatalf("pruned again %d, %v", n, err)
	}
	// Use does not extend a session.
	s, _, err := db.SessionByToken(ctx, long)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	if _, _, err := db.SessionByToken(ctx, long); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("used session past its expiry %v: %v", s.Expires, err)
	}
}

func TestSessionLastSeen(t *testing.T) {
	db, clk := openClock(t)
	ctx := context.Background()
	alice := mustCreateUser(t, db, "alice", store.RoleAdmin)
	tok, s0, err := db.CreateSession(ctx, alice.ID, time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		advance time.Duration
		want    time.Duration // last seen, after creation
	}{
		{"Immediately", 0, 0},
		{"WithinAMinute", 59 * time.Second, 0},
		{"AfterAMinute", time.Second, time.Minute},
		{"SoonAfter", 30 * time.Second, time.Minute},
		{"MuchLater", 10 * time.Minute, 10*time.Minute + 90*time.Second},
	}
	for _, st := range steps {
		clk.Add(st.advance)
		s, _, err := db.SessionByToken(ctx, tok)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		ss, err := db.Sessions(ctx, alice.ID)
		if err != nil || len(ss) != 1 {
			t.Fatalf("%s: sessions %+v, %v", st.name, ss, err)
		}
		want := s0.Created.Add(st.want)
		if !s.LastSeen.Equal(want) || !ss[0].LastSeen.Equal(want) {
			t.Fatalf("%s: last seen %v, stored %v; want %v", st.name, s.LastSeen, ss[0].LastSeen, want)
		}
	}
}

func TestDeleteSessions(t *testing.T) {
	db, clk := openClock(t)
	ctx := context.Background()
	alice := mustCreateUser(t, db, "alice", store.RoleAdmin)
	bob := mustCreateUser(t, db, "bob", store.RoleViewer)
	var toks []string
	for _, id := range []int64{alice.ID, alice.ID, bob.ID} {
		tok, _, err := db.CreateSession(ctx, id, time.Hour, "", "")
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
		clk.Add(time.Second)
	}
	ss, err := db.Sessions(ctx, alice.ID)
	if err != nil || len(ss) != 2 || !ss[0].Created.After(ss[1].Created) {
		t.Fatalf("alice's sessions = %+v, %v; want two, newest first", ss, err)
	}
	if err := db.DeleteSession(ctx, toks[0]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SessionByToken(ctx, toks[0]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after logout: %v", err)
	}
	if err := db.DeleteSession(ctx, toks[0]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second logout: %v; want ErrNotFound", err)
	}
	if _, _, err := db.SessionByToken(ctx, toks[1]); err != nil {
		t.Fatalf("alice's other session after logout: %v", err)
	}
	if err := db.DeleteSessions(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	if ss, err := db.Sessions(ctx, alice.ID); err != nil || len(ss) != 0 {
		t.Fatalf("alice's sessions after deleting them: %+v, %v", ss, err)
	}
	if _, _, err := db.SessionByToken(ctx, toks[2]); err != nil {
		t.Fatalf("bob's session: %v", err)
	}
}

// TestSessionRoleChange: a session sees its user's current role.
func TestSessionRoleChange(t *testing.T) {
	db, _ := openClock(t)
	ctx := context.Background()
	mustCreateUser(t, db, "alice", store.RoleAdmin)
	bob := mustCreateUser(t, db, "bob", store.RoleAdmin)
	tok, _, err := db.CreateSession(ctx, bob.ID, time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetRole(ctx, "bob", store.RoleViewer); err != nil {
		t.Fatal(err)
	}
	if _, u, err := db.SessionByToken(ctx, tok); err != nil || u.Role != store.RoleViewer {
		t.Fatalf("user of the session: %+v, %v; want a viewer", u, err)
	}
}
