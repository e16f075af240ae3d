package web

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// The backups, audit, settings and system pages.

type backupRow struct {
	BackupView
	SizeText string
}

type backupsPageData struct {
	Backups    []backupRow
	Kept       bool // the box keeps backups at all
	CanRestore bool // the box can restart itself into a restore
}

func (p *Panel) backupsPage(c *gin.Context) {
	vs, err := p.backupViews()
	if err != nil {
		p.errorPage(c, http.StatusInternalServerError, err)
		return
	}
	d := backupsPageData{Kept: p.d.Backups != "", CanRestore: p.d.Restart != nil}
	for _, v := range vs {
		d.Backups = append(d.Backups, backupRow{BackupView: v, SizeText: sizeString(v.Size)})
	}
	p.render(c, http.StatusOK, p.page(c, "backups", "Backups", d))
}

type auditPageData struct {
	Form  map[string]string
	Err   error
	Page  Page[AuditView]
	Older string
}

func (p *Panel) auditLogPage(c *gin.Context) {
	d := auditPageData{Form: formOf(c, "actor", "action", "since", "until")}
	status := http.StatusOK
	q, err := p.auditQueryOf(c)
	if err == nil {
		d.Page, err = p.auditPage(c.Request.Context(), q)
	}
	if err != nil {
		var ok bool
		if status, ok = p.filterStatus(c, err); !ok {
			return
		}
		d.Err = err
	}
	if d.Page.NextCursor != "" {
		next := c.Request.URL.Query()
		next.Set("cursor", d.Page.NextCursor)
		d.Older = "/audit?" + next.Encode()
	}
	p.render(c, status, p.page(c, "audit", "Audit log", d))
}

// settingRow is a setting as the settings form shows it.
type settingRow struct {
	SettingView
	ID, Value, Default, MinText, MaxText, Step string
}

// settingText formats a setting's value for a number input.
func settingText(v any) string {
	switch v := v.(type) {
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func (p *Panel) settingsPage(c *gin.Context) {
	vs, err := p.settingViews(c.Request.Context())
	if err != nil {
		p.errorPage(c, http.StatusInternalServerError, err)
		return
	}
	rows := make([]settingRow, 0, len(vs))
	for i, v := range vs {
		r := settingRow{SettingView: v, ID: "s-" + strconv.Itoa(i), Value: settingText(v.Value), Default: settingText(v.Default),
			MinText: settingText(v.Min), Step: "1"}
		if v.Type != "int" {
			r.Step = "any"
		}
		if v.Max != nil {
			r.MaxText = settingText(*v.Max)
		}
		rows = append(rows, r)
	}
	p.render(c, http.StatusOK, p.page(c, "settings", "Settings", rows))
}

type systemPageData struct {
	Status             SystemStatus
	Uptime, HostUp     string
	StoreSize          string
	DiskUsed           float64 // 0..1
	MemoryUsed         float64
	ClockError         string
	Checks             []Check // the failed ones first
	Failed             int
	Summary            string
	TempText, LoadText string
}

// sortChecks puts the checks that failed first, keeping the order within.
func sortChecks(cs []Check) (failed int) {
	sort.SliceStable(cs, func(i, j int) bool { return !cs[i].OK && cs[j].OK })
	for _, c := range cs {
		if !c.OK {
			failed++
		}
	}
	return failed
}

// checkSummary says in one line how the readiness report stands.
func checkSummary(failed, total int) string {
	switch {
	case total == 0:
		return "This box has no readiness report."
	case failed == 0:
		return fmt.Sprintf("All %d checks pass: the box is ready for production.", total)
	case failed == 1:
		return fmt.Sprintf("1 of %d checks needs attention.", total)
	}
	return fmt.Sprintf("%d of %d checks need attention.", failed, total)
}

func (p *Panel) systemPage(c *gin.Context) {
	ctx := c.Request.Context()
	s, err := p.systemStatus(ctx)
	if err != nil {
		p.errorPage(c, http.StatusInternalServerError, err)
		return
	}
	m := s.Machine
	d := systemPageData{Status: s, Uptime: roundDuration(time.Duration(s.UptimeS) * time.Second), StoreSize: sizeString(s.StoreBytes)}
	if m.HostUptime >= 0 {
		d.HostUp = roundDuration(time.Duration(m.HostUptime) * time.Second)
	}
	if m.Disk.Known && m.Disk.Total > 0 {
		d.DiskUsed = 1 - float64(m.Disk.Free)/float64(m.Disk.Total)
	}
	if m.Memory.Known && m.Memory.Total > 0 {
		d.MemoryUsed = 1 - float64(m.Memory.Available)/float64(m.Memory.Total)
	}
	if m.Clock.Known {
		d.ClockError = m.Clock.MaxError.Round(time.Millisecond).String()
	}
	if m.TempC >= 0 {
		d.TempText = fmt.Sprintf("%.0f °C", m.TempC)
	}
	if m.Load1 >= 0 {
		d.LoadText = fmt.Sprintf("%.2f", m.Load1)
	}
	d.Checks = p.readiness(ctx)
	d.Failed = sortChecks(d.Checks)
	d.Summary = checkSummary(d.Failed, len(d.Checks))
	p.render(c, http.StatusOK, p.page(c, "system", "System", d))
}

// readinessPage is the readiness report's own address: the system page's
// section.
func (p *Panel) readinessPage(c *gin.Context) {
	c.Redirect(http.StatusSeeOther, "/system#readiness")
}
