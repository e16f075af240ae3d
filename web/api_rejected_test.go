package web

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/store"
)

func TestRejectedRecords(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if err := h.db.CreateTerminal(ctx, punchbox.Terminal{ID: "gate-a", Kind: punchbox.KindZK, Address: "192.0.2.1:4370"}); err != nil {
		t.Fatal(err)
	}
	erased := bytes.Repeat([]byte{0xff}, 40)
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	if err := h.db.Reject(ctx, []drivers.Rejected{
		{TerminalID: "gate-a", Serial: "SN1", Source: punchbox.SourcePull, Reason: "time 0xffffffff is not a date", Raw: erased, Received: at},
		{TerminalID: "gate-a", Serial: "SN1", Source: punchbox.SourceLive, Reason: "pin with control characters", Raw: []byte("1\x1b[2J"), Received: at.Add(time.Minute)},
	}); err != nil {
		t.Fatal(err)
	}
	viewer, admin := h.viewer(), h.admin()

	var list RejectedList
	viewer.do("GET", "/api/v1/terminals/gate-a/rejected", nil).want(t, 200).decode(t, &list)
	if list.Total != 2 || len(list.Records) != 2 || list.Limit <= 0 {
		t.Fatalf("list %+v, want both records", list)
	}
	if r := list.Records[1]; r.Raw != hex.EncodeToString(erased) || r.Bytes != 40 || r.Source != "pull" || r.Reason != "time 0xffffffff is not a date" || !r.FirstSeen.Equal(at) {
		t.Errorf("erased record shown as %+v", r)
	}
	if r := list.Records[0]; r.Raw != hex.EncodeToString([]byte("1\x1b[2J")) || r.Source != "live" {
		t.Errorf("newest first: %+v", r)
	}
	viewer.do("GET", "/api/v1/terminals/gate-a/rejected?limit=1", nil).want(t, 200).decode(t, &list)
	if list.Total != 2 || len(list.Records) != 1 {
		t.Errorf("limit 1: %+v", list)
	}
	if e := viewer.do("GET", "/api/v1/terminals/gate-a/rejected?limit=100000", nil).want(t, 400).apiErr(t); e.Field != "limit" {
		t.Errorf("huge limit: %+v", e)
	}
	viewer.do("GET", "/api/v1/terminals/nope/rejected", nil).want(t, 404)

	var views []TerminalView
	viewer.do("GET", "/api/v1/terminals", nil).want(t, 200).decode(t, &views)
	if len(views) != 1 || views[0].SetAside != 2 {
		t.Errorf("terminal list %+v, want 2 set aside", views)
	}
	var one TerminalView
	viewer.do("GET", "/api/v1/terminals/gate-a", nil).want(t, 200).decode(t, &one)
	if one.SetAside != 2 {
		t.Errorf("terminal %+v, want 2 set aside", one)
	}

	viewer.do("DELETE", "/api/v1/terminals/gate-a/rejected", nil).want(t, http.StatusForbidden)
	admin.do("DELETE", "/api/v1/terminals/gate-a/rejected", nil).want(t, http.StatusNoContent)
	viewer.do("GET", "/api/v1/terminals/gate-a/rejected", nil).want(t, 200).decode(t, &list)
	if list.Total != 0 || len(list.Records) != 0 {
		t.Errorf("after clearing: %+v", list)
	}
	entries, err := h.db.AuditLog(ctx, store.AuditFilter{Action: "terminal.rejected.clear"})
	if err != nil || len(entries) != 1 || entries[0].Target != "gate-a" || entries[0].Actor != "admin" {
		t.Errorf("clearing in the audit log: %+v, %v", entries, err)
	}
}
