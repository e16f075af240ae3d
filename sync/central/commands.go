package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/store"
)

// maxCommand bounds a command's body: a roster of 20,000 employees fits.
// A bigger one is refused before it is buffered (see limitConn).
const maxCommand = 4 << 20

// maxQueued bounds the commands waiting to run; one more is answered
// "busy" at once.
const maxQueued = 32

// maxRequestID bounds the request id a result echoes.
const maxRequestID = 128

// request is what every command body carries.
type request struct {
	RequestID string `json:"request_id"`
	// Expires, optional, is when the command goes stale (RFC 3339, by the
	// box's clock): one that starts to run later is not run.
	Expires string `json:"expires"`
}

// cmdError is a failure to report in the result.
type cmdError struct{ CmdError }

func (e *cmdError) Error() string { return e.Message }

func badRequest(field, format string, args ...any) error {
	return &cmdError{CmdError{Code: "bad_request", Field: field, Message: fmt.Sprintf(format, args...)}}
}

func (l *Link) dispatch(ctx context.Context, up *uplink, name, id string, body []byte) (any, error) {
	switch name {
	case "roster":
		return l.cmdRoster(ctx, body)
	case "set-time":
		return l.cmdSetTime(ctx, body)
	case "pull":
		return l.cmdPull(ctx, body)
	case "resend":
		return l.cmdResend(ctx, up, id, body)
	case "settings":
		return l.cmdSettings(ctx, body)
	}
	return nil, &cmdError{CmdError{Code: "unknown_command", Message: fmt.Sprintf("unknown command %q: want roster, set-time, pull, resend or settings", name)}}
}

// decode decodes a body strictly: an unknown field is an error naming it.
func decode(body []byte, into any) error {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		field := ""
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			field = strings.Trim(f, `"`)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field = te.Field
		}
		return badRequest(field, "%v", err)
	}
	return nil
}

type rosterCmd struct {
	request
	Mode            string           `json:"mode"` // upsert (default) or replace
	Employees       []rosterEmployee `json:"employees"`
	PushToTerminals bool             `json:"push_to_terminals"`
}

type rosterEmployee struct {
	PIN       string `json:"pin"`
	Name      string `json:"name"`
	Card      string `json:"card"`
	Privilege string `json:"privilege"` // user (default), enroller, manager, admin
	Disabled  bool   `json:"disabled"`
}

func (l *Link) cmdRoster(ctx context.Context, body []byte) (any, error) {
	var c rosterCmd
	if err := decode(body, &c); err != nil {
		return nil, err
	}
	replace := false
	switch c.Mode {
	case "", "upsert":
	case "replace":
		replace = true
	default:
		return nil, badRequest("mode", "mode %q: want upsert or replace", c.Mode)
	}
	if c.Employees == nil {
		return nil, badRequest("employees", "want a list of employees (empty with mode replace removes everyone)")
	}
	es := make([]punchbox.Employee, len(c.Employees))
	for i, e := range c.Employees {
		priv := punchbox.PrivilegeUser
		if e.Privilege != "" {
			p, ok := punchbox.ParsePrivilege(e.Privilege)
			if !ok {
				return nil, badRequest(fmt.Sprintf("employees[%d].privilege", i), "privilege %q: want user, enroller, manager or admin", e.Privilege)
			}
			priv = p
		}
		es[i] = punchbox.Employee{PIN: e.PIN, Name: e.Name, Card: e.Card, Privilege: priv, Disabled: e.Disabled}
	}
	res, err := l.db.PutEmployees(ctx, es, replace)
	if err != nil {
		if errors.Is(err, store.ErrInvalid) {
			return nil, badRequest("employees", "%v", err)
		}
		return nil, err
	}
	out := map[string]any{"added": res.Added, "updated": res.Updated, "unchanged": res.Unchanged, "removed": res.Removed}
	if c.PushToTerminals {
		out["terminals"] = l.onTerminals(ctx, "", func(ctx context.Context, cmd drivers.Commander) error {
			return cmd.WriteUsers(ctx, es)
		})
	}
	return out, nil
}

