package web

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/store"
)

// syncRoutes serves the link to central and the backlog.
func (p *Panel) syncRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/sync", access: viewer, tag: "system", summary: "The link to central and what waits for delivery", out: SyncView{}, h: p.getSync},
	}
}

// SyncView is how forwarding to central stands.
type SyncView struct {
	Link LinkStatus `json:"link"`
	// Note says in words where punches go, e.g. that they stay on the box
	// when no central is configured.
	Note    string      `json:"note"`
	Backlog BacklogView `json:"backlog"`
	Uplink  UplinkView  `json:"uplink"`
}

// BacklogView is what waits for delivery.
type BacklogView struct {
	Pending int64     `json:"pending"`               // punches not yet acknowledged by central
	Oldest  time.Time `json:"oldest,omitzero"`       // when the oldest of them was received
	AgeS    int64     `json:"age_s"`                 // how long it has waited, in seconds
	LastSeq int64     `json:"last_seq"`              // the newest punch's outbox sequence
	Upto    int64     `json:"delivered_upto"`        // every punch up to this sequence is delivered
	At      time.Time `json:"delivered_at,omitzero"` // the last acknowledgement
}

func backlogView(b store.Backlog, now time.Time) BacklogView {
	return BacklogView{Pending: b.Pending, Oldest: b.Oldest, AgeS: int64(b.Age(now) / time.Second),
		LastSeq: b.LastSeq, Upto: b.DeliveredSeq, At: b.DeliveredAt}
}

// UplinkView is the uplink's persisted position.
type UplinkView struct {
	BatchSeq int64 `json:"batch_seq"` // the highest batch central acknowledged
	Session  int64 `json:"session"`   // connections made so far
}

// syncView reads the link's state and the backlog.
func (p *Panel) syncView(ctx context.Context) (SyncView, error) {
	var v SyncView
	b, err := p.d.Store.Backlog(ctx)
	if err != nil {
		return v, err
	}
	u, err := p.d.Store.Uplink(ctx)
	if err != nil {
		return v, err
	}
	v.Backlog = backlogView(b, p.d.Now())
	v.Uplink = UplinkView{BatchSeq: u.BatchSeq, Session: u.Session}
	switch {
	case p.d.Link == nil:
		v.Note = "no central is configured (mqtt.url): punches stay on the box"
	default:
		v.Link = p.d.Link()
		v.Link.Configured = true
		if v.Link.Connected {
			v.Note = "connected to central: punches are forwarded as they arrive"
		} else {
			v.Note = "not connected to central: punches wait on the box and are sent once the link is back"
		}
	}
	return v, nil
}

func (p *Panel) getSync(c *gin.Context) {
	v, err := p.syncView(c.Request.Context())
	if err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
