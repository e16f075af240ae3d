package web

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
)

// manageHarness is a panel with real data behind every page: employees
// (one with a hostile name), punches on 2026-03-02 and 03 (seedAttendance),
// a link to central, a readiness report with a failed check, and a backup.
func manageHarness(t *testing.T) (*harness, *client, *client) {
	t.Helper()
	since := time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)
	var hp *harness
	h := newHarness(t, siteNow, func(d *Deps) {
		d.Restart = func() { hp.restarts.Add(1) }
		d.Link = func() LinkStatus {
			return LinkStatus{Connected: false, Since: since, Broker: "tls://broker.example:8883", Session: 4, LastError: "dial: <refused>"}
		}
		d.Readiness = func(context.Context) []Check {
			return []Check{
				{Name: "tls", Title: "Panel served over HTTPS", OK: true, Detail: "a certificate from the data directory"},
				{Name: "ntp", Title: "Clock synchronised", OK: false, Detail: "no NTP server answers: set one in timesyncd.conf"},
				{Name: "backup", Title: "Backups are taken", OK: true},
			}
		}
	})
	hp = h
	seedAttendance(t, h)
	ctx := context.Background()
	for _, e := range []punchbox.Employee{
		{PIN: "7", Name: "<script>alert()</script>", Card: "123"},
		{PIN: "8", Name: "Bea Brown", Privilege: punchbox.PrivilegeAdmin, Disabled: true},
	} {
		if err := h.db.PutEmployee(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	a := h.admin()
	var j Job
	a.do("POST", "/api/v1/backups", nil).want(t, http.StatusAccepted).decode(t, &j)
	if j = awaitJob(t, a, j); j.State != JobDone {
		t.Fatalf("backup: %+v", j)
	}
	return h, a, h.viewer()
}

// TestManagePages renders each page for a viewer and checks what it shows.
func TestManagePages(t *testing.T) {
	h, _, v := manageHarness(t)
	backups, err := h.p.backupViews()
	if err != nil || len(backups) != 1 {
		t.Fatalf("backups %v, %v", backups, err)
	}
	inline := regexp.MustCompile(`<script>|<script [^>]*>[^<]|\son[a-z]+=|style=|<style`)
	tests := []struct {
		path string
		want []string
	}{
		{"/employees", []string{"=Ann", "Bea Brown", `<span class="badge s-disabled">disabled</span>`, "2026-03-03 09:15:00", "&lt;script&gt;alert()&lt;/script&gt;", "1–3 of 3"}},
		{"/employees?q=bea", []string{"Bea Brown", "1–1 of 1"}},
		{"/attendance", []string{`value="2026-03-02"`, "08:00:00", "16:30:00", "8:30", "07:00:00", "15:00:59", "8:00",
			`href="/api/v1/attendance.csv"`}},
		{"/attendance?from=2026-03-02&to=2026-03-04&pin=1", []string{"2026-03-03", "09:15:00", "incomplete",
			`href="/api/v1/attendance.csv?from=2026-03-02&amp;pin=1&amp;to=2026-03-04"`}},
		{"/sync", []string{"not connected", "tls://broker.example:8883", "dial: &lt;refused&gt;", `id="sync-pending">8<`, `hx-trigger="every 5s"`}},
		{"/backups", []string{backups[0].Name}},
		{"/settings", []string{"Keep delivered punches (days)", "Default 400", `<output id="s-0" class="setting-readonly">400</output>`}},
		{"/system", []string{"1 of 3 checks needs attention.", "Clock synchronised", "set one in timesyncd.conf", "Punches stored"}},
	}
	for _, tt := range tests {
		page := string(v.do("GET", tt.path, nil).want(t, http.StatusOK).body)
		for _, w := range tt.want {
			if !strings.Contains(page, w) {
				t.Errorf("%s lacks %q", tt.path, w)
			}
		}
		if m := inline.FindString(page); m != "" {
			t.Errorf("%s: inline script or style %q", tt.path, m)
		}
		if strings.Contains(page, "<script>alert(") || strings.Contains(page, "dial: <refused>") {
			t.Errorf("%s: hostile text is not escaped", tt.path)
		}
	}
	// The failed check comes before those that pass.
	page := string(v.do("GET", "/system", nil).want(t, 200).body)
	if i, j := strings.Index(page, "Clock synchronised"), strings.Index(page, "Panel served over HTTPS"); i < 0 || j < 0 || i > j {
		t.Errorf("the failed check is not listed first (%d, %d)", i, j)
	}
	if loc := v.do("GET", "/readiness", nil).want(t, http.StatusSeeOther).header.Get("Location"); loc != "/system#readiness" {
		t.Errorf("/readiness leads to %q", loc)
	}
}

// TestManagePagesAccess: a viewer sees no change controls and no audit
// log; an admin sees both.
func TestManagePagesAccess(t *testing.T) {
	_, a, v := manageHarness(t)
	controls := []struct{ path, control string }{
		{"/employees", `id="add-employee"`},
		{"/employees", `data-action="delete"`},
		{"/employees", `id="import-form"`},
		{"/backups", `id="backup-now"`},
		{"/backups", "/download"},
		{"/backups", `data-action="delete"`},
		{"/backups", `id="restore"`},
		{"/settings", `id="save-settings"`},
		{"/settings", `data-initial=`},
	}
	for _, c := range controls {
		if page := string(v.do("GET", c.path, nil).want(t, 200).body); strings.Contains(page, c.control) {
			t.Errorf("a viewer sees %s on %s", c.control, c.path)
		}
		if page := string(a.do("GET", c.path, nil).want(t, 200).body); !strings.Contains(page, c.control) {
			t.Errorf("an admin lacks %s on %s", c.control, c.path)
		}
	}
	v.do("GET", "/audit", nil).want(t, http.StatusForbidden)
	if page := string(v.do("GET", "/", nil).want(t, 200).body); strings.Contains(page, `href="/audit"`) || !strings.Contains(page, `href="/employees"`) {
		t.Error("a viewer's menu is wrong")
	}
	page := string(a.do("GET", "/audit?action=backup.", nil).want(t, 200).body)
	if !strings.Contains(page, "backup.create") || !strings.Contains(page, "admin") {
		t.Errorf("the audit page lacks the backup: %.2000s", page)
	}
	if page := string(a.do("GET", "/audit?actor=nobody", nil).want(t, 200).body); !strings.Contains(page, "No entries match.") {
		t.Error("an empty audit search says nothing")
	}
	if page := string(a.do("GET", "/settings", nil).want(t, 200).body); !strings.Contains(page, `name="settings.retention.days"`) {
		t.Error("the settings form lacks its named inputs")
	}
}

// TestManagePagesBadFilters: a bad filter is a 400 with the message on the
// page, never a 500.
func TestManagePagesBadFilters(t *testing.T) {
	_, a, _ := manageHarness(t)
	tests := []struct{ path, want string }{
		{"/employees?q=" + strings.Repeat("x", 101), "at most 100 bytes"},
		{"/employees?cursor=nonsense", "not a cursor"},
		{"/employees?limit=0", "limit"},
		{"/attendance?from=yesterday", "want a day like"},
		{"/attendance?from=2026-01-01&to=2026-12-31", "at most 92 days"},
		{"/attendance?from=2026-03-04&to=2026-03-02", "ends before it starts"},
		{"/attendance?pin=a%20b", "not a PIN"},
		{"/audit?since=soon", "want a day like"},
		{"/audit?since=2026-03-02&until=2026-03-01", "ends before it starts"},
		{"/audit?cursor=!!", "not a cursor"},
	}
	for _, tt := range tests {
		r := a.do("GET", tt.path, nil).want(t, http.StatusBadRequest)
		if page := string(r.body); !strings.Contains(page, tt.want) || !strings.Contains(page, `role="alert"`) && !strings.Contains(page, `class="field-error"`) {
			t.Errorf("%s: the page lacks %q", tt.path, tt.want)
		}
	}
}

// TestManagePaging: the employees and audit pages page on.
func TestManagePaging(t *testing.T) {
	_, a, _ := manageHarness(t)
	page := string(a.do("GET", "/employees?limit=2", nil).want(t, 200).body)
	next := regexp.MustCompile(`href="(/employees\?[^"]*cursor=[^"]*)" rel="next"`).FindStringSubmatch(page)
	if next == nil || !strings.Contains(page, "1–2 of 3") {
		t.Fatalf("no next page: %.3000s", page)
	}
	page = string(a.do("GET", strings.ReplaceAll(next[1], "&amp;", "&"), nil).want(t, 200).body)
	if !strings.Contains(page, "3–3 of 3") || !strings.Contains(page, "Bea Brown") || strings.Contains(page, `rel="next"`) {
		t.Errorf("second page: %.3000s", page)
	}
	for range 3 {
		a.do("POST", "/api/v1/employees", EmployeeInput{PIN: "9", Name: "x"})
		a.do("DELETE", "/api/v1/employees/9", nil)
	}
	page = string(a.do("GET", "/audit?limit=2", nil).want(t, 200).body)
	older := regexp.MustCompile(`href="(/audit\?[^"]*)" rel="next"`).FindStringSubmatch(page)
	if older == nil {
		t.Fatalf("no older page: %.3000s", page)
	}
	a.do("GET", strings.ReplaceAll(older[1], "&amp;", "&"), nil).want(t, 200)
}

func TestHoursMinutes(t *testing.T) {
	tests := []struct {
		m    int
		want string
	}{{0, "0:00"}, {5, "0:05"}, {485, "8:05"}, {600, "10:00"}}
	for _, tt := range tests {
		if got := hoursMinutes(tt.m); got != tt.want {
			t.Errorf("hoursMinutes(%d) = %q, want %q", tt.m, got, tt.want)
		}
	}
}
