package punchbox

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseLocalTime(t *testing.T) {
	tests := []struct {
		name, in string
		want     LocalTime
		wantErr  bool
	}{
		{"T form", "2018-06-25T17:41:05", LocalTime{2018, 6, 25, 17, 41, 5}, false},
		{"space form from push terminals", "2025-08-27 10:57:49", LocalTime{2025, 8, 27, 10, 57, 49}, false},
		{"leap day", "2024-02-29T00:00:00", LocalTime{2024, 2, 29, 0, 0, 0}, false},
		{"no leap day", "2025-02-29T00:00:00", LocalTime{}, true},
		{"offset not allowed", "2018-06-25T17:41:05Z", LocalTime{}, true},
		{"date only", "2018-06-25", LocalTime{}, true},
		{"empty", "", LocalTime{}, true},
		{"hour 24", "2018-06-25T24:00:00", LocalTime{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLocalTime(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseLocalTime(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseLocalTime(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if !tt.wantErr && !got.Valid() {
				t.Errorf("%v not Valid", got)
			}
		})
	}
}

func TestLocalTimeValid(t *testing.T) {
	tests := []struct {
		name string
		l    LocalTime
		want bool
	}{
		{"ordinary", LocalTime{2026, 11, 27, 9, 0, 0}, true},
		{"zero", LocalTime{}, false},
		{"april 31", LocalTime{2026, 4, 31, 9, 0, 0}, false},
		{"month 13", LocalTime{2026, 13, 1, 9, 0, 0}, false},
		{"second 60", LocalTime{2026, 1, 1, 9, 0, 60}, false},
		{"negative minute", LocalTime{2026, 1, 1, 9, -1, 0}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.Valid(); got != tt.want {
				t.Errorf("%#v.Valid() = %v, want %v", tt.l, got, tt.want)
			}
		})
	}
}

func TestLocalTimeIn(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		local string
		loc   *time.Location
		want  string // UTC
	}{
		{"winter", "2026-01-15T08:00:00", berlin, "2026-01-15T07:00:00Z"},
		{"summer", "2026-07-15T08:00:00", berlin, "2026-07-15T06:00:00Z"},
		{"utc", "2026-07-15T08:00:00", time.UTC, "2026-07-15T08:00:00Z"},
		{"fixed zone east", "2026-07-15T08:00:00", time.FixedZone("IST", 5*3600+1800), "2026-07-15T02:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustLocal(t, tt.local).In(tt.loc).UTC().Format(time.RFC3339)
			if got != tt.want {
				t.Errorf("In = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestLocalTimeJSON(t *testing.T) {
	in := LocalTime{2026, 3, 29, 2, 30, 0}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `"2026-03-29T02:30:00"` {
		t.Fatalf("marshal = %s", b)
	}
	var out LocalTime
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("round trip = %v, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`"yesterday"`), &out); err == nil {
		t.Fatal("unmarshal of garbage succeeded")
	}
	if _, err := json.Marshal(LocalTime{}); err == nil {
		t.Fatal("marshal of the zero LocalTime succeeded")
	}
}

func TestLocalTimeCompare(t *testing.T) {
	a, b := LocalTime{2026, 1, 1, 0, 0, 0}, LocalTime{2025, 12, 31, 23, 59, 59}
	if !b.Before(a) || a.Before(b) || a.Compare(a) != 0 {
		t.Fatalf("compare %v %v wrong", a, b)
	}
}
