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
		{"uplink.backfill_rate", 1.0, 1.0},
		{"uplink.backfill_rate", 1e6, 1e6},
		{"uplink.backfill_rate", 1e-9, nil}, // overflowed the old bucket's wait
		{"uplink.backfill_rate", 0.5, nil},
		{"uplink.backfill_rate", 1e6 + 1, nil},
		{"uplink.backfill_rate", 1e308, nil},
		{"retention.days", 1e300, nil},
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

// Every setting has bounds the code can live with: an upper one, a lower
// one above zero (0 only where it means off), and a default inside them.
func TestSettingBounds(t *testing.T) {
	for _, d := range store.SettingDefs {
		t.Run(d.Key, func(t *testing.T) {
			if !(d.Max > 0) || !(d.Min > 0) || d.Min > d.Max {
				t.Errorf("bounds [%v, %v]: want 0 < min <= max", d.Min, d.Max)
			}
			for _, v := range []float64{d.Min, d.Max} {
				if _, err := d.Validate(v); err != nil {
					t.Errorf("bound %v refused: %v", v, err)
				}
			}
			for _, v := range []float64{d.Min / 2, d.Max * 2, -d.Min} {
				if _, err := d.Validate(v); err == nil {
					t.Errorf("%v accepted", v)
				}
			}
			if _, err := d.Validate(0.0); (err == nil) != d.OffAtZero {
				t.Errorf("0: err %v, off at zero %v", err, d.OffAtZero)
			}
		})
	}
}

// A value stored by an older punchbox that the registry now refuses is
// reported and not used: the default is.
func TestCheckSettings(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	if bad, err := db.CheckSettings(ctx); err != nil || len(bad) != 0 {
		t.Fatalf("fresh store: %v, %v", bad, err)
	}
	db.SetSetting(ctx, "uplink.backfill_rate", 1e-9) // written around the registry, as an older version did
	db.SetSetting(ctx, "backup.keep", 3)
	db.SetSetting(ctx, "retention.days", "forever")
	bad, err := db.CheckSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 2 {
		t.Fatalf("reported %v, want the rate and the retention", bad)
	}
	for _, e := range bad {
		if !errors.Is(e, store.ErrInvalid) {
			t.Errorf("%v does not wrap ErrInvalid", e)
		}
	}
	if v, err := db.SettingValue(ctx, "uplink.backfill_rate"); err != nil || v != 0.0 {
		t.Errorf("stored 1e-9: value %#v, %v; want the default 0", v, err)
	}
	if n := db.IntSetting(ctx, "retention.days"); n != store.DefaultRetentionDays {
		t.Errorf("stored \"forever\": %d, want the default", n)
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
