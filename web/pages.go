package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/store"
)

// The panel's pages are server-rendered html/template pages with one
// layout (templates/layout.html). They read the store directly and make
// every change through the JSON API, from app.js.

// navItem is one entry of the panel's navigation.
type navItem struct {
	Path  string
	Label string
	Admin bool // shown to admins only
}

// navigation is the panel's menu, in order. A new page adds its entry here.
var navigation = []navItem{
	{Path: "/", Label: "Dashboard"},
	{Path: "/terminals", Label: "Terminals"},
	{Path: "/employees", Label: "Employees"},
	{Path: "/punches", Label: "Punches"},
	{Path: "/attendance", Label: "Attendance"},
	{Path: "/sync", Label: "Sync"},
	{Path: "/backups", Label: "Backups"},
	{Path: "/audit", Label: "Audit", Admin: true},
	{Path: "/settings", Label: "Settings"},
	{Path: "/system", Label: "System"},
	{Path: "/users", Label: "Users", Admin: true},
}

// ui holds the parsed page templates and the static assets.
type ui struct {
	assets *assets
	pages  map[string]*template.Template // by page name: "dashboard"
}

// newUI parses the embedded templates. They are part of the binary, so a
// failure is a bug: it panics, and every test that builds a panel sees it.
func newUI() *ui {
	u, err := loadUI(uiFiles)
	if err != nil {
		panic("web: " + err.Error())
	}
	return u
}

func loadUI(fsys fs.FS) (*ui, error) {
	a, err := loadAssets(fsys)
	if err != nil {
		return nil, err
	}
	u := &ui{assets: a, pages: map[string]*template.Template{}}
	names, err := fs.Glob(fsys, "ui/templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		page := strings.TrimSuffix(path.Base(name), ".html")
		if page == "layout" {
			continue
		}
		t, err := template.New(page).Funcs(u.funcs()).ParseFS(fsys, "ui/templates/layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", page, err)
		}
		u.pages[page] = t
	}
	return u, nil
}

// pageData is what every page's template gets.
type pageData struct {
	Title   string // the page's; the layout adds the box's name
	Page    string // the template's name, for app.js and the nav
	Path    string // the request's path, for the nav
	Site    string
	Box     string
	Version string
	User    *SessionInfo // nil when signed out
	Admin   bool
	Nav     []navItem
	Data    any
}

// page returns the data for rendering a page for the request's principal.
func (p *Panel) page(c *gin.Context, name, title string, data any) pageData {
	d := pageData{Title: title, Page: name, Path: c.Request.URL.Path, Site: p.d.Site, Box: p.d.Box, Version: p.d.Version, Data: data}
	if pr := who(c); pr != nil {
		info := p.sessionInfo(pr)
		d.User = &info
		d.Admin = pr.role() == store.RoleAdmin
		for _, n := range navigation {
			if !n.Admin || d.Admin {
				d.Nav = append(d.Nav, n)
			}
		}
	}
	return d
}

