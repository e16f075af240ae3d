package central

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
	"github.com/punchbox/punchbox/sync/central/brokertest"
)

// command publishes a command as central would and returns its result.
func command(t *testing.T, central *brokertest.Subscriber, name, body string, retained bool) CmdResult {
	t.Helper()
	before := len(central.Messages("/cmd-result"))
	central.Publish(t, topicPrefix+"cmd/"+name, retained, []byte(body))
	var res CmdResult
	central.Wait(t, "the result of "+name, 30*time.Second, func() bool { return len(central.Messages("/cmd-result")) > before })
	msgs := central.Messages("/cmd-result")
	if err := json.Unmarshal(msgs[before].Payload, &res); err != nil {
		t.Fatal(err)
	}
	conforms(t, "cmd-result", msgs[before].Payload)
	if res.Schema != SchemaCmdResult || res.Site != "acme" || res.Command != name {
		t.Fatalf("result header = %+v", res)
	}
	return res
}

func TestCommands(t *testing.T) {
	broker := brokertest.Start(t)
	central := brokertest.Subscribe(t, broker.URL(), topicPrefix+"#")
	db := storetest.Open(t)
	ctx := context.Background()
	db.Put(ctx, storetest.Punches(30, 3))
	b := startBox(t, db, testOptions(broker.URL()))
	var setTimes atomic.Int32
	var written atomic.Value
	gate := &fakeCommander{id: "gate-a",
		SetTimeFunc: func(context.Context, time.Time) error { setTimes.Add(1); return nil },
		PullFunc:    func(context.Context) (drivers.PullResult, error) { return drivers.PullResult{Read: 7, Put: 7}, nil },
		WriteFunc:   func(_ context.Context, es []punchbox.Employee) error { written.Store(len(es)); return nil },
	}
	b.terms.set(drivers.Health{ID: "gate-a", Kind: "zk", State: drivers.StateOnline}, gate)
	b.terms.set(drivers.Health{ID: "canteen", Kind: "zk", State: drivers.StateOffline}, &fakeCommander{id: "canteen"})
	central.Wait(t, "the box online", 30*time.Second, func() bool { return b.link.State().Connected })
	central.Wait(t, "the back-fill", 30*time.Second, func() bool { return len(central.Messages("/punches")) > 0 })

	tests := []struct {
		name, cmd, body string
		retained        bool
		wantOK          bool
		wantCode        string
		wantField       string
		check           func(t *testing.T, res CmdResult)
	}{
		{"roster upsert", "roster", `{"request_id":"r1","employees":[{"pin":"1001","name":"Ada","privilege":"admin"},{"pin":"1002","name":"Grace","card":"4242"}],"push_to_terminals":true}`, false, true, "", "", func(t *testing.T, res CmdResult) {
			e, err := db.Employee(ctx, "1001")
			if err != nil || e.Name != "Ada" || e.Privilege != punchbox.PrivilegeAdmin {
				t.Errorf("employee 1001 = %+v, %v", e, err)
			}
			if written.Load() != 2 {
				t.Errorf("terminal got %v users", written.Load())
			}
			if !strings.Contains(string(mustJSON(res.Result)), `"added":2`) || !strings.Contains(string(mustJSON(res.Result)), `"canteen":"terminal is not connected"`) {
				t.Errorf("result = %s", mustJSON(res.Result))
			}
		}},
		{"roster replace", "roster", `{"request_id":"r2","mode":"replace","employees":[{"pin":"1002","name":"Grace Hopper"}]}`, false, true, "", "", func(t *testing.T, res CmdResult) {
			if _, err := db.Employee(ctx, "1001"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("1001 still there after replace: %v", err)
			}
		}},
		{"roster with a bad privilege", "roster", `{"request_id":"r3","employees":[{"pin":"9","privilege":"god"}]}`, false, false, "bad_request", "employees[0].privilege", nil},
		{"roster with a bad pin changes nothing", "roster", `{"request_id":"r4","mode":"replace","employees":[{"pin":"has space"}]}`, false, false, "bad_request", "employees", func(t *testing.T, res CmdResult) {
			if _, err := db.Employee(ctx, "1002"); err != nil {
				t.Errorf("a refused replace removed 1002: %v", err)
			}
		}},
		{"set-time on all", "set-time", `{"request_id":"t1"}`, false, true, "", "", func(t *testing.T, res CmdResult) {
			if setTimes.Load() != 1 || !strings.Contains(string(mustJSON(res.Result)), `"gate-a":"ok"`) {
				t.Errorf("result %s, set %d", mustJSON(res.Result), setTimes.Load())
			}
		}},
		{"set-time on an unknown terminal", "set-time", `{"request_id":"t2","terminal":"nope"}`, false, false, "not_found", "terminal", nil},
		{"pull", "pull", `{"request_id":"p1","terminal":"gate-a"}`, false, true, "", "", nil},
		{"pull an offline terminal", "pull", `{"request_id":"p2","terminal":"canteen"}`, false, false, "offline", "terminal", nil},
		{"pull without a terminal", "pull", `{"request_id":"p3"}`, false, false, "bad_request", "terminal", nil},
		{"resend by seq", "resend", `{"request_id":"s1","from_seq":11,"to_seq":20}`, false, true, "", "", func(t *testing.T, res CmdResult) {
			if !strings.Contains(string(mustJSON(res.Result)), `"punches":10`) {
				t.Errorf("result %s", mustJSON(res.Result))
			}
			central.Wait(t, "the resent batch", 10*time.Second, func() bool {
				for _, m := range decodeBatches(t, central.Messages("/punches")) {
					if m.Resend == "s1" && m.Historical && len(m.Punches) == 10 && m.Punches[0].Seq == 11 {
						return true
					}
				}
				return false
			})
		}},
		{"resend by time", "resend", `{"request_id":"s2","from_time":"2026-03-02T08:00:10","to_time":"2026-03-02T08:00:15"}`, false, true, "", "", func(t *testing.T, res CmdResult) {
			if !strings.Contains(string(mustJSON(res.Result)), `"punches":5`) {
				t.Errorf("result %s", mustJSON(res.Result))
			}
		}},
		{"resend with both", "resend", `{"request_id":"s3","from_seq":1,"from_time":"2026-03-02"}`, false, false, "bad_request", "", nil},
		{"resend with a bad time", "resend", `{"request_id":"s4","from_time":"yesterday"}`, false, false, "bad_request", "from_time", nil},
		{"settings", "settings", `{"request_id":"c1","settings":{"retention.days":90,"uplink.backfill_rate":2000}}`, false, true, "", "", func(t *testing.T, res CmdResult) {
			var days int
			if ok, _ := db.Setting(ctx, "retention.days", &days); !ok || days != 90 || b.link.backfillRate() != 2000 {
				t.Errorf("retention %d, rate %v", days, b.link.backfillRate())
			}
		}},
		{"settings read", "settings", `{"request_id":"c2"}`, false, true, "", "", func(t *testing.T, res CmdResult) {
			if !strings.Contains(string(mustJSON(res.Result)), `"retention.days":90`) {
				t.Errorf("result %s", mustJSON(res.Result))
			}
		}},
		{"a setting central may not change", "settings", `{"request_id":"c3","settings":{"admin.password":"x"}}`, false, false, "bad_request", "settings.admin.password", nil},
		{"a bad setting value", "settings", `{"request_id":"c4","settings":{"retention.days":-5}}`, false, false, "bad_request", "settings.retention.days", nil},
		{"a back-fill rate too small to live with", "settings", `{"request_id":"c5","settings":{"uplink.backfill_rate":1e-9}}`, false, false, "bad_request", "settings.uplink.backfill_rate", func(t *testing.T, res CmdResult) {
			if r := b.link.backfillRate(); r != 2000 {
				t.Errorf("rate %v after a refused change, want 2000 still", r)
			}
		}},
		{"unknown command", "reboot", `{"request_id":"u1"}`, false, false, "unknown_command", "", nil},
		{"not JSON", "roster", `this is not json`, false, false, "bad_request", "", nil},
		{"no request id", "roster", `{"employees":[]}`, false, false, "bad_request", "request_id", nil},
		{"unknown field", "pull", `{"request_id":"x","terminl":"gate-a"}`, false, false, "bad_request", "terminl", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := command(t, central, tt.cmd, tt.body, tt.retained)
			if res.OK != tt.wantOK {
				t.Fatalf("ok = %v, error %+v", res.OK, res.Error)
			}
			if !tt.wantOK && (res.Error == nil || res.Error.Code != tt.wantCode || res.Error.Field != tt.wantField) {
				t.Fatalf("error = %+v, want code %s field %q", res.Error, tt.wantCode, tt.wantField)
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
	if !b.link.State().Connected {
		t.Error("commands broke the link")
	}
}

// A retained command would run again on every connect; the box refuses
// what it receives as retained (at subscription).
func TestRetainedCommandIgnored(t *testing.T) {
	broker := brokertest.Start(t)
	central := brokertest.Subscribe(t, broker.URL(), topicPrefix+"cmd-result")
	central.Publish(t, topicPrefix+"cmd/set-time", true, []byte(`{"request_id":"stale"}`))
	b := startBox(t, storetest.Open(t), testOptions(broker.URL()))
	var set atomic.Int32
	b.terms.set(drivers.Health{ID: "gate-a", State: drivers.StateOnline}, &fakeCommander{id: "gate-a",
		SetTimeFunc: func(context.Context, time.Time) error { set.Add(1); return nil }})
	central.Wait(t, "the refusal", 30*time.Second, func() bool { return len(central.Messages("/cmd-result")) > 0 })
	var res CmdResult
	json.Unmarshal(central.Messages("/cmd-result")[0].Payload, &res)
	if res.OK || res.RequestID != "stale" || !strings.Contains(res.Error.Message, "retained commands are ignored") || set.Load() != 0 {
		t.Fatalf("result %+v, set-time ran %d times", res, set.Load())
	}
}
