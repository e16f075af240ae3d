package web

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
)

// employeeRoutes serves employees: CRUD and CSV import.
func (p *Panel) employeeRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/employees", access: viewer, tag: "employees", summary: "List employees, a page at a time, sorted by PIN",
			query: []param{
				{"q", "string", "a PIN prefix or a part of the name, ignoring case"},
				{"limit", "integer", "employees per page, 1 to 1000 (default 50)"},
				{"cursor", "string", "next_cursor of the previous page"},
			},
			out: Page[EmployeeView]{}, h: p.listEmployees},
		{method: "GET", path: "/api/v1/employees.csv", access: viewer, tag: "employees", summary: "Export the whole roster as CSV in the import format, streamed",
			outMime: "text/csv", h: p.exportEmployees},
		{method: "POST", path: "/api/v1/employees/import", access: admin, tag: "employees",
			summary: "Import a roster from CSV (header pin,name,card,privilege,disabled); every line is checked first, then all are written at once or none",
			query: []param{
				{"dry_run", "boolean", "check and count only; nothing is written"},
				{"replace", "boolean", "remove the employees the file does not list"},
			},
			mime: "text/csv", limit: csvBodyLimit, out: ImportResult{}, h: p.importEmployees},
		{method: "POST", path: "/api/v1/employees", access: admin, tag: "employees", summary: "Add an employee; 409 when the PIN exists",
			in: EmployeeInput{}, out: EmployeeView{}, status: http.StatusCreated, h: p.createEmployee},
		{method: "GET", path: "/api/v1/employees/:pin", access: viewer, tag: "employees", summary: "One employee", out: EmployeeView{}, h: p.getEmployee},
		{method: "PUT", path: "/api/v1/employees/:pin", access: admin, tag: "employees", summary: "Create or replace the employee with this PIN",
			in: EmployeeInput{}, out: EmployeeView{}, h: p.putEmployee},
		{method: "DELETE", path: "/api/v1/employees/:pin", access: admin, tag: "employees", summary: "Remove an employee; their stored punches stay",
			status: http.StatusNoContent, h: p.deleteEmployee},
	}
}

// EmployeeInput creates or replaces an employee.
type EmployeeInput struct {
	PIN       string `json:"pin"`                 // on PUT empty or the path's PIN
	Name      string `json:"name"`                // up to 100 bytes
	Card      string `json:"card,omitempty"`      // up to 20 digits
	Privilege string `json:"privilege,omitempty"` // user (default), enroller, manager or admin
	Disabled  bool   `json:"disabled,omitempty"`
}

// EmployeeView is an employee as the API shows it.
type EmployeeView struct {
	PIN       string `json:"pin"`
	Name      string `json:"name"`
	Card      string `json:"card,omitempty"`
	Privilege string `json:"privilege"` // user, enroller, manager or admin
	Disabled  bool   `json:"disabled"`
	// PunchesLast is the local time of the employee's latest punch, when
	// there is one.
	PunchesLast string `json:"punches_last,omitempty"`
}

func employeeView(e punchbox.Employee) EmployeeView {
	return EmployeeView{PIN: e.PIN, Name: e.Name, Card: e.Card, Privilege: e.Privilege.String(), Disabled: e.Disabled}
}

// employeeOf checks in and turns it into an employee; the error names the
// offending field. Spaces around the PIN, name, card and privilege go.
func employeeOf(in EmployeeInput) (punchbox.Employee, error) {
	e := punchbox.Employee{
		PIN: strings.TrimSpace(in.PIN), Name: strings.TrimSpace(in.Name), Card: strings.TrimSpace(in.Card), Disabled: in.Disabled,
	}
	if e.PIN == "" {
		return e, badField("pin", "required")
	}
	priv := strings.ToLower(strings.TrimSpace(in.Privilege))
	if priv != "" {
		var ok bool
		if e.Privilege, ok = punchbox.ParsePrivilege(priv); !ok {
			return e, badField("privilege", "want user, enroller, manager or admin")
		}
	}
	// The store's limits are the terminals': one check for the panel, the
	// CSV import and central.
	var ee *store.EmployeeError
	if err := store.CheckEmployee(e); errors.As(err, &ee) {
		return e, badField(ee.Field, "%s", ee.Reason)
	} else if err != nil {
		return e, err
	}
	return e, nil
}

// EmployeeQuery is a search of the roster as the API takes it.
type EmployeeQuery struct {
	Query  string // a PIN prefix or a part of the name
	Limit  int
	Offset int // the cursor
}

// maxEmployeeQuery is the longest ?q= accepted (the store's limit).
const maxEmployeeQuery = 100

// employeeQueryOf reads a roster search from the request's query.
func employeeQueryOf(c *gin.Context) (EmployeeQuery, error) {
	q := EmployeeQuery{Query: strings.TrimSpace(c.Query("q"))}
	if len(q.Query) > maxEmployeeQuery {
		return q, badField("q", "at most %d bytes", maxEmployeeQuery)
	}
	var err error
	if q.Limit, err = queryLimit(c); err != nil {
		return q, err
	}
	if cur := c.Query("cursor"); cur != "" {
		if q.Offset, err = decodeOffset(cur); err != nil {
			return q, badField("cursor", "not a cursor from this API: start again without it")
		}
	}
	return q, nil
}

