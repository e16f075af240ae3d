package web

import (
	"context"
	"testing"

	"github.com/punchbox/punchbox/store/storetest"
)

// The dashboard is shared between requests, but never hides a punch
// stored or a terminal added since it was computed.
func TestDashboardCacheFollowsChanges(t *testing.T) {
	h := newHarness(t)
	v := h.viewer()
	dash := func() Dashboard {
		var d Dashboard
		v.do("GET", "/api/v1/dashboard", nil).want(t, 200).decode(t, &d)
		return d
	}
	if d := dash(); len(d.Latest) != 0 || len(d.Terminals) != 0 {
		t.Fatalf("new box: %d punches, %d terminals", len(d.Latest), len(d.Terminals))
	}
	dash() // a second request within the TTL reuses it
	if err := h.db.Put(context.Background(), storetest.Punches(3, 2)); err != nil {
		t.Fatal(err)
	}
	if d := dash(); len(d.Latest) != 3 || d.Backlog.Pending != 3 {
		t.Errorf("after 3 punches: %d latest, %d pending; want 3 and 3", len(d.Latest), d.Backlog.Pending)
	}
	h.admin().do("POST", "/api/v1/terminals", map[string]any{"id": "gate-b", "kind": "zk", "address": "127.0.0.1:1", "enabled": false}).want(t, 201)
	if d := dash(); len(d.Terminals) != 1 || d.Terminals[0].ID != "gate-b" {
		t.Errorf("after adding a terminal: %+v", d.Terminals)
	}
}
