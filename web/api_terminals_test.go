package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox/drivers/zksim"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store"
)

func TestTerminalLifecycle(t *testing.T) {
	h := newHarness(t)
	sim := h.sim(zksim.Config{CommKey: 1234, ClockOffset: -90 * time.Second}, 5, 40)
	a := h.admin()

	// Test before saving: the wrong key fails, the right one reads the terminal.
	var pr ProbeResult
	a.do("POST", "/api/v1/terminals/test", map[string]any{"kind": "zk", "address": sim.Addr(), "options": map[string]any{"commkey": 99}}).want(t, 200).decode(t, &pr)
	if pr.OK || pr.Error == "" {
		t.Errorf("probe with the wrong comm key = %+v, want a failure", pr)
	}
	a.do("POST", "/api/v1/terminals/test", map[string]any{"kind": "zk", "address": sim.Addr(), "options": map[string]any{"commkey": 1234}}).want(t, 200).decode(t, &pr)
	if !pr.OK || pr.Serial != zksim.DefaultSerial || pr.Records != 40 || pr.Users != 5 || pr.ClockOffsetMS == nil {
		t.Fatalf("probe = %+v, want the simulator's serial, 40 records, 5 users and a clock offset", pr)
	}
	if off := *pr.ClockOffsetMS; off > -85_000 || off < -95_000 {
		t.Errorf("clock offset %d ms, want about -90000", off)
	}

	// Create: it starts at once and reads the log into the store.
	var v TerminalView
	a.do("POST", "/api/v1/terminals", map[string]any{"id": "gate-a", "name": "Main gate", "kind": "zk", "address": sim.Addr(),
		"options": map[string]any{"commkey": 1234}}).want(t, http.StatusCreated).decode(t, &v)
	if v.ID != "gate-a" || v.Name != "Main gate" || !v.Enabled || v.Options["commkey"] != maskedOption {
		t.Errorf("created %+v, want gate-a enabled with its comm key masked", v)
	}
	eventually.OK(t, func() string {
		var v TerminalView
		a.do("GET", "/api/v1/terminals/gate-a", nil).want(t, 200).decode(t, &v)
		n, _ := h.db.CountPunches(context.Background())
		if v.Health.State != "online" || n != 40 {
			return fmt.Sprintf("state %q with %d punches stored, want online with 40", v.Health.State, n)
		}
		return ""
	})

	// Users, set time, pull now.
	var us []TerminalUser
	a.do("GET", "/api/v1/terminals/gate-a/users", nil).want(t, 200).decode(t, &us)
	if len(us) != 5 || us[0].PIN == "" || us[0].InRoster {
		t.Errorf("users = %+v, want 5, none in the roster yet", us)
	}
	a.do("POST", "/api/v1/terminals/gate-a/time", nil).want(t, 200)
	if d := time.Until(sim.Clock()); d > 3*time.Second || d < -3*time.Second {
		t.Errorf("after set time the terminal is %v off", d)
	}
	var j Job
	a.do("POST", "/api/v1/terminals/gate-a/pull", nil).want(t, http.StatusAccepted).decode(t, &j)
	eventually.OK(t, func() string {
		a.do("GET", "/api/v1/jobs/"+j.ID, nil).want(t, 200).decode(t, &j)
		if j.State != JobDone {
			return fmt.Sprintf("pull job %+v, want done", j)
		}
		return ""
	})
	var res struct{ Read int }
	b, _ := json.Marshal(j.Result)
	json.Unmarshal(b, &res)
	if res.Read != 40 {
		t.Errorf("pull read %d records, want 40 (%+v)", res.Read, j)
	}

	// Change: a masked comm key keeps the stored one, so it stays online.
	a.do("PUT", "/api/v1/terminals/gate-a", map[string]any{"name": "Gate A", "kind": "zk", "address": sim.Addr(),
		"options": map[string]any{"commkey": maskedOption}}).want(t, 200).decode(t, &v)
	stored, err := h.db.Terminal(context.Background(), "gate-a")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(stored.Options["commkey"]) != "1234" || stored.Name != "Gate A" {
		t.Errorf("stored after change = %+v, want the comm key kept and the new name", stored)
	}
	a.do("POST", "/api/v1/terminals/gate-a/test", nil).want(t, 200).decode(t, &pr)
	if !pr.OK {
		t.Errorf("test after a masked change = %+v, want ok", pr)
	}

	// Delete: the terminal goes, its punches stay, and the audit log has it all.
	a.do("DELETE", "/api/v1/terminals/gate-a", nil).want(t, http.StatusNoContent)
	a.do("GET", "/api/v1/terminals/gate-a", nil).want(t, 404)
	if _, ok := h.sup.Health("gate-a"); ok {
		t.Error("the deleted terminal still runs")
	}
	if n, _ := h.db.CountPunches(context.Background()); n != 40 {
		t.Errorf("%d punches after delete, want 40", n)
	}
	log, err := h.db.AuditLog(context.Background(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		if strings.HasPrefix(e.Action, "terminal.") {
			actions = append(actions, e.Action)
			if e.Actor != "admin" || strings.Contains(e.Detail, "1234") {
				t.Errorf("audit entry %+v: want actor admin and no secret", e)
			}
		}
	}
	if got := strings.Join(actions, " "); !strings.Contains(got, "terminal.create") || !strings.Contains(got, "terminal.update") ||
		!strings.Contains(got, "terminal.pull") || !strings.Contains(got, "terminal.time") || !strings.Contains(got, "terminal.delete") {
		t.Errorf("audit actions %q, want create, time, pull, update and delete", got)
	}
}

func TestTerminalBadInput(t *testing.T) {
	h := newHarness(t)
	a := h.admin()
	a.do("POST", "/api/v1/terminals", map[string]any{"id": "gate-a", "kind": "zk", "address": "127.0.0.1:1", "enabled": false}).want(t, http.StatusCreated)
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"bad id", "POST", "/api/v1/terminals", map[string]any{"id": "Gate A", "kind": "zk", "address": "10.0.0.1"}, 400, "id"},
		{"unknown kind", "POST", "/api/v1/terminals", map[string]any{"id": "x", "kind": "hikvision", "address": "10.0.0.1"}, 400, "kind"},
		{"no address", "POST", "/api/v1/terminals", map[string]any{"id": "x", "kind": "zk"}, 400, "address"},
		{"bad zone", "POST", "/api/v1/terminals", map[string]any{"id": "x", "kind": "zk", "address": "10.0.0.1", "zone": "Mars/Olympus"}, 400, "zone"},
		{"bad option", "POST", "/api/v1/terminals", map[string]any{"id": "x", "kind": "zk", "address": "10.0.0.1", "options": map[string]any{"transport": "carrier-pigeon"}}, 400, "options"},
		{"unknown field", "POST", "/api/v1/terminals", map[string]any{"id": "x", "kind": "zk", "address": "10.0.0.1", "colour": "red"}, 400, "colour"},
		{"taken id", "POST", "/api/v1/terminals", map[string]any{"id": "gate-a", "kind": "zk", "address": "10.0.0.1"}, 409, ""},
		{"id change", "PUT", "/api/v1/terminals/gate-a", map[string]any{"id": "gate-b", "kind": "zk", "address": "10.0.0.1"}, 400, "id"},
		{"change unknown", "PUT", "/api/v1/terminals/nope", map[string]any{"kind": "zk", "address": "10.0.0.1"}, 404, ""},
		{"pull disabled", "POST", "/api/v1/terminals/gate-a/pull", nil, 503, ""},
		{"users unknown", "GET", "/api/v1/terminals/nope/users", nil, 404, ""},
		{"bad time", "POST", "/api/v1/terminals/gate-a/time", map[string]any{"time": "tomorrow"}, 400, "time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.do(tt.method, tt.path, tt.body).want(t, tt.status)
			if e := r.apiErr(t); e.Field != tt.field {
				t.Errorf("field %q, want %q (%s)", e.Field, tt.field, e.Message)
			}
		})
	}
	ts, err := h.db.Terminals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 || ts[0].Address != "127.0.0.1:1" {
		t.Errorf("terminals after bad input = %+v, want gate-a unchanged", ts)
	}
	// A viewer sees terminals but may not change them.
	v := h.viewer()
	v.do("GET", "/api/v1/terminals", nil).want(t, 200)
	v.do("DELETE", "/api/v1/terminals/gate-a", nil).want(t, 403)
}