type terminalCmd struct {
	request
	Terminal string `json:"terminal"` // "" or "*": all
}

func (l *Link) cmdSetTime(ctx context.Context, body []byte) (any, error) {
	var c terminalCmd
	if err := decode(body, &c); err != nil {
		return nil, err
	}
	results := l.onTerminals(ctx, c.Terminal, func(ctx context.Context, cmd drivers.Commander) error {
		return cmd.SetTime(ctx, time.Now())
	})
	if c.Terminal != "" && c.Terminal != "*" && len(results) == 0 {
		return nil, &cmdError{CmdError{Code: "not_found", Field: "terminal", Message: "no terminal " + c.Terminal}}
	}
	return map[string]any{"terminals": results}, nil
}

func (l *Link) cmdPull(ctx context.Context, body []byte) (any, error) {
	var c terminalCmd
	if err := decode(body, &c); err != nil {
		return nil, err
	}
	if c.Terminal == "" || c.Terminal == "*" {
		return nil, badRequest("terminal", "pull needs a terminal id")
	}
	t, ok := l.terms.Terminal(c.Terminal)
	if !ok {
		return nil, &cmdError{CmdError{Code: "not_found", Field: "terminal", Message: "no terminal " + c.Terminal}}
	}
	cmd, ok := t.(drivers.Commander)
	if !ok {
		return nil, &cmdError{CmdError{Code: "not_supported", Field: "terminal", Message: "terminal " + c.Terminal + " cannot pull"}}
	}
	res, err := cmd.PullNow(ctx)
	if errors.Is(err, drivers.ErrOffline) {
		return nil, &cmdError{CmdError{Code: "offline", Field: "terminal", Message: err.Error()}}
	}
	return res, err
}

// onTerminals runs fn on one terminal (id) or all ("" or "*") that take
// commands, and returns the outcome per terminal: "ok" or the error.
func (l *Link) onTerminals(ctx context.Context, id string, fn func(context.Context, drivers.Commander) error) map[string]string {
	out := map[string]string{}
	for _, h := range l.terms.Healths() {
		if id != "" && id != "*" && h.ID != id {
			continue
		}
		t, ok := l.terms.Terminal(h.ID)
		if !ok {
			continue
		}
		cmd, ok := t.(drivers.Commander)
		if !ok {
			out[h.ID] = "not supported by this kind of terminal"
			continue
		}
		if err := fn(ctx, cmd); err != nil {
			out[h.ID] = clampString(err.Error(), maxMessage)
			continue
		}
		out[h.ID] = "ok"
	}
	return out
}

type resendCmd struct {
	request
	FromSeq  int64  `json:"from_seq"`
	ToSeq    int64  `json:"to_seq"`    // inclusive; 0: to the newest
	FromTime string `json:"from_time"` // local time or day, inclusive
	ToTime   string `json:"to_time"`   // local time or day, exclusive
}

// maxResend bounds one resend; central asks again for more.
const maxResend = 1_000_000

