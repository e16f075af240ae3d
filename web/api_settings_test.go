package web

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/punchbox/punchbox/store"
)

func TestSettings(t *testing.T) {
	var mu sync.Mutex
	changed := map[string]any{}
	h := newHarness(t, func(d *Deps) {
		d.SettingChanged = func(k string, v any) { mu.Lock(); changed[k] = v; mu.Unlock() }
	})
	a, v := h.admin(), h.viewer()
	var vs []SettingView
	v.do("GET", "/api/v1/settings", nil).want(t, 200).decode(t, &vs)
	byKey := func(vs []SettingView) map[string]SettingView {
		m := map[string]SettingView{}
		for _, s := range vs {
			m[s.Key] = s
		}
		return m
	}
	m := byKey(vs)
	if len(vs) != len(store.SettingDefs) || m["retention.days"].Value != 400.0 || m["backup.keep"].Default != 7.0 ||
		m["uplink.backfill_rate"].Max == nil || *m["uplink.backfill_rate"].Max != 1e6 || m["backup.every_hours"].Max == nil || *m["backup.every_hours"].Max != 168 || m["retention.days"].ChangedBy != "" {
		t.Fatalf("settings = %+v", vs)
	}

	a.do("PUT", "/api/v1/settings", map[string]any{"retention.days": 180, "uplink.backfill_rate": 2500.5}).want(t, 200).decode(t, &vs)
	m = byKey(vs)
	if m["retention.days"].Value != 180.0 || m["uplink.backfill_rate"].Value != 2500.5 || m["retention.days"].ChangedBy != "admin" {
		t.Errorf("after change: %+v", vs)
	}
	if n := h.db.IntSetting(context.Background(), "retention.days"); n != 180 {
		t.Errorf("stored retention %d", n)
	}
	mu.Lock()
	if changed["retention.days"] != 180 || changed["uplink.backfill_rate"] != 2500.5 || len(changed) != 2 {
		t.Errorf("hook saw %v", changed)
	}
	mu.Unlock()
	log, _ := h.db.AuditLog(context.Background(), store.AuditFilter{Action: "setting.change"})
	if len(log) != 2 || !strings.Contains(log[0].Detail+log[1].Detail, "400 → 180") {
		t.Errorf("audit = %+v, want both changes with old and new values", log)
	}

	// Bad input names the setting and changes nothing, not even the good part.
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"unknown", map[string]any{"retention.days": 90, "admin.password": "x"}, "settings.admin.password"},
		{"too low", map[string]any{"backup.keep": 0, "retention.days": 90}, "settings.backup.keep"},
		{"not whole", map[string]any{"backup.every_hours": 1.5}, "settings.backup.every_hours"},
		{"a string", map[string]any{"retention.days": "90"}, "settings.retention.days"},
		{"negative rate", map[string]any{"uplink.backfill_rate": -1}, "settings.uplink.backfill_rate"},
		{"a rate too small to live with", map[string]any{"uplink.backfill_rate": 1e-9}, "settings.uplink.backfill_rate"},
		{"not an object", []int{1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if e := a.do("PUT", "/api/v1/settings", tt.body).want(t, 400).apiErr(t); e.Field != tt.field {
				t.Errorf("field %q, want %q (%s)", e.Field, tt.field, e.Message)
			}
		})
	}
	if n := h.db.IntSetting(context.Background(), "retention.days"); n != 180 {
		t.Errorf("retention %d after bad input, want 180", n)
	}
	v.do("PUT", "/api/v1/settings", map[string]any{"backup.keep": 3}).want(t, 403)
}
