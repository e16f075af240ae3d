package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
)

// csvSender returns c sending its bodies as CSV.
func csvSender(c *client) *client {
	cc := *c
	cc.header = c.header.Clone()
	cc.header.Set("Content-Type", "text/csv; charset=utf-8")
	return &cc
}

// roster returns the stored roster.
func roster(t *testing.T, h *harness) []punchbox.Employee {
	t.Helper()
	es, _, err := h.db.Employees(context.Background(), store.EmployeeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func putRoster(t *testing.T, h *harness, es ...punchbox.Employee) {
	t.Helper()
	if _, err := h.db.PutEmployees(context.Background(), es, false); err != nil {
		t.Fatal(err)
	}
}

func TestRosterImport(t *testing.T) {
	h := newHarness(t)
	putRoster(t, h, punchbox.Employee{PIN: "1", Name: "Ann"}, punchbox.Employee{PIN: "2", Name: "Bob"}, punchbox.Employee{PIN: "3", Name: "Cid"})
	before := roster(t, h)
	a := csvSender(h.admin())
	file := "pin,name,privilege\n1,Ann,user\n2,Bobby,manager\n4,Dee,\n"

	// A dry run counts and changes nothing.
	var res ImportResult
	a.do("POST", "/api/v1/employees/import?dry_run=true&replace=true", file).want(t, 200).decode(t, &res)
	want := ImportResult{DryRun: true, Replace: true, Lines: 3, Added: 1, Updated: 1, Unchanged: 1, Removed: 1}
	if res != want {
		t.Errorf("dry run %+v, want %+v", res, want)
	}
	if got := roster(t, h); !reflect.DeepEqual(got, before) {
		t.Errorf("a dry run changed the roster to %+v", got)
	}
	if n := len(auditOf(t, h, "employee.import")); n != 0 {
		t.Errorf("%d audit entries after a dry run, want none", n)
	}

	// The import adds and updates, and keeps whom the file leaves out.
	res = ImportResult{}
	a.do("POST", "/api/v1/employees/import", file).want(t, 200).decode(t, &res)
	want = ImportResult{Lines: 3, Added: 1, Updated: 1, Unchanged: 1}
	if res != want {
		t.Errorf("import %+v, want %+v", res, want)
	}
	got := roster(t, h)
	wantRoster := []punchbox.Employee{{PIN: "1", Name: "Ann"}, {PIN: "2", Name: "Bobby", Privilege: punchbox.PrivilegeManager},
		{PIN: "3", Name: "Cid"}, {PIN: "4", Name: "Dee"}}
	if !reflect.DeepEqual(got, wantRoster) {
		t.Errorf("roster %+v, want %+v", got, wantRoster)
	}
	entries := auditOf(t, h, "employee.import")
	if len(entries) != 1 || entries[0].Actor != "admin" || entries[0].Target != "roster" ||
		!strings.Contains(entries[0].Detail, "1 added, 1 updated, 1 unchanged") {
		t.Errorf("audit %+v, want one import by admin with the counts", entries)
	}

	// Replace removes whom the file leaves out.
	res = ImportResult{}
	a.do("POST", "/api/v1/employees/import?replace=1", "pin,name\n1,Ann\n4,Dee\n").want(t, 200).decode(t, &res)
	if want := (ImportResult{Replace: true, Lines: 2, Unchanged: 2, Removed: 2}); res != want {
		t.Errorf("replace %+v, want %+v", res, want)
	}
	if got := roster(t, h); len(got) != 2 || got[0].PIN != "1" || got[1].PIN != "4" {
		t.Errorf("roster after replace %+v, want 1 and 4", got)
	}
	if e := auditOf(t, h, "employee.import"); len(e) != 2 || !strings.Contains(e[1].Detail, "2 removed") {
		t.Errorf("audit %+v, want the replace with its removals", e)
	}
}

func TestRosterImportBadLines(t *testing.T) {
	h := newHarness(t)
	putRoster(t, h, punchbox.Employee{PIN: "1", Name: "Ann"})
	before := roster(t, h)
	a := csvSender(h.admin())
	file := "pin,name,privilege,disabled\n" +
		"10,Good,user,false\n" + // 2: good, and still not written
		"1 2,Bad PIN,user,false\n" + // 3
		"11," + strings.Repeat("n", 101) + ",user,false\n" + // 4
		"12,Cid,root,false\n" + // 5
		"10,Twice,user,false\n" + // 6
		"13;Eve;user;false\n" + // 7
		"14,F\xffe,user,false\n" // 8
	for _, path := range []string{"/api/v1/employees/import", "/api/v1/employees/import?replace=true", "/api/v1/employees/import?dry_run=true"} {
		r := a.do("POST", path, file).want(t, 400)
		var rep ImportReport
		dec := json.NewDecoder(bytes.NewReader(r.body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rep); err != nil {
			t.Fatalf("%s: %v", r.body, err)
		}
		if rep.Error.Code != "invalid" || rep.Error.Message != "6 lines are bad" || rep.Error.Field != "" {
			t.Errorf("error %+v, want invalid, 6 lines are bad", rep.Error)
		}
		want := []struct {
			line  int
			field string
		}{{3, "pin"}, {4, "name"}, {5, "privilege"}, {6, "pin"}, {7, ""}, {8, "name"}}
		if len(rep.Lines) != len(want) {
			t.Fatalf("lines %+v, want %d", rep.Lines, len(want))
		}
		for i, w := range want {
			if l := rep.Lines[i]; l.Line != w.line || l.Field != w.field || l.Message == "" {
				t.Errorf("problem %+v, want line %d field %q", l, w.line, w.field)
			}
		}
	}
	// An unknown column is named too.
	r := a.do("POST", "/api/v1/employees/import", "pin,name,salary\n20,Zed,100\n").want(t, 400)
	var rep ImportReport
	r.decode(t, &rep)
	if len(rep.Lines) != 1 || rep.Lines[0].Line != 1 || rep.Lines[0].Field != "salary" {
		t.Errorf("unknown column: %+v", rep.Lines)
	}
	if got := roster(t, h); !reflect.DeepEqual(got, before) {
		t.Errorf("bad files changed the roster to %+v", got)
	}
	if n := len(auditOf(t, h, "employee.import")); n != 0 {
		t.Errorf("%d import audit entries, want none", n)
	}
}

// TestRosterImportTerminalLimits: the CSV import refuses what no terminal
// keeps, line by line, and stores nothing.
func TestRosterImportTerminalLimits(t *testing.T) {
	h := newHarness(t)
	body := "pin,name,card\n" + strings.Repeat("9", 25) + ",Ann,\n2,,\n3,Cy,18446744073709551615\n"
	r := csvSender(h.admin()).do("POST", "/api/v1/employees/import", body).want(t, 400)
	var res struct {
		Lines []LineError `json:"lines"`
	}
	r.decode(t, &res)
	want := []LineError{{Line: 2, Field: "pin"}, {Line: 3, Field: "name"}, {Line: 4, Field: "card"}}
	if len(res.Lines) != len(want) {
		t.Fatalf("lines %+v, want %+v", res.Lines, want)
	}
	for i, w := range want {
		if g := res.Lines[i]; g.Line != w.Line || g.Field != w.Field {
			t.Errorf("line error %d = %+v, want %+v", i, g, w)
		}
	}
	if got := roster(t, h); len(got) != 0 {
		t.Errorf("refused import stored %+v", got)
	}
}

func TestRosterImportRefusals(t *testing.T) {
	h := newHarness(t)
	admin := h.admin()
	a := csvSender(admin)
	good := "pin,name\n1,Ann\n"

	// Only CSV, in UTF-8.
	r := admin.do("POST", "/api/v1/employees/import", good).want(t, http.StatusUnsupportedMediaType)
	if e := r.apiErr(t); e.Code != "unsupported_media_type" {
		t.Errorf("JSON content type: %+v", e)
	}
	latin := *a
	latin.header = a.header.Clone()
	latin.header.Set("Content-Type", "text/csv; charset=iso-8859-1")
	latin.do("POST", "/api/v1/employees/import", good).want(t, http.StatusUnsupportedMediaType).apiErr(t)

	// Over the limit: refused before a byte is parsed.
	big := bytes.Repeat([]byte("x"), csvBodyLimit+1)
	if e := a.do("POST", "/api/v1/employees/import", big).want(t, http.StatusRequestEntityTooLarge).apiErr(t); e.Code != "too_large" {
		t.Errorf("too large: %+v", e)
	}

	// Flags are true or false.
	if e := a.do("POST", "/api/v1/employees/import?dry_run=maybe", good).want(t, 400).apiErr(t); e.Field != "dry_run" {
		t.Errorf("bad flag: %+v", e)
	}
	// A viewer may not import.
	csvSender(h.viewer()).do("POST", "/api/v1/employees/import", good).want(t, 403)

	if got := roster(t, h); len(got) != 0 {
		t.Errorf("refused imports stored %+v", got)
	}
}

// TestRosterRoundTrip: the export imports again with no change, markup
// and SQL in names included.
func TestRosterRoundTrip(t *testing.T) {
	h := newHarness(t)
	a := h.admin()
	// Hostile names arrive through the import and stay verbatim.
	hostile := "pin,name\n1,<script>alert()</script>\n2,\"';DROP TABLE employees--\"\n"
	csvSender(a).do("POST", "/api/v1/employees/import", hostile).want(t, 200)
	for pin, name := range map[string]string{"1": "<script>alert()</script>", "2": "';DROP TABLE employees--"} {
		var e EmployeeView
		a.do("GET", "/api/v1/employees/"+pin, nil).want(t, 200).decode(t, &e)
		if e.Name != name {
			t.Errorf("pin %s: name %q, want %q", pin, e.Name, name)
		}
	}
	putRoster(t, h,
		punchbox.Employee{PIN: "3", Name: "=HYPERLINK(\"http://x\")", Card: "0042", Privilege: punchbox.PrivilegeAdmin},
		punchbox.Employee{PIN: "-4", Name: "'Tis Müller, \"Jo\"", Disabled: true},
		punchbox.Employee{PIN: "5", Name: "'=already quoted", Privilege: punchbox.PrivilegeEnroller},
		punchbox.Employee{PIN: "6", Name: "@Ann"},
	)
	before := roster(t, h)

	r := h.viewer().do("GET", "/api/v1/employees.csv", nil).want(t, 200)
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
	if len(rows) != 7 || strings.Join(rows[0], ",") != "pin,name,card,privilege,disabled" {
		t.Fatalf("export %q: want the header and 6 employees", rows)
	}
	for _, row := range rows[1:] {
		for _, c := range row {
			if c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
				t.Errorf("cell %q of %q would run as a formula", c, row)
			}
		}
	}

	var res ImportResult
	csvSender(a).do("POST", "/api/v1/employees/import?replace=true", r.body).want(t, 200).decode(t, &res)
	if want := (ImportResult{Replace: true, Lines: 6, Unchanged: 6}); res != want {
		t.Errorf("re-import %+v, want %+v", res, want)
	}
	if got := roster(t, h); !reflect.DeepEqual(got, before) {
		t.Errorf("round trip changed the roster:\n got %+v\nwant %+v", got, before)
	}
}

// TestRosterImportLarge: 20,000 lines import in one request, and again
// with no change.
func TestRosterImportLarge(t *testing.T) {
	h := newHarness(t)
	a := csvSender(h.admin())
	var b strings.Builder
	b.WriteString("pin,name,card,privilege,disabled\n")
	const n = 20_000
	for i := range n {
		fmt.Fprintf(&b, "%d,Employee Number %d,%d,user,false\n", 100000+i, i, 5000000+i)
	}
	for _, want := range []ImportResult{{Lines: n, Added: n}, {Lines: n, Unchanged: n}} {
		start := time.Now()
		var res ImportResult
		a.do("POST", "/api/v1/employees/import", b.String()).want(t, 200).decode(t, &res)
		t.Logf("import of %d lines (%d bytes): %s", n, b.Len(), time.Since(start))
		if res != want {
			t.Errorf("import %+v, want %+v", res, want)
		}
	}
	if _, total, _ := h.db.Employees(context.Background(), store.EmployeeFilter{}); total != n {
		t.Errorf("%d employees stored, want %d", total, n)
	}
}
