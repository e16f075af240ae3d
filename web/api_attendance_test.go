package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store/storetest"
)

// seedAttendance stores punches of PINs 1 and 2 on 2026-03-02 to
// 2026-03-04 and names employee 1 "=Ann"; PIN 2 is not in the roster.
func seedAttendance(t *testing.T, h *harness) {
	t.Helper()
	at := func(pin, day, clock string) punchbox.Punch {
		l, err := time.Parse("2006-01-02 15:04:05", day+" "+clock)
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Punch(pin, int(l.Sub(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))/time.Second))
	}
	ps := []punchbox.Punch{
		at("1", "2026-03-02", "08:00:00"), at("1", "2026-03-02", "12:00:00"), at("1", "2026-03-02", "16:30:00"),
		at("2", "2026-03-02", "07:00:00"), at("2", "2026-03-02", "15:00:59"),
		at("1", "2026-03-03", "09:15:00"),
		at("2", "2026-03-04", "23:59:59"),
		at("2", "2026-03-05", "00:00:00"),
	}
	if err := h.db.Put(context.Background(), ps); err != nil {
		t.Fatal(err)
	}
	if err := h.db.PutEmployee(context.Background(), punchbox.Employee{PIN: "1", Name: "=Ann"}); err != nil {
		t.Fatal(err)
	}
}

// siteNow is 01:30 UTC on 2026-03-03, still 2026-03-02 at the site.
func siteNow(d *Deps) {
	d.Zone = time.FixedZone("UTC-5", -5*3600)
	d.Now = func() time.Time { return time.Date(2026, 3, 3, 1, 30, 0, 0, time.UTC) }
}

func TestAttendance(t *testing.T) {
	h := newHarness(t, siteNow)
	seedAttendance(t, h)
	v := h.viewer()

	day2 := []AttendanceView{
		{PIN: "1", Name: "=Ann", Day: "2026-03-02", First: "2026-03-02T08:00:00", Last: "2026-03-02T16:30:00", Punches: 3, WorkedMinutes: 510},
		{PIN: "2", Day: "2026-03-02", First: "2026-03-02T07:00:00", Last: "2026-03-02T15:00:59", Punches: 2, WorkedMinutes: 480},
	}
	day3 := AttendanceView{PIN: "1", Name: "=Ann", Day: "2026-03-03", First: "2026-03-03T09:15:00", Last: "2026-03-03T09:15:00", Punches: 1, Incomplete: true}
	day4 := AttendanceView{PIN: "2", Day: "2026-03-04", First: "2026-03-04T23:59:59", Last: "2026-03-04T23:59:59", Punches: 1, Incomplete: true}
	tests := []struct {
		name  string
		query string
		want  []AttendanceView
	}{
		{"today in the site's zone by default", "", day2},
		{"both days included", "from=2026-03-02&to=2026-03-04", append(append(day2[:2:2], day3), day4)},
		{"one employee", "from=2026-03-01&to=2026-03-05&pin=1", []AttendanceView{day2[0], day3}},
		{"to alone is one day", "to=2026-03-03", []AttendanceView{day3}},
		{"from alone runs to today", "from=2026-02-01", day2},
		{"nobody", "pin=99", []AttendanceView{}},
		{"the longest range", "from=2025-12-03&to=2026-03-04", append(append(day2[:2:2], day3), day4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []AttendanceView
			v.do("GET", "/api/v1/attendance?"+tt.query, nil).want(t, 200).decode(t, &got)
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("row %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}

	bad := []struct{ query, field string }{
		{"from=2026-03-04&to=2026-03-02", "to"},
		{"from=2025-12-02&to=2026-03-04", "to"}, // 93 days: 92 is the most
		{"from=2025-01-01", "to"},               // to defaults to today
		{"from=2026-02-30", "from"},
		{"to=03/04/2026", "to"},
		{"pin=" + url.QueryEscape("1 OR 1=1"), "pin"},
	}
	for _, b := range bad {
		for _, path := range []string{"/api/v1/attendance?", "/api/v1/attendance.csv?"} {
			r := v.do("GET", path+b.query, nil).want(t, 400)
			if e := r.apiErr(t); e.Field != b.field {
				t.Errorf("%s%s: field %q, want %q", path, b.query, e.Field, b.field)
			}
		}
	}
	h.anon().do("GET", "/api/v1/attendance", nil).want(t, 401)
}

func TestAttendanceExport(t *testing.T) {
	h := newHarness(t, siteNow)
	seedAttendance(t, h)
	r := h.viewer().do("GET", "/api/v1/attendance.csv?from=2026-03-02&to=2026-03-03", nil).want(t, 200)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("content type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".csv") {
		t.Errorf("content disposition %q", cd)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		attendanceCSVHeader,
		{"2026-03-02", "1", "'=Ann", "2026-03-02T08:00:00", "2026-03-02T16:30:00", "3", "510", "false"},
		{"2026-03-02", "2", "", "2026-03-02T07:00:00", "2026-03-02T15:00:59", "2", "480", "false"},
		{"2026-03-03", "1", "'=Ann", "2026-03-03T09:15:00", "2026-03-03T09:15:00", "1", "0", "true"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %q, want %q", rows, want)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d = %q, want %q", i, rows[i], want[i])
		}
	}
}
