package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/internal/sysinfo"
	"github.com/punchbox/punchbox/store"
)

// Dashboard is the box at a glance: what the dashboard page shows and
// GET /api/v1/dashboard answers. Every figure comes from an index or a
// kept counter, so it stays fast with millions of punches stored.
type Dashboard struct {
	Site      string         `json:"site"`
	Box       string         `json:"box"`
	Version   string         `json:"version"`
	Now       time.Time      `json:"now"`
	Zone      string         `json:"zone"`  // the site's
	Today     string         `json:"today"` // in the site's zone: 2026-11-27
	Uptime    int64          `json:"uptime_s"`
	Terminals []TerminalView `json:"terminals"`
	// PunchesToday counts today's punches by the terminals' local times.
	PunchesToday int            `json:"punches_today"`
	Hourly       []store.Bucket `json:"hourly"` // today, 24 hours "2026-11-27T08"
	Daily        []store.Bucket `json:"daily"`  // the last 7 days, today last
	Latest       []PunchView    `json:"latest"` // the newest punches, newest first
	Backlog      BacklogView    `json:"backlog"`
	Link         *LinkStatus    `json:"link,omitempty"` // absent: no central configured
	Disk         sysinfo.Disk   `json:"disk"`
	Healthy      bool           `json:"healthy"`
	HealthError  string         `json:"health_error,omitempty"`
}

// latestPunches is how many punches the dashboard's feed starts with.
const latestPunches = 15

// dashboard gathers the dashboard.
func (p *Panel) dashboard(ctx context.Context) (Dashboard, error) {
	now := p.d.Now()
	local := now.In(p.d.Zone)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	day := func(t time.Time) string { return t.Format(time.DateOnly) }
	d := Dashboard{
		Site: p.d.Site, Box: p.d.Box, Version: p.d.Version, Now: now.UTC(), Zone: p.d.Zone.String(),
		Today: day(today), Uptime: int64(now.Sub(p.d.Started).Seconds()), Healthy: true,
		Disk: sysinfo.ReadDisk(p.d.DataDir),
	}
	// Health first: a damaged store may fail the reads below, and then
	// the dashboard still shows why, rather than an error page.
	herr := p.healthy(ctx)
	if herr != nil {
		d.Healthy, d.HealthError = false, herr.Error()
	}
	fail := func(err error) (Dashboard, error) {
		if herr != nil {
			p.log.Debug("dashboard incomplete: the box is unhealthy", "err", err)
			return d, nil
		}
		return d, err
	}
	var err error
	if d.Terminals, err = p.terminalViews(ctx); err != nil {
		return fail(err)
	}
	hours, err := p.d.Store.HourlyCounts(ctx, day(today), day(today.AddDate(0, 0, 1)))
	if err != nil {
		return fail(err)
	}
	d.Hourly = make([]store.Bucket, 24)
	for h := range d.Hourly {
		d.Hourly[h].Period = fmt.Sprintf("%sT%02d", d.Today, h)
	}
	for _, b := range hours {
		var h int
		if _, err := fmt.Sscanf(b.Period[len(b.Period)-2:], "%d", &h); err == nil && h >= 0 && h < 24 {
			d.Hourly[h].Punches += b.Punches
			d.PunchesToday += b.Punches
		}
	}
	first := today.AddDate(0, 0, -6)
	days, err := p.d.Store.DailyCounts(ctx, day(first), day(today.AddDate(0, 0, 1)))
	if err != nil {
		return fail(err)
	}
	d.Daily = make([]store.Bucket, 7)
	index := map[string]int{}
	for i := range d.Daily {
		d.Daily[i].Period = day(first.AddDate(0, 0, i))
		index[d.Daily[i].Period] = i
	}
	for _, td := range days {
		if i, ok := index[td.Day]; ok {
			d.Daily[i].Punches += td.Punches
		}
	}
	latest, err := p.d.Store.Latest(ctx, latestPunches)
	if err != nil {
		return fail(err)
	}
	d.Latest = p.punchViews(ctx, latest)
	b, err := p.d.Store.Backlog(ctx)
	if err != nil {
		return fail(err)
	}
	d.Backlog = backlogView(b, now)
	if p.d.Link != nil {
		if l := p.d.Link(); l.Configured {
			d.Link = &l
		}
	}
	return d, nil
}

func (p *Panel) getDashboard(c *gin.Context) {
	d, err := p.cachedDashboard(c.Request.Context())
	if err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// dashboardPageData adds to the dashboard what only the page needs.
type dashboardPageData struct {
	Dashboard
	Online, TerminalCount int
}

// series formats bucket counts for a chart's data attribute: "0,3,12".
func series(bs []store.Bucket) string {
	var b strings.Builder
	for i, x := range bs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(x.Punches))
	}
	return b.String()
}

// HourlySeries and DailySeries are the charts' values; DailyLabels the days.
func (d dashboardPageData) HourlySeries() string { return series(d.Hourly) }
func (d dashboardPageData) DailySeries() string  { return series(d.Daily) }
func (d dashboardPageData) DailyLabels() string {
	days := make([]string, len(d.Daily))
	for i, b := range d.Daily {
		days[i] = b.Period
	}
	return strings.Join(days, ",")
}

// DiskUsed is the share of the data disk in use, 0 to 1.
func (d dashboardPageData) DiskUsed() float64 { return d.Disk.UsedFraction() }

// BacklogAge is how long the oldest pending punch has waited.
func (d dashboardPageData) BacklogAge() time.Duration {
	return time.Duration(d.Backlog.AgeS) * time.Second
}

func (p *Panel) dashboardPage(c *gin.Context) {
	d, err := p.cachedDashboard(c.Request.Context())
	if err != nil {
		p.errorPage(c, http.StatusInternalServerError, err)
		return
	}
	pd := dashboardPageData{Dashboard: d, TerminalCount: len(d.Terminals)}
	for _, t := range d.Terminals {
		if t.Health.State == "online" {
			pd.Online++
		}
	}
	p.render(c, http.StatusOK, p.page(c, "dashboard", "Dashboard", pd))
}
