package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// day fills a store with a small, known day: three employees on two
// terminals.
func day(t *testing.T) *store.DB {
	db := storetest.Open(t)
	at := func(term, pin, local string, state punchbox.PunchState) punchbox.Punch {
		l, err := punchbox.ParseLocalTime(local)
		if err != nil {
			t.Fatal(err)
		}
		return punchbox.NewPunch(term, "SN-"+term, pin, l, time.UTC, state, punchbox.VerifyCard, "", punchbox.SourcePull, time.Now())
	}
	ps := []punchbox.Punch{
		at("gate-a", "1001", "2026-03-02T07:58:00", punchbox.StateCheckIn),
		at("gate-a", "1002", "2026-03-02T08:03:00", punchbox.StateCheckIn),
		at("canteen", "1001", "2026-03-02T12:01:00", punchbox.StateBreakOut),
		at("canteen", "1001", "2026-03-02T12:40:00", punchbox.StateBreakIn),
		at("gate-a", "1002", "2026-03-02T16:30:00", punchbox.StateCheckOut),
		at("gate-a", "1001", "2026-03-02T17:05:00", punchbox.StateCheckOut),
		at("gate-a", "1003", "2026-03-03T06:00:00", punchbox.StateCheckIn),
	}
	if err := db.Put(context.Background(), ps); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestSearch(t *testing.T) {
	db := day(t)
	ctx := context.Background()
	tests := []struct {
		name string
		f    store.Filter
		want []string // local times, in order
	}{
		{"employee", store.Filter{PIN: "1001"}, []string{"2026-03-02T17:05:00", "2026-03-02T12:40:00", "2026-03-02T12:01:00", "2026-03-02T07:58:00"}},
		{"terminal, oldest first", store.Filter{Terminal: "canteen", Ascending: true}, []string{"2026-03-02T12:01:00", "2026-03-02T12:40:00"}},
		{"day range", store.Filter{From: "2026-03-03", To: "2026-03-04"}, []string{"2026-03-03T06:00:00"}},
		{"employee on terminal", store.Filter{PIN: "1002", Terminal: "gate-a", Limit: 1}, []string{"2026-03-02T16:30:00"}},
		{"next page", store.Filter{PIN: "1001", Limit: 2, AfterTime: "2026-03-02T12:40:00", AfterSeq: 4}, []string{"2026-03-02T12:01:00", "2026-03-02T07:58:00"}},
		{"hostile input is just a value", store.Filter{PIN: "1001' OR '1'='1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Search(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var times []string
			for _, p := range got {
				times = append(times, p.Local.String())
			}
			if fmt.Sprint(times) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", times, tt.want)
			}
		})
	}
	n := 0
	if err := db.Each(ctx, store.Filter{Ascending: true}, func(store.StoredPunch) error { n++; return nil }); err != nil || n != 7 {
		t.Errorf("Each visited %d, %v", n, err)
	}
}

func TestAggregates(t *testing.T) {
	db := day(t)
	ctx := context.Background()
	counts, err := db.DailyCounts(ctx, "2026-03-01", "2026-03-04")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(counts); got != "[{canteen 2026-03-02 2} {gate-a 2026-03-02 4} {gate-a 2026-03-03 1}]" {
		t.Errorf("daily counts = %s", got)
	}
	hours, err := db.HourlyCounts(ctx, "2026-03-02", "2026-03-03")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(hours); got != "[{2026-03-02T07 1} {2026-03-02T08 1} {2026-03-02T12 2} {2026-03-02T16 1} {2026-03-02T17 1}]" {
		t.Errorf("hourly counts = %s", got)
	}
	att, err := db.FirstLast(ctx, "2026-03-02", "2026-03-03", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(att); got != "[{1001 2026-03-02 2026-03-02T07:58:00 2026-03-02T17:05:00 4} {1002 2026-03-02 2026-03-02T08:03:00 2026-03-02T16:30:00 2}]" {
		t.Errorf("first/last = %s", got)
	}
	one, err := db.FirstLast(ctx, "2026-03-01", "2026-03-31", "1003")
	if err != nil || len(one) != 1 || one[0].First != "2026-03-03T06:00:00" {
		t.Errorf("first/last of 1003 = %+v, %v", one, err)
	}
}
