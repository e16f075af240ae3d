package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/store"
)

// settingRoutes serves settings the panel may change.
func (p *Panel) settingRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/settings", access: viewer, tag: "settings", summary: "The settings, with their values, defaults and bounds", out: []SettingView{}, h: p.listSettings},
		{method: "PUT", path: "/api/v1/settings", access: admin, tag: "settings", summary: "Change settings: an object of key and new value; all are checked before any is written",
			in: map[string]any{"retention.days": 180}, out: []SettingView{}, h: p.putSettings},
	}
}

// SettingView is a setting as the panel shows it.
type SettingView struct {
	Key       string   `json:"key"`
	Title     string   `json:"title"`
	Doc       string   `json:"doc"`
	Type      string   `json:"type"` // int or float
	Value     any      `json:"value"`
	Default   any      `json:"default"`
	Min       float64  `json:"min"`
	Max       *float64 `json:"max,omitempty"`        // absent: no upper bound
	Central   bool     `json:"central"`              // central may change it too
	ChangedBy string   `json:"changed_by,omitempty"` // who changed it last, from the audit log
}

// settingChange is the audit log's action for a changed setting.
const settingChange = "setting.change"

// settingViews returns every known setting with its value.
func (p *Panel) settingViews(ctx context.Context) ([]SettingView, error) {
	log, err := p.d.Store.AuditLog(ctx, store.AuditFilter{Action: settingChange, Limit: 1000})
	if err != nil {
		return nil, err
	}
	by := map[string]string{}
	for _, e := range log { // newest first
		if _, ok := by[e.Target]; !ok {
			by[e.Target] = e.Actor
		}
	}
	out := make([]SettingView, 0, len(store.SettingDefs))
	for _, d := range store.SettingDefs {
		v, err := p.d.Store.SettingValue(ctx, d.Key)
		if err != nil {
			return nil, err
		}
		sv := SettingView{Key: d.Key, Title: d.Title, Doc: d.Doc, Type: d.Type, Value: v, Default: d.Default, Min: d.Min,
			Central: d.Central, ChangedBy: by[d.Key]}
		if d.Max > 0 {
			sv.Max = &d.Max
		}
		out = append(out, sv)
	}
	return out, nil
}

func (p *Panel) listSettings(c *gin.Context) {
	vs, err := p.settingViews(c.Request.Context())
	if err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, vs)
}

func (p *Panel) putSettings(c *gin.Context) {
	var in map[string]any
	if err := decode(c, &in); err != nil {
		p.fail(c, err)
		return
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make(map[string]any, len(in))
	for _, k := range keys {
		d, ok := store.SettingDefs.Lookup(k)
		if !ok {
			p.fail(c, badField("settings."+k, "not a setting"))
			return
		}
		v, err := d.Validate(in[k])
		if err != nil {
			p.fail(c, badField("settings."+k, "%s", d.Want()))
			return
		}
		vals[k] = v
	}
	ctx := c.Request.Context()
	for _, k := range keys {
		old, err := p.d.Store.SettingValue(ctx, k)
		if err != nil {
			p.fail(c, err)
			return
		}
		if old == vals[k] {
			continue
		}
		if err := p.d.Store.SetSetting(ctx, k, vals[k]); err != nil {
			p.fail(c, err)
			return
		}
		p.audit(c, settingChange, k, fmt.Sprintf("%v → %v", old, vals[k]))
		if p.d.SettingChanged != nil {
			p.d.SettingChanged(k, vals[k])
		}
	}
	p.listSettings(c)
}
