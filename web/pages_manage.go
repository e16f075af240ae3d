package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// The employees, attendance and sync pages.

// filterStatus is the status a page answers with when reading its data
// failed with err: a bad filter is shown on the form with its 4xx; any
// other failure is an error page, and ok is false.
func (p *Panel) filterStatus(c *gin.Context, err error) (status int, ok bool) {
	status, _ = statusOf(err)
	if status >= 500 {
		p.errorPage(c, status, err)
		return status, false
	}
	return status, true
}

// formOf returns the request's query parameters keys as typed.
func formOf(c *gin.Context, keys ...string) map[string]string {
	form := map[string]string{}
	q := c.Request.URL.Query()
	for _, k := range keys {
		form[k] = q.Get(k)
	}
	return form
}

// withQuery returns path with the non-empty values of form as its query.
func withQuery(path string, form map[string]string) string {
	q := url.Values{}
	for k, v := range form {
		if v != "" {
			q.Set(k, v)
		}
	}
	if s := q.Encode(); s != "" {
		return path + "?" + s
	}
	return path
}

type employeesPageData struct {
	Form       map[string]string
	Err        error
	Page       Page[EmployeeView]
	Shown      string // "1–50 of 230"
	Next       string // the next page's URL; "" on the last
	First      string // the first page's URL, when not on it
	Export     string
	Privileges []string
}

// privilegeNames are an employee's privileges, for the form.
var privilegeNames = []string{"user", "enroller", "manager", "admin"}

func (p *Panel) employeesPage(c *gin.Context) {
	d := employeesPageData{Form: formOf(c, "q"), Export: "/api/v1/employees.csv", Privileges: privilegeNames}
	status := http.StatusOK
	q, err := employeeQueryOf(c)
	if err == nil {
		d.Page, err = p.employeePage(c.Request.Context(), q)
	}
	if err != nil {
		var ok bool
		if status, ok = p.filterStatus(c, err); !ok {
			return
		}
		d.Err = err
	}
	if d.Page.Total != nil && len(d.Page.Items) > 0 {
		d.Shown = fmt.Sprintf("%d–%d of %d", q.Offset+1, q.Offset+len(d.Page.Items), *d.Page.Total)
	}
	if d.Page.NextCursor != "" {
		next := c.Request.URL.Query()
		next.Set("cursor", d.Page.NextCursor)
		d.Next = "/employees?" + next.Encode()
	}
	if q.Offset > 0 {
		d.First = withQuery("/employees", d.Form)
	}
	p.render(c, status, p.page(c, "employees", "Employees", d))
}

// attendanceRow is an employee's day as the attendance page shows it.
type attendanceRow struct {
	AttendanceView
	FirstClock, LastClock string // 08:01:02
	Worked                string // 8:05
}

// attendanceDay is one day's table.
type attendanceDay struct {
	Day  string
	Rows []attendanceRow
}

type attendancePageData struct {
	Form   map[string]string
	Err    error
	Days   []attendanceDay
	Export string
}

// clockOf is the time of day of a local time: 2026-11-27T08:01:02 -> 08:01:02.
func clockOf(local string) string {
	if _, t, ok := strings.Cut(local, "T"); ok {
		return t
	}
	return local
}

// hoursMinutes formats minutes as hours:minutes: 485 -> 8:05.
func hoursMinutes(m int) string {
	return fmt.Sprintf("%d:%02d", m/60, m%60)
}

func (p *Panel) attendancePage(c *gin.Context) {
	d := attendancePageData{Form: formOf(c, "from", "to", "pin")}
	d.Export = withQuery("/api/v1/attendance.csv", d.Form)
	today := p.d.Now().In(p.d.Zone).Format(time.DateOnly)
	if d.Form["to"] == "" {
		d.Form["to"] = today
	}
	if d.Form["from"] == "" {
		d.Form["from"] = d.Form["to"]
	}
	status := http.StatusOK
	q, err := attendanceQueryOf(c)
	var vs []AttendanceView
	if err == nil {
		vs, err = p.attendance(c.Request.Context(), q)
	}
	if err != nil {
		var ok bool
		if status, ok = p.filterStatus(c, err); !ok {
			return
		}
		d.Err = err
	}
	for _, v := range vs {
		if n := len(d.Days); n == 0 || d.Days[n-1].Day != v.Day {
			d.Days = append(d.Days, attendanceDay{Day: v.Day})
		}
		row := attendanceRow{AttendanceView: v, FirstClock: clockOf(v.First), LastClock: clockOf(v.Last)}
		if !v.Incomplete {
			row.Worked = hoursMinutes(v.WorkedMinutes)
		}
		day := &d.Days[len(d.Days)-1]
		day.Rows = append(day.Rows, row)
	}
	p.render(c, status, p.page(c, "attendance", "Attendance", d))
}

type syncPageData struct {
	SyncView
	Age string // how long the oldest waiting punch has waited
}

func (p *Panel) syncPage(c *gin.Context) {
	v, err := p.syncView(c.Request.Context())
	if err != nil {
		p.errorPage(c, http.StatusInternalServerError, err)
		return
	}
	d := syncPageData{SyncView: v}
	if v.Backlog.Pending > 0 {
		d.Age = roundDuration(time.Duration(max(v.Backlog.AgeS, 0)) * time.Second) // a clock set back: not negative
	}
	p.render(c, http.StatusOK, p.page(c, "sync", "Sync with central", d))
}
