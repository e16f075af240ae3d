package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// The queries the panel needs. Each has an index (migrations/0001_init.sql)
// and a test checks with EXPLAIN QUERY PLAN that SQLite uses it; all stay
// fast at millions of punches. Times and days are the terminals' local
// ones: a day is "2006-01-02", a time "2006-01-02T15:04:05".

// The SQL of each query, named so that the plan test can EXPLAIN it.
const (
	sqlLatest = "SELECT " + punchColumns + " FROM punches ORDER BY seq DESC LIMIT ?"

	// Both count queries walk the primary key of punch_counts in order and
	// leave the sums to Go: grouping in SQL would sort.
	sqlCounts = `SELECT hour, terminal_id, punches FROM punch_counts WHERE hour >= ? AND hour < ? ORDER BY hour, terminal_id`

	sqlFirstLast = `SELECT pin, substr(local_time, 1, 10) AS day, min(local_time), max(local_time), count(*) FROM punches
		WHERE local_time >= ? AND local_time < ? GROUP BY day, pin ORDER BY day, pin`

	sqlFirstLastPIN = `SELECT pin, substr(local_time, 1, 10) AS day, min(local_time), max(local_time), count(*) FROM punches
		WHERE pin = ? AND local_time >= ? AND local_time < ? GROUP BY day ORDER BY day`

	sqlOldestPending = "SELECT received FROM punches WHERE seq > ? ORDER BY seq LIMIT 1"
)

// Latest returns the n newest punches, newest first.
func (db *DB) Latest(ctx context.Context, n int) ([]StoredPunch, error) {
	return db.punches(ctx, sqlLatest, n)
}

// Filter selects punches. Empty fields select everything.
type Filter struct {
	PIN      string
	Terminal string
	From     string // local time or day, inclusive
	To       string // local time or day, exclusive
	// Page after a punch: the previous page's last LocalTime and Seq.
	AfterTime string
	AfterSeq  int64
	Ascending bool // oldest first; default newest first
	Limit     int  // 0: no limit
}

// query builds the SQL for f. The index follows from the filter: by
// employee (punches_pin_time), by terminal (punches_terminal_time), or by
// time alone (punches_time).
func (f Filter) query(columns string) (string, []any) {
	var where []string
	var args []any
	if f.PIN != "" {
		where, args = append(where, "pin = ?"), append(args, f.PIN)
	}
	if f.Terminal != "" {
		where, args = append(where, "terminal_id = ?"), append(args, f.Terminal)
	}
	if f.From != "" {
		where, args = append(where, "local_time >= ?"), append(args, f.From)
	}
	if f.To != "" {
		where, args = append(where, "local_time < ?"), append(args, f.To)
	}
	cmp, order := "<", "DESC"
	if f.Ascending {
		cmp, order = ">", "ASC"
	}
	if f.AfterTime != "" {
		where = append(where, "(local_time "+cmp+" ? OR (local_time = ? AND seq "+cmp+" ?))")
		args = append(args, f.AfterTime, f.AfterTime, f.AfterSeq)
	}
	q := "SELECT " + columns + " FROM punches"
	if f.PIN != "" && f.Terminal != "" {
		q += " INDEXED BY punches_pin_time"
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY local_time " + order + ", seq " + order
	if f.Limit > 0 {
		q, args = q+" LIMIT ?", append(args, f.Limit)
	}
	return q, args
}

// Search returns the punches f selects, newest first unless f.Ascending.
func (db *DB) Search(ctx context.Context, f Filter) ([]StoredPunch, error) {
	q, args := f.query(punchColumns)
	return db.punches(ctx, q, args...)
}

// punches runs a punch query and marks which punches were delivered.
func (db *DB) punches(ctx context.Context, q string, args ...any) ([]StoredPunch, error) {
	d, err := loadDelivery(ctx, db.r)
	if err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read punches: %w", err)
	}
	ps, err := scanPunches(rows, nil)
	markDelivered(d, ps)
	return ps, err
}

