package web

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
)

// attendanceRoutes serves daily attendance: first in and last out per employee.
func (p *Panel) attendanceRoutes() []route {
	q := []param{
		{"from", "string", "first day, e.g. 2026-11-27 (default: the last day)"},
		{"to", "string", "last day, included (default: today in the site's zone); at most 92 days after from"},
		{"pin", "string", "only this employee"},
	}
	return []route{
		{method: "GET", path: "/api/v1/attendance", access: viewer, tag: "attendance",
			summary: "First punch in and last punch out per employee per day", query: q, out: []AttendanceView{}, h: p.listAttendance},
		{method: "GET", path: "/api/v1/attendance.csv", access: viewer, tag: "attendance",
			summary: "Export attendance as CSV, streamed", query: q, outMime: "text/csv", h: p.exportAttendance},
	}
}

// maxAttendanceDays is the longest range of one attendance query.
const maxAttendanceDays = 92

// AttendanceQuery selects days of attendance. Empty days take their
// defaults when the query runs: To today in the site's zone, From To.
type AttendanceQuery struct {
	From, To string // days, both included: 2026-11-27
	PIN      string
}

// AttendanceView is one employee's day.
type AttendanceView struct {
	PIN           string `json:"pin"`
	Name          string `json:"name,omitempty"` // the employee's, when known
	Day           string `json:"day"`            // 2026-11-27
	First         string `json:"first"`          // local time of the first punch: 2026-11-27T08:01:02
	Last          string `json:"last"`           // local time of the last punch
	Punches       int    `json:"punches"`
	WorkedMinutes int    `json:"worked_minutes"`       // from first to last
	Incomplete    bool   `json:"incomplete,omitempty"` // one punch only: no way out
}

// attendanceQueryOf reads an attendance query from the request's query.
func attendanceQueryOf(c *gin.Context) (AttendanceQuery, error) {
	q := AttendanceQuery{PIN: strings.TrimSpace(c.Query("pin"))}
	if q.PIN != "" && !punchbox.ValidIdent(q.PIN) {
		return q, badField("pin", "not a PIN")
	}
	for _, d := range []struct {
		field string
		v     *string
	}{{"from", &q.From}, {"to", &q.To}} {
		s := strings.TrimSpace(c.Query(d.field))
		if s == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return q, badField(d.field, "want a day like 2026-11-27")
		}
		*d.v = t.Format(time.DateOnly)
	}
	if q.From != "" && q.To != "" {
		if _, _, err := q.days(""); err != nil {
			return q, err
		}
	}
	return q, nil
}

// days returns the range's first and last day, with today for a missing
// To, and checks it.
func (q AttendanceQuery) days(today string) (time.Time, time.Time, error) {
	to := q.To
	if to == "" {
		to = today
	}
	from := q.From
	if from == "" {
		from = to
	}
	a, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return a, a, badField("from", "want a day like 2026-11-27")
	}
	b, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return a, b, badField("to", "want a day like 2026-11-27")
	}
	switch n := int(b.Sub(a).Hours()/24) + 1; {
	case n < 1:
		return a, b, badField("to", "the range ends before it starts")
	case n > maxAttendanceDays:
		return a, b, badField("to", "at most %d days at a time; this range has %d", maxAttendanceDays, n)
	}
	return a, b, nil
}

// attendance returns each employee's first and last punch on each day q
// selects, ordered by day and PIN.
func (p *Panel) attendance(ctx context.Context, q AttendanceQuery) ([]AttendanceView, error) {
	from, to, err := q.days(p.d.Now().In(p.d.Zone).Format(time.DateOnly))
	if err != nil {
		return nil, err
	}
	// The store takes days as the local times they start: the end is
	// the start of the day after the last.
	as, err := p.d.Store.FirstLast(ctx, from.Format(time.DateOnly), to.AddDate(0, 0, 1).Format(time.DateOnly), q.PIN)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	out := make([]AttendanceView, 0, len(as))
	for _, a := range as {
		name, ok := names[a.PIN]
		if !ok {
			e, err := p.d.Store.Employee(ctx, a.PIN)
			switch {
			case err == nil:
				name = e.Name
			case !errors.Is(err, store.ErrNotFound):
				return nil, err
			}
			names[a.PIN] = name
		}
		out = append(out, attendanceView(a, name))
	}
	return out, nil
}

func attendanceView(a store.Attendance, name string) AttendanceView {
	v := AttendanceView{PIN: a.PIN, Name: name, Day: a.Day, First: a.First, Last: a.Last, Punches: a.Punches}
	first, err1 := punchbox.ParseLocalTime(a.First)
	last, err2 := punchbox.ParseLocalTime(a.Last)
	if a.Punches < 2 || err1 != nil || err2 != nil {
		v.Incomplete = true
		return v
	}
	v.WorkedMinutes = int(last.In(time.UTC).Sub(first.In(time.UTC)) / time.Minute)
	return v
}

func (p *Panel) listAttendance(c *gin.Context) {
	q, err := attendanceQueryOf(c)
	if err != nil {
		p.fail(c, err)
		return
	}
	vs, err := p.attendance(c.Request.Context(), q)
	if err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, vs)
}

// attendanceCSVHeader is the first line of an attendance export.
var attendanceCSVHeader = []string{"day", "pin", "name", "first", "last", "punches", "worked_minutes", "incomplete"}

func (p *Panel) exportAttendance(c *gin.Context) {
	q, err := attendanceQueryOf(c)
	if err != nil {
		p.fail(c, err)
		return
	}
	vs, err := p.attendance(c.Request.Context(), q)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.startCSV(c, "attendance")
	w := csv.NewWriter(c.Writer)
	w.Write(attendanceCSVHeader)
	for _, v := range vs {
		w.Write([]string{v.Day, cell(v.PIN), cell(v.Name), v.First, v.Last, strconv.Itoa(v.Punches),
			strconv.Itoa(v.WorkedMinutes), strconv.FormatBool(v.Incomplete)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		p.log.Warn("attendance export stopped", "err", err)
		panic(http.ErrAbortHandler)
	}
}
