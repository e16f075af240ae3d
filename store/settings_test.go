package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

func TestSettings(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	type uplink struct {
		Interval string `json:"interval"`
		Batch    int    `json:"batch"`
	}
	var u uplink
	if ok, err := db.Setting(ctx, "uplink", &u); ok || err != nil {
		t.Fatalf("unset setting: %v, %v", ok, err)
	}
	want := uplink{Interval: "30s", Batch: 500}
	if err := db.SetSetting(ctx, "uplink", want); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSetting(ctx, "site.zone", "Europe/Berlin"); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.Setting(ctx, "uplink", &u); !ok || err != nil || u != want {
		t.Fatalf("setting = %+v, %v, %v; want %+v", u, ok, err, want)
	}
	want.Batch = 1000
	if err := db.SetSetting(ctx, "uplink", want); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.Setting(ctx, "uplink", &u); !ok || err != nil || u != want {
		t.Fatalf("overwritten setting = %+v, %v, %v; want %+v", u, ok, err, want)
	}
	var n int
	if _, err := db.Setting(ctx, "site.zone", &n); err == nil {
		t.Fatal("decoding a string into an int succeeded")
	}
	all, err := db.Settings(ctx)
	if err != nil || len(all) != 2 || string(all["site.zone"]) != `"Europe/Berlin"` || string(all["uplink"]) != `{"interval":"30s","batch":1000}` {
		t.Fatalf("settings = %s, %v", all, err)
	}
	if err := db.DeleteSetting(ctx, "uplink"); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.Setting(ctx, "uplink", &u); ok || err != nil {
		t.Fatalf("deleted setting: %v, %v", ok, err)
	}
	if err := db.DeleteSetting(ctx, "uplink"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete again: %v; want ErrNotFound", err)
	}
}

func TestSettingInvalid(t *testing.T) {
	tests := []struct {
		name  string
		key   string
		value any
	}{
		{"EmptyKey", "", 1},
		{"UpperCaseKey", "Site.Zone", 1},
		{"SpaceInKey", "site zone", 1},
		{"SlashInKey", "site/zone", 1},
		{"LongKey", strings.Repeat("k", store.MaxSettingKeyLen+1), 1},
		{"Unencodable", "x", math.Inf(1)},
		{"Channel", "x", make(chan int)},
		{"BadRawJSON", "x", json.RawMessage(`{"a":`)},
		{"TooLarge", "x", strings.Repeat("v", store.MaxSettingValueLen)},
	}
	db := storetest.Open(t)
	ctx := context.Background()
	if err := db.SetSetting(ctx, "x", "kept"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := db.SetSetting(ctx, tt.key, tt.value); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("set: %v; want ErrInvalid", err)
			}
			var s string
			if ok, err := db.Setting(ctx, "x", &s); !ok || err != nil || s != "kept" {
				t.Fatalf("x = %q, %v, %v after a refused set", s, ok, err)
			}
		})
	}
	var v any
	if _, err := db.Setting(ctx, "Bad Key", &v); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("read with a bad key: %v", err)
	}
	if err := db.DeleteSetting(ctx, ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("delete with a bad key: %v", err)
	}
	if err := db.SetSetting(ctx, strings.Repeat("a.-_9", 12)+"abcd", json.RawMessage(` {"ok": true} `)); err != nil {
		t.Errorf("longest key with raw JSON: %v", err)
	}
}
