package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// SettingDef describes a setting the panel (and perhaps central) may
// change at run time: its type, default and bounds.
type SettingDef struct {
	Key     string
	Title   string // for people, e.g. "Keep delivered punches (days)"
	Doc     string // one sentence on what it does
	Type    string // "int" or "float"
	Default any    // an int or a float64, as Type says
	Min     float64
	Max     float64 // every setting has one: a value the code can live with
	// OffAtZero allows 0 as well, below Min, meaning "off" or
	// "unlimited" (as for the back-fill rate).
	OffAtZero bool
	Central   bool // central may change it with the MQTT settings command
}

// SettingTypes.
const (
	SettingInt   = "int"
	SettingFloat = "float"
)

// SettingRegistry is the known settings, in the order the panel shows them.
type SettingRegistry []SettingDef

// SettingDefs are the settings a box knows.
var SettingDefs = SettingRegistry{
	{Key: "retention.days", Title: "Keep delivered punches (days)", Type: SettingInt, Default: DefaultRetentionDays, Min: 1, Max: 3650, Central: true,
		Doc: "Punches central acknowledged are deleted from the box after this many days; undelivered punches are never deleted."},
	// Below 1 punch/s a batch of 500 would wait over 8 minutes, and a
	// resend would outlast its command's time; above 1,000,000/s nothing
	// is held back on a Pi anyway.
	{Key: "uplink.backfill_rate", Title: "Back-fill rate (punches/s)", Type: SettingFloat, Default: 0.0, Min: 1, Max: 1_000_000, OffAtZero: true, Central: true,
		Doc: "How fast punches held back during an outage are sent to central; 0 is unlimited. Live punches are never held behind it."},
	{Key: "backup.every_hours", Title: "Backup interval (hours)", Type: SettingInt, Default: 24, Min: 1, Max: 168,
		Doc: "The box takes a backup of its store this often, into the backups directory of its data directory."},
	{Key: "backup.keep", Title: "Backups kept", Type: SettingInt, Default: 7, Min: 1, Max: 100,
		Doc: "After each scheduled backup, all but this many of the newest backups are deleted."},
}

// Lookup returns the setting key.
func (r SettingRegistry) Lookup(key string) (SettingDef, bool) {
	for _, d := range r {
		if d.Key == key {
			return d, true
		}
	}
	return SettingDef{}, false
}

// Validate checks v (as JSON decodes it: a float64, json.Number, or a Go
// int) against key's definition and returns it as the setting's type: an
// int or a float64. Errors wrap ErrInvalid and say what is wanted.
func (r SettingRegistry) Validate(key string, v any) (any, error) {
	d, ok := r.Lookup(key)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a setting", ErrInvalid, key)
	}
	return d.Validate(v)
}

// Validate checks v against d; see SettingRegistry.Validate.
func (d SettingDef) Validate(v any) (any, error) {
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return nil, fmt.Errorf("%w: %s", ErrInvalid, d.Want())
		}
	default:
		return nil, fmt.Errorf("%w: %s", ErrInvalid, d.Want())
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || (f < d.Min && !(f == 0 && d.OffAtZero)) || f > d.Max {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, d.Want())
	}
	if d.Type == SettingInt {
		if f != math.Trunc(f) {
			return nil, fmt.Errorf("%w: %s", ErrInvalid, d.Want())
		}
		return int(f), nil
	}
	return f, nil
}

// Want says in words what values d takes.
func (d SettingDef) Want() string {
	what := "a number"
	if d.Type == SettingInt {
		what = "a whole number"
	}
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	if d.OffAtZero {
		return fmt.Sprintf("want 0 (off) or %s from %s to %s", what, num(d.Min), num(d.Max))
	}
	return fmt.Sprintf("want %s from %s to %s", what, num(d.Min), num(d.Max))
}

// SettingValue returns the stored value of the known setting key, checked
// against its definition, or its default when it is unset or the stored
// value no longer passes.
func (db *DB) SettingValue(ctx context.Context, key string) (any, error) {
	d, ok := SettingDefs.Lookup(key)
	if !ok {
		return nil, fmt.Errorf("read setting: %w: %q is not a setting", ErrInvalid, key)
	}
	var raw json.RawMessage
	set, err := db.Setting(ctx, key, &raw)
	if err != nil || !set {
		return d.Default, err
	}
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		return d.Default, nil
	}
	v, err := d.Validate(n)
	if err != nil {
		return d.Default, nil
	}
	return v, nil
}

// CheckSettings reads back every known setting that is stored and returns
// an error for each whose value does not pass its definition now (written
// by an older punchbox, or around the registry). Such a setting is not
// used: SettingValue gives its default. Errors wrap ErrInvalid.
func (db *DB) CheckSettings(ctx context.Context) ([]error, error) {
	stored, err := db.Settings(ctx)
	if err != nil {
		return nil, err
	}
	var bad []error
	for _, d := range SettingDefs {
		raw, ok := stored[d.Key]
		if !ok {
			continue
		}
		var n json.Number
		if err := json.Unmarshal(raw, &n); err == nil {
			_, err = d.Validate(n)
			if err == nil {
				continue
			}
		}
		shown := string(raw)
		if len(shown) > 40 {
			shown = shown[:40] + "…"
		}
		bad = append(bad, fmt.Errorf("setting %s: %w: stored %s, %s; using the default %v", d.Key, ErrInvalid, shown, d.Want(), d.Default))
	}
	return bad, nil
}

// IntSetting returns the known int setting key, or its default on any
// failure: for the loops that read their settings each round.
func (db *DB) IntSetting(ctx context.Context, key string) int {
	v, _ := db.SettingValue(ctx, key)
	if n, ok := v.(int); ok {
		return n
	}
	if d, ok := SettingDefs.Lookup(key); ok {
		if n, ok := d.Default.(int); ok {
			return n
		}
	}
	return 0
}
