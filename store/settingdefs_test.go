package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

func TestSettingValidate(t *testing.T) {
	tests := []struct {
		key  string
		in   any
		want any // nil: refused
	}{
		{"retention.days", 400.0, 400},
		{"retention.days", json.Number("30"), 30},
		{"retention.days", 3650, 3650},
		{"retention.days", 0.0, nil},
		{"retention.days", -5.0, nil},
		{"retention.days", 3651.0, nil},
		{"retention.days", 1.5, nil},
		{"retention.days", "30", nil},
		{"uplink.backfill_rate", 0.0, 0.0},
		{"uplink.backfill_rate", 2000.5, 2000.5},
		{"uplink.backfill_rate", -1.0, nil},
		{"backup.every_hours", 1.0, 1},
		{"backup.every_hours", 169.0, nil},
		{"backup.keep", 100.0, 100},
		{"backup.keep", 0.0, nil},
		{"backup.keep", true, nil},
		{"admin.password", "x", nil},
	}
	for _, tt := range tests {
		got, err := store.SettingDefs.Validate(tt.key, tt.in)
		switch {
		case tt.want == nil && !errors.Is(err, store.ErrInvalid):
			t.Errorf("Validate(%s, %v) = %v, %v; want ErrInvalid", tt.key, tt.in, got, err)
		case tt.want != nil && (err != nil || got != tt.want):
			t.Errorf("Validate(%s, %v) = %#v, %v; want %#v", tt.key, tt.in, got, err, tt.want)
		}
	}
	for _, d := range store.SettingDefs {
		if v, err := d.Validate(d.Default); err != nil || v != d.Default {
			t.Errorf("%s: default %#v does not pass: %v", d.Key, d.Default, err)
		}
	}
}

func TestSettingValue(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	if n := db.IntSetting(ctx, "backup.keep"); n != 7 {
		t.Errorf("unset backup.keep = %d, want the default 7", n)
	}
	db.SetSetting(ctx, "backup.keep", 3)
	if n := db.IntSetting(ctx, "backup.keep"); n != 3 {
		t.Errorf("backup.keep = %d, want 3", n)
	}
	db.SetSetting(ctx, "backup.keep", "lots") // written around the registry
	if n := db.IntSetting(ctx, "backup.keep"); n != 7 {
		t.Errorf("bad stored backup.keep = %d, want the default 7", n)
	}
	if v, err := db.SettingValue(ctx, "uplink.backfill_rate"); err != nil || v != 0.0 {
		t.Errorf("unset rate = %#v, %v", v, err)
	}
}
