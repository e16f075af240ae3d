package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
)

// The terminals, punches and users pages.

type terminalsPageData struct {
	Terminals []TerminalView
	Kinds     []punchbox.TerminalKind
	Zone      string // the site's
}

func (p *Panel) terminalsPage(c *gin.Context) {
	ts, err := p.terminalViews(c.Request.Context())
	if err != nil {
		p.errorPage(c, http.StatusInternalServerError, err)
		return
	}
	p.render(c, http.StatusOK, p.page(c, "terminals", "Terminals", terminalsPageData{Terminals: ts, Kinds: punchbox.Kinds, Zone: p.d.Zone.String()}))
}

type punchesPageData struct {
	Query     PunchQuery
	Form      map[string]string // the filter as typed
	Err       error             // a bad filter, shown on the form
	Page      Page[PunchView]
	Terminals []punchbox.Terminal
	Export    string // the CSV export's URL with the same filter
	Older     string // the next page's URL; "" on the last
}

func (p *Panel) punchesPage(c *gin.Context) {
	ctx := c.Request.Context()
	d := punchesPageData{Form: map[string]string{}}
	filter := c.Request.URL.Query()
	for _, k := range []string{"pin", "terminal", "from", "to"} {
		d.Form[k] = filter.Get(k)
	}
	ts, err := p.d.Store.Terminals(ctx)
	if err != nil {
		p.errorPage(c, http.StatusInternalServerError, err)
		return
	}
	d.Terminals = ts
	status := http.StatusOK
	d.Query, d.Err = punchQueryOf(c)
	if d.Err == nil {
		d.Page, err = p.searchPunches(ctx, d.Query)
		if err != nil {
			d.Err = err
			if s, _ := statusOf(err); s >= 500 {
				p.errorPage(c, s, err)
				return
			}
		}
	}
	if d.Err != nil {
		status, _ = statusOf(d.Err)
	}
	export := filter
	export.Del("cursor")
	export.Del("limit")
	d.Export = "/api/v1/punches.csv"
	if q := export.Encode(); q != "" {
		d.Export += "?" + q
	}
	if d.Page.NextCursor != "" {
		next := c.Request.URL.Query()
		next.Set("cursor", d.Page.NextCursor)
		d.Older = "/punches?" + next.Encode()
	}
	p.render(c, status, p.page(c, "punches", "Punches", d))
}

type usersPageData struct {
	Users  []UserView
	Tokens []TokenView
	Me     string
}

func (p *Panel) usersPage(c *gin.Context) {
	ctx := c.Request.Context()
	us, err := p.d.Store.Users(ctx)
	if err != nil {
		p.errorPage(c, http.StatusInternalServerError, err)
		return
	}
	ts, err := p.d.Store.Tokens(ctx)
	if err != nil {
		p.errorPage(c, http.StatusInternalServerError, err)
		return
	}
	d := usersPageData{Me: who(c).name()}
	for _, u := range us {
		d.Users = append(d.Users, userView(u))
	}
	for _, t := range ts {
		d.Tokens = append(d.Tokens, tokenView(t))
	}
	p.render(c, http.StatusOK, p.page(c, "users", "Users and API tokens", d))
}

// roles are the roles a user or token may have, for the forms.
var roles = []store.Role{store.RoleViewer, store.RoleAdmin}