// render writes the page d with status. The page is rendered whole before
// anything is sent, so a template error is a clean 500.
func (p *Panel) render(c *gin.Context, status int, d pageData) {
	t, ok := p.ui.pages[d.Page]
	if !ok {
		p.log.Error("no such page template", "page", d.Page)
		c.String(http.StatusInternalServerError, "internal error")
		c.Abort()
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		p.log.Error("render page", "page", d.Page, "err", err)
		c.Header("Content-Type", "text/plain; charset=utf-8")
		c.String(http.StatusInternalServerError, "internal error; the box's log has the details\n")
		c.Abort()
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// errorPage answers a page request with an error page.
func (p *Panel) errorPage(c *gin.Context, status int, err error) {
	msg := err.Error()
	if status >= 500 && status != http.StatusServiceUnavailable {
		p.log.Error("page failed", "path", c.Request.URL.Path, "err", err)
		msg = "internal error; the box's log has the details"
	}
	p.render(c, status, p.page(c, "error", http.StatusText(status), errorData{Status: status, Message: msg}))
	c.Abort()
}

type errorData struct {
	Status  int
	Message string
}

func (p *Panel) pageRoutes() []route {
	return []route{
		{method: "GET", path: "/login", access: public, kind: page, h: p.loginPage},
		{method: "GET", path: "/setup", access: public, kind: page, h: p.setupPage},
		{method: "GET", path: "/", access: viewer, kind: page, h: p.dashboardPage},
		{method: "GET", path: "/terminals", access: viewer, kind: page, h: p.terminalsPage},
		{method: "GET", path: "/punches", access: viewer, kind: page, h: p.punchesPage},
		{method: "GET", path: "/users", access: admin, kind: page, h: p.usersPage},
		{method: "GET", path: "/employees", access: viewer, kind: page, h: p.employeesPage},
		{method: "GET", path: "/attendance", access: viewer, kind: page, h: p.attendancePage},
		{method: "GET", path: "/sync", access: viewer, kind: page, h: p.syncPage},
		{method: "GET", path: "/backups", access: viewer, kind: page, h: p.backupsPage},
		{method: "GET", path: "/audit", access: admin, kind: page, h: p.auditLogPage},
		{method: "GET", path: "/settings", access: viewer, kind: page, h: p.settingsPage},
		{method: "GET", path: "/system", access: viewer, kind: page, h: p.systemPage},
		{method: "GET", path: "/readiness", access: viewer, kind: page, h: p.readinessPage},
		{method: "GET", path: "/account", access: viewer, kind: page, h: p.accountPage},
		{method: "GET", path: "/api/v1/dashboard", access: viewer, tag: "dashboard", summary: "The dashboard: terminals, today's punches, counts, backlog, link, disk and health", out: Dashboard{}, h: p.getDashboard},
	}
}

// safeNext returns next when it is a path on this site, else "/": a login
// link must not send anyone elsewhere.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

func (p *Panel) adminExists(c *gin.Context) (bool, error) {
	admins, _, err := p.d.Store.CountUsers(c.Request.Context())
	return admins > 0, err
}

func (p *Panel) loginPage(c *gin.Context) {
	next := safeNext(c.Query("next"))
	if who(c) != nil {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	exists, err := p.adminExists(c)
	if err != nil {
		p.errorPage(c, http.StatusInternalServerError, err)
		return
	}
	if !exists {
		c.Redirect(http.StatusSeeOther, "/setup")
		return
	}
	p.render(c, http.StatusOK, p.page(c, "login", "Sign in", map[string]string{"Next": next}))
}

func (p *Panel) setupPage(c *gin.Context) {
	exists, err := p.adminExists(c)
	if err != nil {
		p.errorPage(c, http.StatusInternalServerError, err)
		return
	}
	if exists {
		c.Redirect(http.StatusSeeOther, "/login")
		return
	}
	p.render(c, http.StatusOK, p.page(c, "setup", "Set up", map[string]string{"CodeFile": SetupCodeFile, "DataDir": p.d.DataDir}))
}

func (p *Panel) accountPage(c *gin.Context) {
	p.render(c, http.StatusOK, p.page(c, "account", "Your account", nil))
}

// funcs are the templates' helpers.
func (u *ui) funcs() template.FuncMap {
	return template.FuncMap{
		"asset":   u.assets.url,
		"ago":     ago,
		"offset":  clockOffset,
		"bytes":   func(n uint64) string { return sizeString(int64(n)) },
		"percent": func(f float64) string { return fmt.Sprintf("%.0f %%", f*100) },
		"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"clock":   func(local string) string { return strings.Replace(local, "T", " ", 1) },
		"navOn": func(item, path string) bool {
			return item == path || (item != "/" && strings.HasPrefix(path, item+"/"))
		},
		"isErr": func(err error, field string) bool {
			var fe *FieldError
			return errors.As(err, &fe) && fe.Field == field
		},
		"errText":  errText,
		"kinds":    kindNames,
		"duration": roundDuration,
		"roles":    func() []store.Role { return roles },
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
	}
}

// ago says how long ago t was, for people: "12 s ago", "3 min ago".
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < 2*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// roundDuration formats a wait for people: "45 s", "3 min", "2 h 5 min".
func roundDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// clockOffset formats a terminal's clock offset: "+1.2 s", "−90 s", "–"
// when unknown.
func clockOffset(ms *int64) string {
	if ms == nil {
		return "–"
	}
	s := float64(*ms) / 1000
	sign := "+"
	if s < 0 {
		sign, s = "−", -s
	}
	if s < 10 {
		return fmt.Sprintf("%s%.1f s", sign, s)
	}
	return fmt.Sprintf("%s%.0f s", sign, s)
}

// errText is the message of a field error, or of any error.
func errText(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Err.Error()
	}
	return err.Error()
}

func kindNames() []string {
	return strings.Split(kindList(), ", ")
}