// Each calls fn for every punch f selects, streaming: nothing is held in
// memory beyond one punch. It stops at fn's first error and returns it.
func (db *DB) Each(ctx context.Context, f Filter, fn func(StoredPunch) error) error {
	d, err := loadDelivery(ctx, db.r)
	if err != nil {
		return err
	}
	q, args := f.query(punchColumns)
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read punches: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		sp, err := scanPunch(rows)
		if err != nil {
			return err
		}
		sp.Delivered = sp.Delivered || d.has(sp.Seq)
		if err := fn(sp); err != nil {
			return err
		}
	}
	return rows.Err()
}

// TerminalDay counts one terminal's punches on one day.
type TerminalDay struct {
	Terminal string `json:"terminal"`
	Day      string `json:"day"`
	Punches  int    `json:"punches"`
}

// DailyCounts counts punches per terminal per day, for days in [from, to),
// ordered by day and terminal. Counts come from punch_counts, kept by every
// write, and include punches pruned since.
func (db *DB) DailyCounts(ctx context.Context, from, to string) ([]TerminalDay, error) {
	var out []TerminalDay
	index := map[[2]string]int{}
	err := db.counts(ctx, from, to, func(hour, terminal string, n int) {
		k := [2]string{hour[:10], terminal}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, TerminalDay{Terminal: terminal, Day: k[0]})
		}
		out[i].Punches += n
	})
	if err != nil {
		return nil, fmt.Errorf("daily counts: %w", err)
	}
	slices.SortFunc(out, func(a, b TerminalDay) int {
		return cmp.Or(strings.Compare(a.Day, b.Day), strings.Compare(a.Terminal, b.Terminal))
	})
	return out, nil
}

// Bucket counts punches in one period: an hour ("2006-01-02T15") or a day.
type Bucket struct {
	Period  string `json:"period"`
	Punches int    `json:"punches"`
}

// HourlyCounts counts punches per hour for hours in [from, to); times are
// taken to their hour.
func (db *DB) HourlyCounts(ctx context.Context, from, to string) ([]Bucket, error) {
	var out []Bucket
	err := db.counts(ctx, from, to, func(hour, _ string, n int) {
		if len(out) == 0 || out[len(out)-1].Period != hour {
			out = append(out, Bucket{Period: hour})
		}
		out[len(out)-1].Punches += n
	})
	if err != nil {
		return nil, fmt.Errorf("hourly counts: %w", err)
	}
	return out, nil
}

// counts calls fn for every row of punch_counts in [from, to), in hour order.
func (db *DB) counts(ctx context.Context, from, to string, fn func(hour, terminal string, n int)) error {
	rows, err := db.r.QueryContext(ctx, sqlCounts, hourOf(from), hourOf(to))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var hour, terminal string
		var n int
		if err := rows.Scan(&hour, &terminal, &n); err != nil {
			return err
		}
		fn(hour, terminal, n)
	}
	return rows.Err()
}

// Attendance is one employee's day: the first and the last punch.
type Attendance struct {
	PIN     string `json:"pin"`
	Day     string `json:"day"`
	First   string `json:"first"` // local time of the first punch: in
	Last    string `json:"last"`  // local time of the last punch: out
	Punches int    `json:"punches"`
}

// FirstLast returns, per employee per day in [from, to), the first punch in
// and the last punch out. With pin, only that employee's days.
func (db *DB) FirstLast(ctx context.Context, from, to, pin string) ([]Attendance, error) {
	q, args := sqlFirstLast, []any{from, to}
	if pin != "" {
		q, args = sqlFirstLastPIN, []any{pin, from, to}
	}
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("first in, last out: %w", err)
	}
	defer rows.Close()
	var out []Attendance
	for rows.Next() {
		var a Attendance
		if err := rows.Scan(&a.PIN, &a.Day, &a.First, &a.Last, &a.Punches); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// hourOf cuts a day or local time to the hour key of punch_counts: a day
// stays a day (it sorts before its hours), a time loses its minutes.
func hourOf(s string) string {
	if len(s) > 13 {
		return s[:13]
	}
	return s
}

// CountPunches returns how many punches the store holds.
func (db *DB) CountPunches(ctx context.Context) (int64, error) {
	var n int64
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM punches").Scan(&n); err != nil {
		return 0, fmt.Errorf("count punches: %w", err)
	}
	return n, nil
}
