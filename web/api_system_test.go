package web

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/punchbox/punchbox/store/storetest"
)

func TestSystemStatus(t *testing.T) {
	h := newHarness(t)
	if err := h.db.Put(context.Background(), storetest.Punches(30, 3)); err != nil {
		t.Fatal(err)
	}
	if err := h.db.Put(context.Background(), storetest.Punches(10, 3)); err != nil { // repeats
		t.Fatal(err)
	}
	var s SystemStatus
	h.viewer().do("GET", "/api/v1/system", nil).want(t, 200).decode(t, &s)
	if s.Version != "test" || s.Site != "test-site" || s.Box != "box-01" || s.Started.IsZero() || s.UptimeS < 0 {
		t.Errorf("identity = %+v", s)
	}
	if s.Punches != 30 || s.Received != 40 || s.Stored != 30 {
		t.Errorf("punches %d received %d stored %d, want 30, 40, 30", s.Punches, s.Received, s.Stored)
	}
	if s.StoreBytes <= 0 || !s.Healthy || s.Problem != "" {
		t.Errorf("store %d bytes, healthy %t (%q), want a size and healthy", s.StoreBytes, s.Healthy, s.Problem)
	}
	if s.Machine.ReadAt.IsZero() || s.Machine.CPUs < 1 {
		t.Errorf("machine = %+v, want a reading", s.Machine)
	}
}

func TestSystemStatusUnhealthy(t *testing.T) {
	h := newHarness(t, func(d *Deps) {
		d.Healthy = func(context.Context) error { return errTestUnhealthy }
	})
	var s SystemStatus
	h.viewer().do("GET", "/api/v1/system", nil).want(t, 200).decode(t, &s)
	if s.Healthy || s.Problem != errTestUnhealthy.Error() {
		t.Errorf("healthy %t problem %q, want the health check's error", s.Healthy, s.Problem)
	}
}

func TestSyncView(t *testing.T) {
	tests := []struct {
		name     string
		link     func() LinkStatus
		wantConf bool
		wantNote string
	}{
		{"no central", nil, false, "punches stay on the box"},
		{"connected", func() LinkStatus { return LinkStatus{Connected: true, Broker: "tls://broker:8883"} }, true, "connected to central"},
		{"down", func() LinkStatus { return LinkStatus{LastError: "refused"} }, true, "not connected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(d *Deps) { d.Link = tt.link })
			ctx := context.Background()
			if err := h.db.Put(ctx, storetest.Punches(20, 2)); err != nil {
				t.Fatal(err)
			}
			if err := h.db.MarkDelivered(ctx, 5); err != nil {
				t.Fatal(err)
			}
			var v SyncView
			h.viewer().do("GET", "/api/v1/sync", nil).want(t, 200).decode(t, &v)
			if v.Link.Configured != tt.wantConf || !strings.Contains(v.Note, tt.wantNote) {
				t.Errorf("link %+v note %q, want configured %t and %q", v.Link, v.Note, tt.wantConf, tt.wantNote)
			}
			if v.Backlog.Pending != 15 || v.Backlog.Upto != 5 || v.Backlog.LastSeq != 20 || v.Backlog.Oldest.IsZero() || v.Backlog.At.IsZero() {
				t.Errorf("backlog = %+v, want 15 pending after 5 of 20", v.Backlog)
			}
		})
	}
}

var errTestUnhealthy = errors.New("the store does not answer")

func TestReadiness(t *testing.T) {
	h := newHarness(t, func(d *Deps) {
		d.Readiness = func(context.Context) []Check {
			return []Check{{Name: "tls", Title: "Panel served over HTTPS", OK: true, Detail: "HTTPS"}, {Name: "clock", Title: "Clock", Detail: "enable NTP"}}
		}
	})
	var cs []Check
	h.viewer().do("GET", "/api/v1/readiness", nil).want(t, 200).decode(t, &cs)
	if len(cs) != 2 || !cs[0].OK || cs[1].OK || cs[1].Detail != "enable NTP" || cs[0].Title == "" {
		t.Errorf("readiness = %+v", cs)
	}
	h2 := newHarness(t)
	h2.viewer().do("GET", "/api/v1/readiness", nil).want(t, 200).decode(t, &cs)
	if len(cs) != 0 {
		t.Errorf("without a report: %+v", cs)
	}
}
