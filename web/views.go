package web

import (
	"context"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/store"
)

// The API's views of the box's things. They are what the JSON, the pages
// and the live feed show, so all three agree.

// PunchView is a stored punch.
type PunchView struct {
	ID         string    `json:"id"`
	Seq        int64     `json:"seq"` // outbox sequence
	Terminal   string    `json:"terminal"`
	Serial     string    `json:"serial"`
	PIN        string    `json:"pin"`
	Name       string    `json:"name,omitempty"` // the employee's, when known
	LocalTime  string    `json:"local_time"`     // the terminal's wall clock: 2026-11-27T08:01:02
	Zone       string    `json:"zone"`
	UTC        time.Time `json:"utc_time"`
	Received   time.Time `json:"received"`
	State      int       `json:"state"`
	StateName  string    `json:"state_name"`
	Verify     int       `json:"verify"`
	VerifyName string    `json:"verify_name"`
	WorkCode   string    `json:"work_code,omitempty"`
	Source     string    `json:"source"`
	Delivered  bool      `json:"delivered"` // acknowledged by central
}

func punchView(sp store.StoredPunch, name string) PunchView {
	p := sp.Punch
	return PunchView{
		ID: p.ID, Seq: sp.Seq, Terminal: p.TerminalID, Serial: p.TerminalSerial, PIN: p.PIN, Name: name,
		LocalTime: p.Local.String(), Zone: p.Zone, UTC: p.Time.UTC(), Received: p.Received.UTC(),
		State: p.State.Code(), StateName: p.State.String(), Verify: p.Verify.Code(), VerifyName: p.Verify.String(),
		WorkCode: p.WorkCode, Source: string(p.Source), Delivered: sp.Delivered,
	}
}

// punchViews returns the views of ps with the employees' names, read in
// one query. A failed lookup leaves the names out rather than the punches.
func (p *Panel) punchViews(ctx context.Context, ps []store.StoredPunch) []PunchView {
	seen := make(map[string]bool, len(ps))
	pins := make([]string, 0, len(ps))
	for _, sp := range ps {
		if !seen[sp.PIN] {
			seen[sp.PIN] = true
			pins = append(pins, sp.PIN)
		}
	}
	names, err := p.d.Store.EmployeeNames(ctx, pins)
	if err != nil {
		p.log.Debug("read employee names", "err", err)
	}
	out := make([]PunchView, 0, len(ps))
	for _, sp := range ps {
		out = append(out, punchView(sp, names[sp.PIN]))
	}
	return out
}

// TerminalView is a terminal: its configuration and how its link is.
type TerminalView struct {
	ID      string         `json:"id"`
	Name    string         `json:"name"`
	Kind    string         `json:"kind"`
	Address string         `json:"address"`
	Zone    string         `json:"zone,omitempty"` // "" = the site's zone
	Enabled bool           `json:"enabled"`
	Options map[string]any `json:"options,omitempty"` // the kind's settings; secrets are masked
	Health  HealthView     `json:"health"`
	// SetAside counts the records the terminal sent that could not be
	// punches, kept raw (GET /api/v1/terminals/{id}/rejected).
	SetAside int `json:"set_aside"`
}

// HealthView is the live state of a terminal's link.
type HealthView struct {
	State         string    `json:"state"` // connecting, online, offline, error, disabled
	Since         time.Time `json:"since,omitzero"`
	LastContact   time.Time `json:"last_contact,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
	LastErrorAt   time.Time `json:"last_error_at,omitzero"`
	Failures      int       `json:"failures"`
	RetryAt       time.Time `json:"retry_at,omitzero"`
	Serial        string    `json:"serial,omitempty"`
	Platform      string    `json:"platform,omitempty"`
	Firmware      string    `json:"firmware,omitempty"`
	Transport     string    `json:"transport,omitempty"`
	ClockOffsetMS *int64    `json:"clock_offset_ms,omitempty"` // terminal minus box; absent until read
	Users         int       `json:"users"`
	Records       int       `json:"records"`
	UserCap       int       `json:"user_cap,omitempty"`
	RecordCap     int       `json:"record_cap,omitempty"`
	// What the driver could not use: live events that were no punches,
	// events dropped unread (over a bound), and why it refuses to read the
	// terminal's log (the terminal stays online for live punches).
	MalformedEvents int    `json:"malformed_events,omitempty"`
	DroppedEvents   int    `json:"dropped_events,omitempty"`
	LogError        string `json:"log_error,omitempty"`
}

func healthView(h drivers.Health) HealthView {
	v := HealthView{
		State: string(h.State), Since: h.Since, LastContact: h.LastContact, LastError: h.LastError, LastErrorAt: h.LastErrorAt,
		Failures: h.Failures, RetryAt: h.RetryAt, Serial: h.Info.Serial, Platform: h.Info.Platform, Firmware: h.Info.Firmware,
		Transport: h.Info.Transport, Users: h.Info.Users, Records: h.Info.Records, UserCap: h.Info.UserCap, RecordCap: h.Info.RecordCap,
		MalformedEvents: h.Info.MalformedEvents, DroppedEvents: h.Info.DroppedEvents, LogError: h.Info.LogError,
	}
	if !h.Info.ClockRead.IsZero() {
		ms := h.Info.ClockOffset.Milliseconds()
		v.ClockOffsetMS = &ms
	}
	return v
}

// secretOptions are terminal options never shown back.
var secretOptions = map[string]bool{"commkey": true, "password": true, "key": true}

// maskedOption replaces a set secret in a terminal's options.
const maskedOption = "********"

func terminalView(t punchbox.Terminal, h drivers.Health, known bool) TerminalView {
	v := TerminalView{ID: t.ID, Name: t.Name, Kind: string(t.Kind), Address: t.Address, Zone: t.Zone, Enabled: t.Enabled}
	if len(t.Options) > 0 {
		v.Options = make(map[string]any, len(t.Options))
		for k, o := range t.Options {
			if secretOptions[k] && o != nil && o != "" && o != 0 && o != float64(0) && o != int64(0) {
				o = maskedOption
			}
			v.Options[k] = o
		}
	}
	switch {
	case known:
		v.Health = healthView(h)
	case !t.Enabled:
		v.Health = HealthView{State: string(drivers.StateDisabled)}
	default:
		v.Health = HealthView{State: string(drivers.StateError), LastError: "not running: see the box's log"}
	}
	return v
}

// terminalViews returns every stored terminal with its health, by id.
func (p *Panel) terminalViews(ctx context.Context) ([]TerminalView, error) {
	ts, err := p.d.Store.Terminals(ctx)
	if err != nil {
		return nil, err
	}
	aside, err := p.d.Store.RejectedCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]TerminalView, 0, len(ts))
	for _, t := range ts {
		h, ok := p.d.Terminals.Health(t.ID)
		v := terminalView(t, h, ok)
		v.SetAside = aside[t.ID]
		out = append(out, v)
	}
	return out, nil
}