func (l *Link) cmdResend(ctx context.Context, up *uplink, id string, body []byte) (any, error) {
	var c resendCmd
	if err := decode(body, &c); err != nil {
		return nil, err
	}
	bySeq, byTime := c.FromSeq > 0 || c.ToSeq > 0, c.FromTime != "" || c.ToTime != ""
	switch {
	case bySeq == byTime:
		return nil, badRequest("", "give from_seq (and to_seq) or from_time (and to_time)")
	case c.ToSeq != 0 && c.ToSeq < c.FromSeq:
		return nil, badRequest("to_seq", "to_seq before from_seq")
	}
	for field, v := range map[string]string{"from_time": c.FromTime, "to_time": c.ToTime} {
		if v != "" && !validLocal(v) {
			return nil, badRequest(field, "%q: want a local day or time such as 2026-11-27 or 2026-11-27T08:00:00", v)
		}
	}
	f := store.Filter{Ascending: true, Limit: up.l.opts.BatchSize}
	if byTime {
		f.From, f.To = c.FromTime, c.ToTime
	}
	sent, batches := 0, []int64{}
	bucket := newBucket(l.backfillRate)
	for sent < maxResend {
		var ps []store.StoredPunch
		var err error
		if bySeq {
			ps, err = l.punchesBySeq(ctx, c.FromSeq, c.ToSeq, f.Limit)
		} else {
			ps, err = l.db.Search(ctx, f)
		}
		if err != nil {
			return nil, err
		}
		if len(ps) == 0 {
			break
		}
		if err := bucket.wait(ctx, len(ps)); err != nil {
			return nil, err
		}
		if err := up.publish(ctx, ps, store.SentBatch{Historical: true, Resend: id}, up.backSlots); err != nil {
			return nil, err
		}
		up.mu.Lock()
		batches = append(batches, up.batch)
		up.mu.Unlock()
		sent += len(ps)
		last := ps[len(ps)-1]
		c.FromSeq = last.Seq + 1
		f.AfterTime, f.AfterSeq = last.Local.String(), last.Seq
	}
	res := map[string]any{"punches": sent, "batches": len(batches)}
	if len(batches) > 0 {
		res["first_batch"], res["last_batch"] = batches[0], batches[len(batches)-1]
	}
	return res, nil
}

// punchesBySeq reads stored punches with seq in [from, to], delivered or not.
func (l *Link) punchesBySeq(ctx context.Context, from, to int64, limit int) ([]store.StoredPunch, error) {
	ps, err := l.db.Outbox(ctx, from-1, limit)
	if err != nil {
		return nil, err
	}
	for i, p := range ps {
		if to > 0 && p.Seq > to {
			return ps[:i], nil
		}
	}
	return ps, nil
}

func validLocal(s string) bool {
	if len(s) == 10 {
		_, err := time.Parse("2006-01-02", s)
		return err == nil
	}
	_, err := punchbox.ParseLocalTime(s)
	return err == nil
}

type settingsCmd struct {
	request
	Settings map[string]any `json:"settings"`
}

func (l *Link) cmdSettings(ctx context.Context, body []byte) (any, error) {
	var c settingsCmd
	if err := decode(body, &c); err != nil {
		return nil, err
	}
	vals := map[string]any{}
	for k, v := range c.Settings {
		d, ok := store.SettingDefs.Lookup(k)
		if !ok || !d.Central {
			return nil, badRequest("settings."+k, "%q is not a setting central may change", k)
		}
		val, err := d.Validate(v)
		if err != nil {
			return nil, badRequest("settings."+k, "%s: %s", k, d.Want())
		}
		vals[k] = val
	}
	for _, d := range store.SettingDefs {
		v, ok := vals[d.Key]
		if !ok {
			continue
		}
		var old any
		l.db.Setting(ctx, d.Key, &old)
		if err := l.db.SetSetting(ctx, d.Key, v); err != nil {
			return nil, err
		}
		if err := l.db.Audit(ctx, store.AuditEntry{Actor: "central", Action: "setting.change", Target: d.Key,
			Detail: fmt.Sprintf("%v → %v", settingText(old, d.Default), v)}); err != nil {
			l.log.Warn("write audit log", "action", "setting.change", "err", err)
		}
		if d.Key == backfillKey {
			if err := l.SetBackfillRate(v.(float64)); err != nil {
				return nil, err // cannot be: v passed the same registry
			}
		}
	}
	current := map[string]any{}
	for _, d := range store.SettingDefs {
		if !d.Central {
			continue
		}
		var v any
		if ok, err := l.db.Setting(ctx, d.Key, &v); err != nil {
			return nil, err
		} else if ok {
			current[d.Key] = v
		}
	}
	return map[string]any{"settings": current}, nil
}

// settingText is a setting's stored value for the audit log, or its
// default when unset.
func settingText(v, def any) string {
	if v == nil {
		return fmt.Sprintf("%v (default)", def)
	}
	return fmt.Sprint(v)
}
