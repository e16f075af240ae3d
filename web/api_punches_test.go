package web

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store/storetest"
)

// seedPunches stores n punches for PINs 1..pins, one a minute from
// 2026-03-02 08:00, and names employee 1 "=Ann" (a formula in a
// spreadsheet unless defused).
func seedPunches(t *testing.T, h *harness, n, pins int) {
	t.Helper()
	ps := make([]punchbox.Punch, n)
	for i := range ps {
		ps[i] = storetest.Punch(fmt.Sprint(1+i%pins), 60*i)
	}
	if err := h.db.Put(context.Background(), ps); err != nil {
		t.Fatal(err)
	}
	if err := h.db.PutEmployee(context.Background(), punchbox.Employee{PIN: "1", Name: "=Ann"}); err != nil {
		t.Fatal(err)
	}
}

func TestPunchSearch(t *testing.T) {
	h := newHarness(t)
	seedPunches(t, h, 250, 5) // 08:00 to 12:09 on 2026-03-02
	v := h.viewer()

	// Paging walks every punch once, newest first.
	seen := map[string]bool{}
	last := "9999"
	cursor := ""
	pages := 0
	for {
		var pg Page[PunchView]
		v.do("GET", "/api/v1/punches?limit=100&cursor="+url.QueryEscape(cursor), nil).want(t, 200).decode(t, &pg)
		pages++
		for _, p := range pg.Items {
			if seen[p.ID] {
				t.Fatalf("punch %s on two pages", p.ID)
			}
			if p.LocalTime > last {
				t.Fatalf("page %d: %s after %s: not newest first", pages, p.LocalTime, last)
			}
			seen[p.ID], last = true, p.LocalTime
		}
		if pg.NextCursor == "" {
			break
		}
		cursor = pg.NextCursor
	}
	if len(seen) != 250 || pages != 3 {
		t.Errorf("%d punches on %d pages, want 250 on 3", len(seen), pages)
	}

	tests := []struct {
		name  string
		query string
		count int
		first string // local time of the first punch
	}{
		{"by employee", "pin=1&limit=1000", 50, "2026-03-02T12:05:00"},
		{"by terminal", "terminal=gate-a&limit=1000", 250, "2026-03-02T12:09:00"},
		{"by time range", "from=2026-03-02T09:00&to=2026-03-02T10:00&order=oldest&limit=1000", 60, "2026-03-02T09:00:00"},
		{"whole day", "from=2026-03-02&to=2026-03-02&limit=1000", 250, "2026-03-02T12:09:00"},
		{"other day", "from=2026-03-03&limit=1000", 0, ""},
		{"all filters", "pin=2&terminal=gate-a&from=2026-03-02T08:00&to=2026-03-02T08:10&order=oldest", 2, "2026-03-02T08:01:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pg Page[PunchView]
			v.do("GET", "/api/v1/punches?"+tt.query, nil).want(t, 200).decode(t, &pg)
			if len(pg.Items) != tt.count {
				t.Fatalf("%d punches, want %d", len(pg.Items), tt.count)
			}
			if tt.count > 0 && pg.Items[0].LocalTime != tt.first {
				t.Errorf("first %s, want %s", pg.Items[0].LocalTime, tt.first)
			}
		})
	}

	bad := []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=5000", "limit"}, {"from=yesterday", "from"}, {"to=2026-13-01", "to"},
		{"from=2026-03-03&to=2026-03-02", "to"}, {"order=random", "order"}, {"cursor=%21%21", "cursor"},
		{"terminal=" + url.QueryEscape("x' OR 1=1 --"), "terminal"},
	}
	for _, b := range bad {
		r := v.do("GET", "/api/v1/punches?"+b.query, nil).want(t, 400)
		if e := r.apiErr(t); e.Field != b.field {
			t.Errorf("%s: field %q, want %q", b.query, e.Field, b.field)
		}
	}
}

func TestPunchExport(t *testing.T) {
	h := newHarness(t)
	seedPunches(t, h, 3000, 7)
	v := h.viewer()
	r := v.do("GET", "/api/v1/punches.csv?pin=1&order=oldest", nil).want(t, 200)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("content type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, ".csv") {
		t.Errorf("content disposition %q", cd)
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+429 || strings.Join(rows[0], ",") != strings.Join(punchCSVHeader, ",") {
		t.Fatalf("%d rows, header %v; want 429 punches of PIN 1 after the header", len(rows)-1, rows[0])
	}
	first := rows[1]
	if first[3] != "1" || first[4] != "'=Ann" || first[5] != "2026-03-02T08:00:00" || first[14] != "pull" || first[15] != "false" {
		t.Errorf("first row %q: want PIN 1, the name defused, 08:00, pull, undelivered", first)
	}
	if _, err := time.Parse(time.RFC3339, first[7]); err != nil {
		t.Errorf("utc_time %q: %v", first[7], err)
	}
	// The export ignores paging and refuses what the search refuses.
	v.do("GET", "/api/v1/punches.csv?from=nonsense", nil).want(t, 400)
	all := v.do("GET", "/api/v1/punches.csv?limit=1", nil).want(t, 200)
	if n := strings.Count(string(all.body), "\n"); n != 3001 {
		t.Errorf("export of everything has %d lines, want 3001", n)
	}
	h.anon().do("GET", "/api/v1/punches.csv", nil).want(t, 401)
}

// FuzzPunchQuery: whatever a client puts in the cursor and the range, the
// query is refused with a field or accepted with bounds the store can use,
// and an accepted cursor decodes back to what it encoded.
func FuzzPunchQuery(f *testing.F) {
	f.Add(encodeCursor("2026-03-02T08:00:00", 42), "2026-03-02", "2026-03-02T12:00")
	f.Add("!!", "yesterday", "")
	f.Add(base64URL("2026-13-45T99:99:99|-1"), "2026-02-30", "2026-03-01 08:00:00")
	f.Fuzz(func(t *testing.T, cursor, from, to string) {
		if local, seq, err := decodeCursor(cursor); err == nil {
			if _, err := punchbox.ParseLocalTime(local); err != nil || seq < 0 {
				t.Fatalf("cursor %q decoded to %q %d", cursor, local, seq)
			}
			if l2, s2, err := decodeCursor(encodeCursor(local, seq)); err != nil || l2 != local || s2 != seq {
				t.Fatalf("cursor round trip: %q %d -> %q %d %v", local, seq, l2, s2, err)
			}
		}
		for _, end := range []bool{false, true} {
			for _, s := range []string{from, to} {
				b, err := localBound(s, end)
				if err == nil && b != "" && len(b) != len("2026-03-02") && len(b) != len("2026-03-02T08:00:00") {
					t.Fatalf("bound %q from %q", b, s)
				}
			}
		}
	})
}

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
