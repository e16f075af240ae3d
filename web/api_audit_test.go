package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox/store"
)

func TestAuditLog(t *testing.T) {
	h := newHarness(t)
	a := h.admin()
	ctx := context.Background()
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i, e := range []store.AuditEntry{
		{Actor: "alice", Action: "terminal.create", Target: "gate-a", At: day.Add(8 * time.Hour)},
		{Actor: "alice", Action: "terminal.update", Target: "gate-a", At: day.Add(9 * time.Hour)},
		{Actor: "central", Action: "employees.replace", At: day.Add(30 * time.Hour)},
		{Actor: "bob", Action: "terminal.delete", Target: "gate-a", At: day.Add(50 * time.Hour)},
	} {
		e.Detail = fmt.Sprint("entry ", i)
		if err := h.db.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		query string
		want  string // actions, newest first
	}{
		{"by actor", "?actor=alice", "terminal.update terminal.create"},
		{"by action prefix", "?action=terminal.", "terminal.delete terminal.update terminal.create"},
		{"by exact action", "?action=terminal.update", "terminal.update"},
		{"since a day", "?since=2026-03-03&action=e", "employees.replace"},
		{"until a day, included", "?until=2026-03-02&actor=alice", "terminal.update terminal.create"},
		{"between times", "?since=2026-03-02T08:30:00Z&until=2026-03-04T00:00:00Z", "employees.replace terminal.update"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var page Page[AuditView]
			a.do("GET", "/api/v1/audit"+tt.query, nil).want(t, 200).decode(t, &page)
			var got []string
			for _, v := range page.Items {
				got = append(got, v.Action)
			}
			if strings.Join(got, " ") != tt.want || page.NextCursor != "" {
				t.Errorf("actions %q (next %q), want %q", got, page.NextCursor, tt.want)
			}
		})
	}

	// Paging through everything (the login is logged too) visits each
	// entry once, newest first.
	var seqs []int64
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		var page Page[AuditView]
		a.do("GET", "/api/v1/audit?limit=2&cursor="+cursor, nil).want(t, 200).decode(t, &page)
		for _, v := range page.Items {
			seqs = append(seqs, v.Seq)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	all, _ := h.db.AuditLog(ctx, store.AuditFilter{Limit: 1000})
	if len(seqs) != len(all) {
		t.Fatalf("paged %v, want %d entries", seqs, len(all))
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] >= seqs[i-1] {
			t.Fatalf("paged %v, want newest first without repeats", seqs)
		}
	}

	for _, tt := range []struct{ query, field string }{
		{"?since=yesterday", "since"},
		{"?until=2026-13-01", "until"},
		{"?since=2026-03-03&until=2026-03-01", "until"},
		{"?limit=0", "limit"},
		{"?cursor=%21%21", "cursor"},
	} {
		t.Run(tt.query, func(t *testing.T) {
			if e := a.do("GET", "/api/v1/audit"+tt.query, nil).want(t, 400).apiErr(t); e.Field != tt.field {
				t.Errorf("field %q, want %q", e.Field, tt.field)
			}
		})
	}
	h.viewer().do("GET", "/api/v1/audit", nil).want(t, 403)
}
