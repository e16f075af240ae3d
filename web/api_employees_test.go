package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// auditOf returns the audit entries of action, oldest first.
func auditOf(t *testing.T, h *harness, action string) []store.AuditEntry {
	t.Helper()
	log, err := h.db.AuditLog(context.Background(), store.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(log)-1; i < j; i, j = i+1, j-1 {
		log[i], log[j] = log[j], log[i]
	}
	return log
}

func TestEmployeeCRUD(t *testing.T) {
	h := newHarness(t)
	a := h.admin()
	v := h.viewer()

	var e EmployeeView
	a.do("POST", "/api/v1/employees", EmployeeInput{PIN: " 1001 ", Name: " Ann Example ", Card: "12345", Privilege: "Manager"}).
		want(t, http.StatusCreated).decode(t, &e)
	want := EmployeeView{PIN: "1001", Name: "Ann Example", Card: "12345", Privilege: "manager"}
	if e != want {
		t.Errorf("created %+v, want %+v", e, want)
	}
	// The PIN is taken now.
	r := a.do("POST", "/api/v1/employees", EmployeeInput{PIN: "1001", Name: "Someone Else"}).want(t, http.StatusConflict)
	if r.apiErr(t).Code != "conflict" {
		t.Errorf("second create: %s", r.body)
	}
	v.do("GET", "/api/v1/employees/1001", nil).want(t, 200).decode(t, &e)
	if e != want {
		t.Errorf("read %+v, want %+v", e, want)
	}
	v.do("GET", "/api/v1/employees/9999", nil).want(t, 404).apiErr(t)

	// PUT replaces: what the body leaves out takes its default.
	e = EmployeeView{}
	a.do("PUT", "/api/v1/employees/1001", EmployeeInput{Name: "Ann Other", Disabled: true}).want(t, 200).decode(t, &e)
	want = EmployeeView{PIN: "1001", Name: "Ann Other", Privilege: "user", Disabled: true}
	if e != want {
		t.Errorf("replaced %+v, want %+v", e, want)
	}
	// PUT creates too, and a PIN in the body must match the path.
	a.do("PUT", "/api/v1/employees/2002", EmployeeInput{PIN: "2002", Name: "Bob"}).want(t, 200)
	if r := a.do("PUT", "/api/v1/employees/2002", EmployeeInput{PIN: "2003", Name: "Bob"}).want(t, 400); r.apiErr(t).Field != "pin" {
		t.Errorf("PIN change: %s", r.body)
	}

	// A viewer reads but does not change.
	v.do("POST", "/api/v1/employees", EmployeeInput{PIN: "3", Name: "X"}).want(t, 403)
	v.do("DELETE", "/api/v1/employees/1001", nil).want(t, 403)

	// Delete: the employee goes, their punches stay.
	if err := h.db.Put(context.Background(), []punchbox.Punch{storetest.Punch("1001", 0)}); err != nil {
		t.Fatal(err)
	}
	a.do("GET", "/api/v1/employees/1001", nil).want(t, 200).decode(t, &e)
	if e.PunchesLast != "2026-03-02T08:00:00" {
		t.Errorf("punches_last %q, want the seeded punch", e.PunchesLast)
	}
	a.do("DELETE", "/api/v1/employees/1001", nil).want(t, http.StatusNoContent)
	a.do("GET", "/api/v1/employees/1001", nil).want(t, 404)
	a.do("DELETE", "/api/v1/employees/1001", nil).want(t, 404)
	if n, _ := h.db.CountPunches(context.Background()); n != 1 {
		t.Errorf("%d punches after delete, want 1", n)
	}

	for _, w := range []struct{ action, target, detail string }{
		{"employee.create", "1001", `name ""→"Ann Example"`},
		{"employee.update", "1001", `name "Ann Example"→"Ann Other"`},
		{"employee.create", "2002", `name ""→"Bob"`},
		{"employee.delete", "1001", ""},
	} {
		found := false
		for _, e := range auditOf(t, h, w.action) {
			if e.Actor == "admin" && e.Target == w.target && strings.Contains(e.Detail, w.detail) {
				found = true
			}
		}
		if !found {
			t.Errorf("no audit entry by admin: %s %s %q", w.action, w.target, w.detail)
		}
	}
	if n := len(auditOf(t, h, "employee.create")); n != 2 {
		t.Errorf("%d create entries, want 2 (refused changes leave none)", n)
	}
}

func TestEmployeeFieldErrors(t *testing.T) {
	h := newHarness(t)
	a := h.admin()
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"no pin", EmployeeInput{Name: "Ann"}, "pin"},
		{"pin with a space", EmployeeInput{PIN: "10 01", Name: "Ann"}, "pin"},
		{"pin too long", EmployeeInput{PIN: strings.Repeat("9", 65), Name: "Ann"}, "pin"},
		{"pin not ASCII", EmployeeInput{PIN: "1ü", Name: "Ann"}, "pin"},
		{"name too long", EmployeeInput{PIN: "1", Name: strings.Repeat("n", 101)}, "name"},
		{"name with a line break", EmployeeInput{PIN: "1", Name: "Ann\nBob"}, "name"},
		// What no terminal keeps: a 25-character PIN, a name longer than 24
		// bytes, a card beyond 32 bits; and no name at all.
		{"pin wider than terminals", EmployeeInput{PIN: strings.Repeat("9", 25), Name: "Ann"}, "pin"},
		{"name wider than terminals", EmployeeInput{PIN: "1", Name: strings.Repeat("n", 25)}, "name"},
		{"no name", EmployeeInput{PIN: "1", Name: "   "}, "name"},
		{"card beyond 32 bits", EmployeeInput{PIN: "1", Name: "Ann", Card: "4294967296"}, "card"},
		{"card of 20 digits", EmployeeInput{PIN: "1", Name: "Ann", Card: strings.Repeat("1", 20)}, "card"},
		{"card not digits", EmployeeInput{PIN: "1", Name: "Ann", Card: "12a"}, "card"},
		{"card too long", EmployeeInput{PIN: "1", Name: "Ann", Card: strings.Repeat("1", 21)}, "card"},
		{"unknown privilege", EmployeeInput{PIN: "1", Name: "Ann", Privilege: "root"}, "privilege"},
		{"wrong type", map[string]any{"pin": 1, "name": "Ann"}, "pin"},
		{"unknown key", map[string]any{"pin": "1", "name": "Ann", "salary": 1}, "salary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, req := range []struct{ method, path string }{{"POST", "/api/v1/employees"}, {"PUT", "/api/v1/employees/1"}} {
				if tt.name == "no pin" && req.method == "PUT" {
					continue // the path names it
				}
				r := a.do(req.method, req.path, tt.body).want(t, 400)
				if e := r.apiErr(t); e.Field != tt.field || e.Code != "invalid" {
					t.Errorf("%s: %+v, want field %q", req.method, e, tt.field)
				}
			}
		})
	}
	if _, total, _ := h.db.Employees(context.Background(), store.EmployeeFilter{}); total != 0 {
		t.Errorf("%d employees stored after bad input, want 0", total)
	}
}

