package store

import (
	"context"
	"strings"
	"testing"
)

// TestQueryPlans checks with EXPLAIN QUERY PLAN that every panel query
// uses its index, so none turns into a scan of millions of punches.
func TestQueryPlans(t *testing.T) {
	db, err := Open(context.Background(), t.TempDir()+"/plan.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Statistics as a store of a million punches from 50 terminals and
	// 500 employees has them, so the planner decides as in the field.
	for _, q := range []string{
		"ANALYZE",
		"DELETE FROM sqlite_stat1",
		`INSERT INTO sqlite_stat1 VALUES
			('punches', NULL, '1000000'),
			('punches', 'sqlite_autoindex_punches_1', '1000000 1'),
			('punches', 'punches_pin_time', '1000000 2000 1 1'),
			('punches', 'punches_terminal_time', '1000000 20000 1'),
			('punches', 'punches_time', '1000000 1 1 1')`,
		"ANALYZE sqlite_schema",
	} {
		if _, err := db.w.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	search := func(f Filter) (string, []any) { return f.query(punchColumns) }
	q1, a1 := search(Filter{PIN: "1001", From: "2026-03-01", To: "2026-04-01", Limit: 50})
	q2, a2 := search(Filter{Terminal: "gate-a", From: "2026-03-01", To: "2026-04-01", Limit: 50})
	q3, a3 := search(Filter{From: "2026-03-01", To: "2026-03-02", Limit: 50})
	q4, a4 := search(Filter{PIN: "1001", Terminal: "gate-a", Limit: 50, AfterTime: "2026-03-01T08:00:00", AfterSeq: 9})
	q5, a5 := search(Filter{Terminal: "gate-a", Ascending: true, AfterTime: "2026-03-01T08:00:00", AfterSeq: 9})
	tests := []struct {
		name  string
		query string
		args  []any
		want  string // must appear in the plan
	}{
		{"latest", sqlLatest, []any{50}, "SCAN punches"}, // backwards over the primary key, no sort
		{"search by employee", q1, a1, "USING INDEX punches_pin_time"},
		{"search by terminal", q2, a2, "USING INDEX punches_terminal_time"},
		{"search by time", q3, a3, "USING INDEX punches_time"},
		{"search by employee and terminal, next page", q4, a4, "USING INDEX punches_pin_time"},
		{"terminal export, oldest first", q5, a5, "USING INDEX punches_terminal_time"},
		{"hourly counts per terminal", sqlCounts, []any{"2026-03-01", "2026-03-08"}, "SEARCH punch_counts USING PRIMARY KEY"},
		{"first in, last out", sqlFirstLast, []any{"2026-03-01", "2026-03-02"}, "USING COVERING INDEX punches_time"},
		{"first in, last out of one employee", sqlFirstLastPIN, []any{"1001", "2026-03-01", "2026-04-01"}, "USING COVERING INDEX punches_pin_time"},
		{"oldest pending", sqlOldestPending, []any{int64(100)}, "USING INTEGER PRIMARY KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := db.r.Query("EXPLAIN QUERY PLAN "+tt.query, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			got := strings.Join(plan, "; ")
			if !strings.Contains(got, tt.want) {
				t.Errorf("plan %q lacks %q", got, tt.want)
			}
			if strings.Contains(got, "SCAN punches") && tt.want != "SCAN punches" {
				t.Errorf("plan %q scans the table", got)
			}
			if (tt.name == "latest" || tt.query == sqlCounts) && strings.Contains(got, "TEMP B-TREE") {
				t.Errorf("plan %q sorts", got)
			}
		})
	}
}
