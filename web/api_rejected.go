package web

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/store"
)

// rejectedRoutes serve the records terminals sent that could not be punches.
func (p *Panel) rejectedRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/terminals/:id/rejected", access: viewer, tag: "terminals", summary: "Records the terminal sent that could not be punches, set aside raw, most recently seen first", out: RejectedList{}, h: p.listRejected},
		{method: "DELETE", path: "/api/v1/terminals/:id/rejected", access: admin, tag: "terminals", summary: "Forget the terminal's set-aside records", status: http.StatusNoContent, h: p.clearRejected},
	}
}

// RejectedList is a terminal's set-aside records.
type RejectedList struct {
	Total   int            `json:"total"` // kept for this terminal
	Limit   int            `json:"limit"` // the most the box keeps per terminal; the least recently seen go first
	Records []RejectedView `json:"records"`
}

// RejectedView is one set-aside record.
type RejectedView struct {
	Reason    string    `json:"reason"`
	Source    string    `json:"source"` // pull (the log) or live (an event)
	Serial    string    `json:"serial,omitempty"`
	Raw       string    `json:"raw"` // the bytes as the terminal sent them, hex
	Bytes     int       `json:"bytes"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// rejectedShown bounds one answer.
const rejectedShown = 200

func (p *Panel) listRejected(c *gin.Context) {
	ctx := c.Request.Context()
	id := c.Param("id")
	if _, err := p.d.Store.Terminal(ctx, id); err != nil {
		p.fail(c, fmt.Errorf("terminal %q: %w", id, err))
		return
	}
	limit := rejectedShown
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > rejectedShown {
			p.fail(c, badField("limit", "want 1 to %d", rejectedShown))
			return
		}
		limit = n
	}
	recs, total, err := p.d.Store.RejectedRecords(ctx, id, limit)
	if err != nil {
		p.fail(c, err)
		return
	}
	out := RejectedList{Total: total, Limit: store.MaxRejectedPerTerminal, Records: make([]RejectedView, 0, len(recs))}
	for _, r := range recs {
		out.Records = append(out.Records, RejectedView{Reason: r.Reason, Source: string(r.Source), Serial: r.Serial,
			Raw: hex.EncodeToString(r.Raw), Bytes: len(r.Raw), FirstSeen: r.FirstSeen, LastSeen: r.LastSeen})
	}
	c.JSON(http.StatusOK, out)
}

func (p *Panel) clearRejected(c *gin.Context) {
	ctx := c.Request.Context()
	id := c.Param("id")
	if _, err := p.d.Store.Terminal(ctx, id); err != nil {
		p.fail(c, fmt.Errorf("terminal %q: %w", id, err))
		return
	}
	n, err := p.d.Store.ClearRejected(ctx, id)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.audit(c, "terminal.rejected.clear", id, fmt.Sprintf("%d set-aside records forgotten", n))
	c.Status(http.StatusNoContent)
}
