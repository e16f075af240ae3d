package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
)

// terminalRoutes serves terminals: CRUD, test connection, pull now, set time, read users.
func (p *Panel) terminalRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/terminals", access: viewer, tag: "terminals", summary: "List terminals with their live state", out: []TerminalView{}, h: p.listTerminals},
		{method: "POST", path: "/api/v1/terminals", access: admin, tag: "terminals", summary: "Add a terminal; it starts at once when enabled", in: TerminalInput{}, out: TerminalView{}, status: http.StatusCreated, h: p.createTerminal},
		{method: "POST", path: "/api/v1/terminals/test", access: admin, tag: "terminals", summary: "Test a terminal's settings before saving them", in: TerminalInput{}, out: ProbeResult{}, h: p.testNewTerminal},
		{method: "GET", path: "/api/v1/terminals/:id", access: viewer, tag: "terminals", summary: "One terminal with its live state", out: TerminalView{}, h: p.getTerminal},
		{method: "PUT", path: "/api/v1/terminals/:id", access: admin, tag: "terminals", summary: "Change a terminal; it restarts with the new settings", in: TerminalInput{}, out: TerminalView{}, h: p.updateTerminal},
		{method: "DELETE", path: "/api/v1/terminals/:id", access: admin, tag: "terminals", summary: "Remove a terminal; its stored punches stay", status: http.StatusNoContent, h: p.deleteTerminal},
		{method: "POST", path: "/api/v1/terminals/:id/test", access: admin, tag: "terminals", summary: "Test the connection to a saved terminal", out: ProbeResult{}, h: p.testTerminal},
		{method: "POST", path: "/api/v1/terminals/:id/pull", access: admin, tag: "terminals", summary: "Read the terminal's whole log now, as a job", out: Job{}, status: http.StatusAccepted, h: p.pullTerminal},
		{method: "POST", path: "/api/v1/terminals/:id/time", access: admin, tag: "terminals", summary: "Set the terminal's clock (to the box's clock unless a time is given)", in: SetTime{}, out: SetTimeResult{}, h: p.setTerminalTime},
		{method: "GET", path: "/api/v1/terminals/:id/users", access: viewer, tag: "terminals", summary: "Read the users enrolled on the terminal", out: []TerminalUser{}, h: p.terminalUsers},
	}
}

// TerminalInput creates or replaces a terminal.
type TerminalInput struct {
	ID      string         `json:"id"` // on create; on change empty or the same
	Name    string         `json:"name"`
	Kind    string         `json:"kind"` // zk, zk-push or serial
	Address string         `json:"address"`
	Zone    string         `json:"zone"`              // IANA zone of its clock; "" = the site's
	Enabled *bool          `json:"enabled,omitempty"` // default true
	Options map[string]any `json:"options,omitempty"` // the kind's settings; a masked secret keeps the stored one
}

// ProbeResult is what a connection test found.
type ProbeResult struct {
	OK            bool   `json:"ok"`
	Error         string `json:"error,omitempty"` // why it failed
	TookMS        int64  `json:"took_ms"`
	Serial        string `json:"serial,omitempty"`
	Platform      string `json:"platform,omitempty"`
	Firmware      string `json:"firmware,omitempty"`
	Transport     string `json:"transport,omitempty"`
	Users         int    `json:"users"`
	Records       int    `json:"records"`
	UserCap       int    `json:"user_cap,omitempty"`
	RecordCap     int    `json:"record_cap,omitempty"`
	ClockOffsetMS *int64 `json:"clock_offset_ms,omitempty"` // terminal minus box
}

// SetTime sets a terminal's clock.
type SetTime struct {
	Time string `json:"time,omitempty"` // RFC 3339, e.g. 2026-11-27T08:00:00+01:00; absent = the box's clock now
}

// SetTimeResult says what the clock was set to.
type SetTimeResult struct {
	SetTo time.Time `json:"set_to"`
}

