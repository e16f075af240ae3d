package web

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/store"
)

// auditRoutes serves the audit log.
func (p *Panel) auditRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/audit", access: admin, tag: "audit", summary: "Who changed what and when, newest first, a page at a time",
			query: []param{
				{"actor", "string", "a user name, token:<name>, central or system"},
				{"action", "string", "actions starting with this, e.g. terminal. or user.create"},
				{"since", "string", "from this time (RFC 3339) or day (2026-11-27, the site's zone), included"},
				{"until", "string", "to this time (RFC 3339), excluded, or day, included"},
				{"limit", "integer", "entries per page, 1 to 1000 (default 50)"},
				{"cursor", "string", "next_cursor of the previous page"},
			},
			out: Page[AuditView]{}, h: p.listAudit},
	}
}

// AuditView is one line of the audit log.
type AuditView struct {
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Remote string    `json:"remote,omitempty"`
}

// AuditQuery is an audit log search as the API takes it.
type AuditQuery struct {
	Actor, Action string // Action is a prefix
	Since, Until  time.Time
	Limit         int
	Before        int64 // the cursor: the previous page's last seq
}

// auditQueryOf reads an audit search from the request's query.
func (p *Panel) auditQueryOf(c *gin.Context) (AuditQuery, error) {
	q := AuditQuery{Actor: strings.TrimSpace(c.Query("actor")), Action: strings.TrimSpace(c.Query("action"))}
	if len(q.Actor) > 256 {
		return q, badField("actor", "at most 256 characters")
	}
	if len(q.Action) > 256 {
		return q, badField("action", "at most 256 characters")
	}
	var err error
	if q.Since, err = p.timeBound(c.Query("since"), false); err != nil {
		return q, &FieldError{Field: "since", Err: err}
	}
	if q.Until, err = p.timeBound(c.Query("until"), true); err != nil {
		return q, &FieldError{Field: "until", Err: err}
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return q, badField("until", "the range ends before it starts")
	}
	if q.Limit, err = queryLimit(c); err != nil {
		return q, err
	}
	if cur := c.Query("cursor"); cur != "" {
		b, err := base64.RawURLEncoding.DecodeString(cur)
		n, perr := strconv.ParseInt(string(b), 10, 64)
		if err != nil || perr != nil || n < 1 {
			return q, badField("cursor", "not a cursor from this API: start again without it")
		}
		q.Before = n
	}
	return q, nil
}

// timeBound reads an RFC 3339 time or a day in the site's zone. A day as
// the end of a range means the whole day, so it becomes the next day's
// start.
func (p *Panel) timeBound(s string, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, p.d.Zone); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	return time.Time{}, badField("", "want a day like 2026-11-27 or a time like 2026-11-27T08:00:00+01:00")
}

// auditPage returns a page of the audit entries q selects, newest first.
func (p *Panel) auditPage(ctx context.Context, q AuditQuery) (Page[AuditView], error) {
	es, err := p.d.Store.AuditLog(ctx, store.AuditFilter{Actor: q.Actor, ActionPrefix: q.Action, Since: q.Since, Until: q.Until,
		Before: q.Before, Limit: q.Limit + 1})
	if err != nil {
		return Page[AuditView]{}, err
	}
	page := Page[AuditView]{Items: make([]AuditView, 0, min(len(es), q.Limit))}
	if len(es) > q.Limit {
		es = es[:q.Limit]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(es[len(es)-1].Seq, 10)))
	}
	for _, e := range es {
		page.Items = append(page.Items, AuditView{Seq: e.Seq, At: e.At.UTC(), Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail, Remote: e.Remote})
	}
	return page, nil
}

func (p *Panel) listAudit(c *gin.Context) {
	q, err := p.auditQueryOf(c)
	if err != nil {
		p.fail(c, err)
		return
	}
	page, err := p.auditPage(c.Request.Context(), q)
	if err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}
