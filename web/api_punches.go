package web

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
)

func (p *Panel) punchRoutes() []route {
	q := []param{
		{"pin", "string", "an employee's PIN"},
		{"terminal", "string", "a terminal id"},
		{"from", "string", "first day (2026-11-27) or local time (2026-11-27T08:00) included"},
		{"to", "string", "last day included, or a local time excluded"},
		{"order", "string", "newest (default) or oldest first"},
	}
	return []route{
		{method: "GET", path: "/api/v1/punches", access: viewer, tag: "punches", summary: "Search stored punches, a page at a time",
			query: append(q, param{"limit", "integer", "punches per page, 1 to 1000 (default 50)"}, param{"cursor", "string", "next_cursor of the previous page"}),
			out:   Page[PunchView]{}, h: p.listPunches},
		{method: "GET", path: "/api/v1/punches.csv", access: viewer, tag: "punches", summary: "Export the punches a search selects as CSV, streamed",
			query: q, outMime: "text/csv", h: p.exportPunches},
	}
}

// PunchQuery is a punch search as the API takes it.
type PunchQuery struct {
	PIN, Terminal string
	From, To      string // local times: From included, To excluded
	Oldest        bool   // oldest first
	Limit         int
	AfterTime     string // the cursor: the previous page's last punch
	AfterSeq      int64
}

// filter is q as the store takes it.
func (q PunchQuery) filter() store.Filter {
	return store.Filter{PIN: q.PIN, Terminal: q.Terminal, From: q.From, To: q.To, Ascending: q.Oldest,
		AfterTime: q.AfterTime, AfterSeq: q.AfterSeq, Limit: q.Limit}
}

// punchQueryOf reads a punch search from the request's query.
func punchQueryOf(c *gin.Context) (PunchQuery, error) {
	q := PunchQuery{PIN: strings.TrimSpace(c.Query("pin")), Terminal: strings.TrimSpace(c.Query("terminal"))}
	if len(q.PIN) > 32 {
		return q, badField("pin", "at most 32 characters")
	}
	if q.Terminal != "" && !punchbox.ValidName(q.Terminal) {
		return q, badField("terminal", "not a terminal id")
	}
	var err error
	if q.From, err = localBound(c.Query("from"), false); err != nil {
		return q, &FieldError{Field: "from", Err: err}
	}
	if q.To, err = localBound(c.Query("to"), true); err != nil {
		return q, &FieldError{Field: "to", Err: err}
	}
	if q.From != "" && q.To != "" && q.From >= q.To {
		return q, badField("to", "the range ends before it starts")
	}
	switch c.Query("order") {
	case "", "newest":
	case "oldest":
		q.Oldest = true
	default:
		return q, badField("order", "want newest or oldest")
	}
	if q.Limit, err = queryLimit(c); err != nil {
		return q, err
	}
	if cur := c.Query("cursor"); cur != "" {
		if q.AfterTime, q.AfterSeq, err = decodeCursor(cur); err != nil {
			return q, badField("cursor", "not a cursor from this API: start again without it")
		}
	}
	return q, nil
}

// localBound reads a day or a local time. A day as the end of a range
// means the whole day, so it becomes the next day's start.
func localBound(s string, end bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d.Format(time.DateOnly), nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format("2006-01-02T15:04:05"), nil
		}
	}
	return "", fmt.Errorf("want a day like 2026-11-27 or a local time like 2026-11-27T08:00")
}

// Cursors are opaque to clients: the last punch's local time and sequence.
func encodeCursor(local string, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(local + "|" + strconv.FormatInt(seq, 10)))
}

func decodeCursor(s string) (string, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", 0, err
	}
	local, seqs, ok := strings.Cut(string(b), "|")
	if !ok {
		return "", 0, fmt.Errorf("no separator")
	}
	if _, err := punchbox.ParseLocalTime(local); err != nil {
		return "", 0, err
	}
	seq, err := strconv.ParseInt(seqs, 10, 64)
	if err != nil || seq < 0 {
		return "", 0, fmt.Errorf("bad sequence")
	}
	return local, seq, nil
}

// searchPunches returns a page of the punches q selects.
func (p *Panel) searchPunches(ctx context.Context, q PunchQuery) (Page[PunchView], error) {
	f := q.filter()
	f.Limit = q.Limit + 1 // one more says whether a next page exists
	ps, err := p.d.Store.Search(ctx, f)
	if err != nil {
		return Page[PunchView]{}, err
	}
	page := Page[PunchView]{}
	if len(ps) > q.Limit {
		ps = ps[:q.Limit]
		last := ps[len(ps)-1]
		page.NextCursor = encodeCursor(last.Local.String(), last.Seq)
	}
	page.Items = p.punchViews(ctx, ps)
	return page, nil
}

func (p *Panel) listPunches(c *gin.Context) {
	q, err := punchQueryOf(c)
	if err != nil {
		p.fail(c, err)
		return
	}
	page, err := p.searchPunches(c.Request.Context(), q)
	if err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}

// punchCSVHeader is the first line of a punch export.
var punchCSVHeader = []string{"id", "terminal", "serial", "pin", "name", "local_time", "zone", "utc_time", "received",
	"state", "state_name", "verify", "verify_name", "work_code", "source", "delivered"}

func (p *Panel) exportPunches(c *gin.Context) {
	q, err := punchQueryOf(c)
	if err != nil {
		p.fail(c, err)
		return
	}
	f := q.filter()
	f.Limit, f.AfterTime, f.AfterSeq = 0, "", 0 // the export is the whole search
	ctx := c.Request.Context()
	p.startCSV(c, "punches")
	w := csv.NewWriter(c.Writer)
	w.Write(punchCSVHeader)
	names := map[string]string{}
	n := 0
	err = p.d.Store.Each(ctx, f, func(sp store.StoredPunch) error {
		nm, ok := names[sp.PIN]
		if !ok {
			if e, err := p.d.Store.Employee(ctx, sp.PIN); err == nil {
				nm = e.Name
			}
			if len(names) < 100_000 {
				names[sp.PIN] = nm
			}
		}
		v := punchView(sp, nm)
		n++
		if err := w.Write([]string{v.ID, v.Terminal, cell(v.Serial), cell(v.PIN), cell(v.Name), v.LocalTime, v.Zone,
			v.UTC.Format(time.RFC3339), v.Received.Format(time.RFC3339Nano), strconv.Itoa(v.State), v.StateName,
			strconv.Itoa(v.Verify), v.VerifyName, cell(v.WorkCode), v.Source, strconv.FormatBool(v.Delivered)}); err != nil {
			return err
		}
		if n%1000 == 0 {
			w.Flush()
			return w.Error()
		}
		return nil
	})
	w.Flush()
	if err != nil {
		// The status line is gone; end the body short so that the client
		// sees a broken download rather than a complete-looking file.
		p.log.Warn("punch export stopped", "after", n, "err", err)
		panic(http.ErrAbortHandler)
	}
	p.log.Debug("punch export", "punches", n)
}

// startCSV answers 200 with the headers of a CSV download named after
// what, the box and the time, e.g. punches-box-01-20261127-0801.csv.
func (p *Panel) startCSV(c *gin.Context, what string) {
	name := fmt.Sprintf("%s-%s-%s.csv", what, p.d.Box, p.d.Now().In(p.d.Zone).Format("20060102-1504"))
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
}

// cell defuses a CSV cell that a spreadsheet would run as a formula: names
// and PINs come from terminals and imports, not from us.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