// TerminalUser is a user enrolled on a terminal.
type TerminalUser struct {
	PIN       string `json:"pin"`
	Name      string `json:"name"`
	Card      string `json:"card,omitempty"`
	Privilege string `json:"privilege"`
	Disabled  bool   `json:"disabled"`
	InRoster  bool   `json:"in_roster"` // the box's employee list has this PIN
}

// probeTimeout bounds a connection test.
const probeTimeout = 15 * time.Second

func (p *Panel) listTerminals(c *gin.Context) {
	vs, err := p.terminalViews(c.Request.Context())
	if err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, vs)
}

// terminalView returns the stored terminal id with its health.
func (p *Panel) terminalView(ctx context.Context, id string) (TerminalView, error) {
	t, err := p.d.Store.Terminal(ctx, id)
	if err != nil {
		return TerminalView{}, fmt.Errorf("terminal %q: %w", id, err)
	}
	h, ok := p.d.Terminals.Health(id)
	v := terminalView(t, h, ok)
	_, v.SetAside, err = p.d.Store.RejectedRecords(ctx, id, 0)
	return v, err
}

func (p *Panel) getTerminal(c *gin.Context) {
	v, err := p.terminalView(c.Request.Context(), c.Param("id"))
	if err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// terminalOf checks in and turns it into a terminal configuration and a
// stand-alone driver for it; old is the stored configuration on a change,
// whose secrets a masked value keeps.
func (p *Panel) terminalOf(in TerminalInput, old *punchbox.Terminal) (punchbox.Terminal, drivers.Terminal, error) {
	t := punchbox.Terminal{
		ID: strings.TrimSpace(in.ID), Name: strings.TrimSpace(in.Name), Kind: punchbox.TerminalKind(in.Kind),
		Address: strings.TrimSpace(in.Address), Zone: strings.TrimSpace(in.Zone), Options: in.Options, Enabled: true,
	}
	if in.Enabled != nil {
		t.Enabled = *in.Enabled
	}
	if old != nil {
		if t.ID != "" && t.ID != old.ID {
			return t, nil, badField("id", "a terminal's id cannot change; add a new terminal instead")
		}
		t.ID = old.ID
		for k, v := range t.Options {
			if s, ok := v.(string); ok && secretOptions[k] && s == maskedOption {
				t.Options[k] = old.Options[k]
			}
		}
	}
	switch {
	case !punchbox.ValidName(t.ID):
		return t, nil, badField("id", "want 1 to %d of a-z, 0-9 and '-', e.g. gate-a", punchbox.MaxNameLen)
	case !t.Kind.Valid():
		return t, nil, badField("kind", "want one of %s", kindList())
	case t.Address == "":
		return t, nil, badField("address", "required")
	case len(t.Name) > 100:
		return t, nil, badField("name", "at most 100 characters")
	case len(t.Address) > 255:
		return t, nil, badField("address", "at most 255 characters")
	}
	if t.Zone != "" {
		if _, err := time.LoadLocation(t.Zone); err != nil {
			return t, nil, badField("zone", "unknown time zone %q: want an IANA name such as Europe/Berlin", t.Zone)
		}
	}
	// Build the driver, without I/O, so that its own checks of the address
	// and options answer before anything is stored.
	d, err := p.probeDriver(t)
	return t, d, err
}

func kindList() string {
	ks := make([]string, len(punchbox.Kinds))
	for i, k := range punchbox.Kinds {
		ks[i] = string(k)
	}
	return strings.Join(ks, ", ")
}

// probeDriver builds a stand-alone driver for t, for checks and tests.
func (p *Panel) probeDriver(t punchbox.Terminal) (drivers.Terminal, error) {
	d, err := drivers.New(t, drivers.Deps{Sink: refuseSink{}, Logger: p.log, Now: p.d.Now, Zone: p.d.Zone})
	switch {
	case errors.Is(err, drivers.ErrUnknownKind):
		return nil, badField("kind", "this box has no driver for %q", t.Kind)
	case err != nil:
		field := "options"
		if strings.Contains(err.Error(), "address") {
			field = "address"
		}
		return nil, &FieldError{Field: field, Err: err}
	}
	return d, nil
}

// refuseSink is the sink of a stand-alone driver: a test stores nothing.
type refuseSink struct{}

func (refuseSink) Put(context.Context, []punchbox.Punch) error {
	return errors.New("a connection test stores no punches")
}

func (p *Panel) createTerminal(c *gin.Context) {
	var in TerminalInput
	if err := decode(c, &in); err != nil {
		p.fail(c, err)
		return
	}
	t, _, err := p.terminalOf(in, nil)
	if err != nil {
		p.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if err := p.d.Store.CreateTerminal(ctx, t); err != nil {
		p.fail(c, fmt.Errorf("terminal %q: %w", t.ID, err))
		return
	}
	if err := p.d.Terminals.Set(t); err != nil {
		p.fail(c, err)
		return
	}
	p.audit(c, "terminal.create", t.ID, fmt.Sprintf("%s at %s", t.Kind, t.Address))
	p.answerTerminal(c, http.StatusCreated, t.ID)
}

func (p *Panel) updateTerminal(c *gin.Context) {
	var in TerminalInput
	if err := decode(c, &in); err != nil {
		p.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	old, err := p.d.Store.Terminal(ctx, c.Param("id"))
	if err != nil {
		p.fail(c, fmt.Errorf("terminal %q: %w", c.Param("id"), err))
		return
	}
	t, _, err := p.terminalOf(in, &old)
	if err != nil {
		p.fail(c, err)
		return
	}
	if err := p.d.Store.UpdateTerminal(ctx, t); err != nil {
		p.fail(c, err)
		return
	}
	if err := p.d.Terminals.Set(t); err != nil {
		p.fail(c, err)
		return
	}
	p.audit(c, "terminal.update", t.ID, terminalChanges(old, t))
	p.answerTerminal(c, http.StatusOK, t.ID)
}

// terminalChanges describes a change for the audit log, without secrets.
func terminalChanges(a, b punchbox.Terminal) string {
	var ch changes
	field(&ch, "name", a.Name, b.Name)
	field(&ch, "kind", a.Kind, b.Kind)
	field(&ch, "address", a.Address, b.Address)
	field(&ch, "zone", a.Zone, b.Zone)
	field(&ch, "enabled", a.Enabled, b.Enabled)
	if fmt.Sprint(a.Options) != fmt.Sprint(b.Options) {
		ch = append(ch, "options changed")
	}
	return ch.String()
}

func (p *Panel) answerTerminal(c *gin.Context, status int, id string) {
	v, err := p.terminalView(c.Request.Context(), id)
	if err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(status, v)
}

func (p *Panel) deleteTerminal(c *gin.Context) {
	id := c.Param("id")
	if err := p.d.Store.DeleteTerminal(c.Request.Context(), id); err != nil {
		p.fail(c, fmt.Errorf("terminal %q: %w", id, err))
		return
	}
	p.d.Terminals.Remove(id)
	p.audit(c, "terminal.delete", id, "")
	c.Status(http.StatusNoContent)
}

// probe runs a connection test on d.
func (p *Panel) probe(ctx context.Context, d drivers.Terminal) (ProbeResult, error) {
	pr, ok := d.(drivers.Prober)
	if !ok {
		return ProbeResult{}, fmt.Errorf("connection test: %w", drivers.ErrNotSupported)
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	start := time.Now()
	info, err := pr.Probe(ctx)
	r := ProbeResult{TookMS: time.Since(start).Milliseconds()}
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s", probeTimeout)
		}
		r.Error = err.Error()
		return r, nil
	}
	r.OK = true
	r.Serial, r.Platform, r.Firmware, r.Transport = info.Serial, info.Platform, info.Firmware, info.Transport
	r.Users, r.Records, r.UserCap, r.RecordCap = info.Users, info.Records, info.UserCap, info.RecordCap
	if !info.ClockRead.IsZero() {
		ms := info.ClockOffset.Milliseconds()
		r.ClockOffsetMS = &ms
	}
	return r, nil
}

func (p *Panel) testNewTerminal(c *gin.Context) {
	var in TerminalInput
	if err := decode(c, &in); err != nil {
		p.fail(c, err)
		return
	}
	if in.ID == "" {
		in.ID = "new-terminal" // the id does not matter for a test
	}
	_, d, err := p.terminalOf(in, nil)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.answerProbe(c, d)
}

func (p *Panel) testTerminal(c *gin.Context) {
	ctx := c.Request.Context()
	t, err := p.d.Store.Terminal(ctx, c.Param("id"))
	if err != nil {
		p.fail(c, fmt.Errorf("terminal %q: %w", c.Param("id"), err))
		return
	}
	d, err := p.probeDriver(t)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.answerProbe(c, d)
}

func (p *Panel) answerProbe(c *gin.Context, d drivers.Terminal) {
	r, err := p.probe(c.Request.Context(), d)
	if err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// commander returns the running terminal id's commands.
func (p *Panel) commander(ctx context.Context, id string) (drivers.Commander, error) {
	if _, err := p.d.Store.Terminal(ctx, id); err != nil {
		return nil, fmt.Errorf("terminal %q: %w", id, err)
	}
	t, ok := p.d.Terminals.Terminal(id)
	if h, _ := p.d.Terminals.Health(id); !ok || h.State == drivers.StateDisabled {
		return nil, fmt.Errorf("terminal %q is not running (disabled?): %w", id, drivers.ErrOffline)
	}
	cmd, ok := t.(drivers.Commander)
	if !ok {
		return nil, fmt.Errorf("terminal %q: %w", id, drivers.ErrNotSupported)
	}
	return cmd, nil
}

func (p *Panel) pullTerminal(c *gin.Context) {
	id := c.Param("id")
	cmd, err := p.commander(c.Request.Context(), id)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.audit(c, "terminal.pull", id, "")
	p.startJob(c, "terminal.pull", id, func(ctx context.Context, pg *Progress) (any, error) {
		pg.SetUnit("records")
		pg.Set(0, 0, "reading the whole log")
		r, err := cmd.PullNow(ctx)
		if err != nil {
			return nil, err
		}
		pg.Set(int64(r.Read), int64(r.Read), fmt.Sprintf("read %d records", r.Read))
		return r, nil
	})
}

func (p *Panel) setTerminalTime(c *gin.Context) {
	var in SetTime
	if c.Request.ContentLength != 0 {
		if err := decode(c, &in); err != nil {
			p.fail(c, err)
			return
		}
	}
	to := p.d.Now()
	if in.Time != "" {
		t, err := time.Parse(time.RFC3339, in.Time)
		if err != nil {
			p.fail(c, badField("time", "want RFC 3339 with a zone, e.g. 2026-11-27T08:00:00+01:00"))
			return
		}
		to = t
	}
	id := c.Param("id")
	cmd, err := p.commander(c.Request.Context(), id)
	if err != nil {
		p.fail(c, err)
		return
	}
	if err := cmd.SetTime(c.Request.Context(), to); err != nil {
		p.fail(c, err)
		return
	}
	detail := "to the box's clock"
	if in.Time != "" {
		detail = "to " + to.Format(time.RFC3339)
	}
	p.audit(c, "terminal.time", id, detail)
	c.JSON(http.StatusOK, SetTimeResult{SetTo: to.Truncate(time.Second)})
}

func (p *Panel) terminalUsers(c *gin.Context) {
	ctx := c.Request.Context()
	cmd, err := p.commander(ctx, c.Param("id"))
	if err != nil {
		p.fail(c, err)
		return
	}
	us, err := cmd.ReadUsers(ctx)
	if err != nil {
		p.fail(c, err)
		return
	}
	out := make([]TerminalUser, 0, len(us))
	for _, u := range us {
		_, err := p.d.Store.Employee(ctx, u.PIN)
		out = append(out, TerminalUser{PIN: u.PIN, Name: u.Name, Card: u.Card, Privilege: u.Privilege.String(), Disabled: u.Disabled, InRoster: err == nil})
	}
	c.JSON(http.StatusOK, out)
}