// Roster cursors are opaque to clients: the offset of the next page.
func encodeOffset(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o" + strconv.Itoa(n)))
}

func decodeOffset(s string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "o"))
	if err != nil || n < 0 || b[0] != 'o' {
		return 0, errors.New("bad offset")
	}
	return n, nil
}

// employeePage returns a page of the employees q selects, with the total.
func (p *Panel) employeePage(ctx context.Context, q EmployeeQuery) (Page[EmployeeView], error) {
	es, total, err := p.d.Store.Employees(ctx, store.EmployeeFilter{Query: q.Query, Limit: q.Limit, Offset: q.Offset})
	if err != nil {
		return Page[EmployeeView]{}, err
	}
	page := Page[EmployeeView]{Items: make([]EmployeeView, 0, len(es)), Total: &total}
	for _, e := range es {
		v, err := p.withLastPunch(ctx, employeeView(e))
		if err != nil {
			return Page[EmployeeView]{}, err
		}
		page.Items = append(page.Items, v)
	}
	if next := q.Offset + len(es); len(es) > 0 && next < total {
		page.NextCursor = encodeOffset(next)
	}
	return page, nil
}

// withLastPunch adds the time of the employee's latest punch to v.
func (p *Panel) withLastPunch(ctx context.Context, v EmployeeView) (EmployeeView, error) {
	ps, err := p.d.Store.Search(ctx, store.Filter{PIN: v.PIN, Limit: 1})
	if err != nil {
		return v, err
	}
	if len(ps) > 0 {
		v.PunchesLast = ps[0].Local.String()
	}
	return v, nil
}

func (p *Panel) listEmployees(c *gin.Context) {
	q, err := employeeQueryOf(c)
	if err != nil {
		p.fail(c, err)
		return
	}
	page, err := p.employeePage(c.Request.Context(), q)
	if err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}

func (p *Panel) getEmployee(c *gin.Context) {
	p.answerEmployee(c, http.StatusOK, c.Param("pin"))
}

// answerEmployee answers the stored employee pin with status.
func (p *Panel) answerEmployee(c *gin.Context, status int, pin string) {
	ctx := c.Request.Context()
	e, err := p.d.Store.Employee(ctx, pin)
	if err != nil {
		p.fail(c, err)
		return
	}
	v, err := p.withLastPunch(ctx, employeeView(e))
	if err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(status, v)
}

func (p *Panel) createEmployee(c *gin.Context) {
	var in EmployeeInput
	if err := decode(c, &in); err != nil {
		p.fail(c, err)
		return
	}
	e, err := employeeOf(in)
	if err != nil {
		p.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	switch _, err := p.d.Store.Employee(ctx, e.PIN); {
	case err == nil:
		p.fail(c, fmt.Errorf("employee %q exists: change it with PUT: %w", e.PIN, store.ErrConflict))
		return
	case !errors.Is(err, store.ErrNotFound):
		p.fail(c, err)
		return
	}
	if err := p.d.Store.PutEmployee(ctx, e); err != nil {
		p.fail(c, err)
		return
	}
	p.audit(c, "employee.create", e.PIN, employeeChanges(punchbox.Employee{}, e))
	p.answerEmployee(c, http.StatusCreated, e.PIN)
}

func (p *Panel) putEmployee(c *gin.Context) {
	var in EmployeeInput
	if err := decode(c, &in); err != nil {
		p.fail(c, err)
		return
	}
	pin := c.Param("pin")
	if got := strings.TrimSpace(in.PIN); got != "" && got != pin {
		p.fail(c, badField("pin", "a PIN cannot change: the body says %q, the path %q", got, pin))
		return
	}
	in.PIN = pin
	e, err := employeeOf(in)
	if err != nil {
		p.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	old, err := p.d.Store.Employee(ctx, e.PIN)
	existed := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		p.fail(c, err)
		return
	}
	if err := p.d.Store.PutEmployee(ctx, e); err != nil {
		p.fail(c, err)
		return
	}
	if existed {
		p.audit(c, "employee.update", e.PIN, employeeChanges(old, e))
	} else {
		p.audit(c, "employee.create", e.PIN, employeeChanges(punchbox.Employee{}, e))
	}
	p.answerEmployee(c, http.StatusOK, e.PIN)
}

// employeeChanges describes a change for the audit log.
func employeeChanges(a, b punchbox.Employee) string {
	var ch changes
	field(&ch, "name", a.Name, b.Name)
	field(&ch, "card", a.Card, b.Card)
	field(&ch, "privilege", a.Privilege.String(), b.Privilege.String())
	field(&ch, "disabled", a.Disabled, b.Disabled)
	return ch.String()
}

func (p *Panel) deleteEmployee(c *gin.Context) {
	pin := c.Param("pin")
	if err := p.d.Store.DeleteEmployee(c.Request.Context(), pin); err != nil {
		p.fail(c, err)
		return
	}
	p.audit(c, "employee.delete", pin, "")
	c.Status(http.StatusNoContent)
}