func TestEmployeeList(t *testing.T) {
	h := newHarness(t)
	es := make([]punchbox.Employee, 120)
	for i := range es {
		es[i] = punchbox.Employee{PIN: fmt.Sprint(i + 1), Name: fmt.Sprintf("Worker %d", i+1)}
	}
	es[6].Name = "Zoë Ångström"
	if _, err := h.db.PutEmployees(context.Background(), es, false); err != nil {
		t.Fatal(err)
	}
	v := h.viewer()

	// Paging walks everyone once, in PIN order, with the total on each page.
	var got []string
	cursor, pages := "", 0
	for {
		var pg Page[EmployeeView]
		v.do("GET", "/api/v1/employees?limit=50&cursor="+url.QueryEscape(cursor), nil).want(t, 200).decode(t, &pg)
		pages++
		if pg.Total == nil || *pg.Total != 120 {
			t.Fatalf("page %d: total %v, want 120", pages, pg.Total)
		}
		for _, e := range pg.Items {
			got = append(got, e.PIN)
		}
		if pg.NextCursor == "" {
			break
		}
		cursor = pg.NextCursor
	}
	if len(got) != 120 || pages != 3 || got[0] != "1" || got[9] != "10" || got[119] != "120" {
		t.Errorf("%d employees on %d pages (%v...), want 120 on 3 in PIN order", len(got), pages, got[:10])
	}

	tests := []struct {
		q     string
		total int
		first string
	}{
		{"11", 11, "11"},       // PIN prefix: 11, 110-119
		{"zoë", 1, "7"},        // part of a name, any case
		{"ÅNGSTRÖM", 1, "7"},   // non-ASCII case folding
		{"worker 12", 2, "12"}, // 12, 120
		{"%", 0, ""},           // LIKE wildcards are literal
		{"nobody", 0, ""},
	}
	for _, tt := range tests {
		var pg Page[EmployeeView]
		v.do("GET", "/api/v1/employees?q="+url.QueryEscape(tt.q), nil).want(t, 200).decode(t, &pg)
		if *pg.Total != tt.total || len(pg.Items) != tt.total || (tt.total > 0 && pg.Items[0].PIN != tt.first) {
			t.Errorf("q=%s: total %d, %d items, want %d starting with %q", tt.q, *pg.Total, len(pg.Items), tt.total, tt.first)
		}
	}

	bad := []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=abc", "limit"}, {"cursor=%21%21", "cursor"},
		{"cursor=" + encodeOffset(-1), "cursor"}, {"q=" + strings.Repeat("x", 101), "q"},
	}
	for _, b := range bad {
		r := v.do("GET", "/api/v1/employees?"+b.query, nil).want(t, 400)
		if e := r.apiErr(t); e.Field != b.field {
			t.Errorf("%s: field %q, want %q", b.query, e.Field, b.field)
		}
	}
}

// TestEmployeeHostileNames: markup and SQL in names are data, stored and
// returned byte for byte.
func TestEmployeeHostileNames(t *testing.T) {
	h := newHarness(t)
	a := h.admin()
	names := []string{`<script>alert()</script>`, `';DROP TABLE employees--`, `"quoted" & 'single'`, `Robert'); --`}
	for i, name := range names {
		pin := fmt.Sprint(i + 1)
		a.do("POST", "/api/v1/employees", EmployeeInput{PIN: pin, Name: name}).want(t, http.StatusCreated)
		var e EmployeeView
		a.do("GET", "/api/v1/employees/"+pin, nil).want(t, 200).decode(t, &e)
		if e.Name != name {
			t.Errorf("name %q came back as %q", name, e.Name)
		}
		var pg Page[EmployeeView]
		a.do("GET", "/api/v1/employees?q="+url.QueryEscape(name), nil).want(t, 200).decode(t, &pg)
		if len(pg.Items) != 1 || pg.Items[0].Name != name {
			t.Errorf("search for %q: %+v", name, pg.Items)
		}
	}
	if _, total, err := h.db.Employees(context.Background(), store.EmployeeFilter{}); err != nil || total != len(names) {
		t.Errorf("%d employees (%v), want %d: the table survived", total, err, len(names))
	}
}
