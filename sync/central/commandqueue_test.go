package central

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
	"github.com/punchbox/punchbox/sync/central/brokertest"
)

// results decodes every command result central got, by request id.
func results(t *testing.T, central *brokertest.Subscriber) map[string][]CmdResult {
	t.Helper()
	out := map[string][]CmdResult{}
	for _, m := range central.Messages("/cmd-result") {
		var r CmdResult
		if err := json.Unmarshal(m.Payload, &r); err != nil {
			t.Fatalf("result %s: %v", m.Payload, err)
		}
		conforms(t, "cmd-result", m.Payload)
		out[r.RequestID] = append(out[r.RequestID], r)
	}
	return out
}

func countCode(rs map[string][]CmdResult, code string) int {
	n := 0
	for _, list := range rs {
		for _, r := range list {
			if r.Error != nil && r.Error.Code == code {
				n++
			}
		}
	}
	return n
}

// While one command runs long, central sends 200 more: every one gets
// exactly one result. Those beyond the queue are answered "busy" at once;
// the queued ones run once the long one is done.
func TestCommandFloodDuringLongCommand(t *testing.T) {
	broker := brokertest.Start(t)
	central := brokertest.Subscribe(t, broker.URL(), topicPrefix+"cmd-result")
	b := startBox(t, storetest.Open(t), testOptions(broker.URL()))
	entered, release := make(chan struct{}, 1), make(chan struct{})
	b.terms.set(drivers.Health{ID: "gate-a", Kind: "zk", State: drivers.StateOnline}, &fakeCommander{id: "gate-a",
		PullFunc: func(ctx context.Context) (drivers.PullResult, error) {
			entered <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
			return drivers.PullResult{Read: 1, Put: 1}, nil
		}})
	eventually.True(t, "the box online", func() bool { return b.link.State().Connected })
	central.Publish(t, topicPrefix+"cmd/pull", false, []byte(`{"request_id":"long","terminal":"gate-a"}`))
	eventually.Recv(t, "the long command to start", entered)

	const flood = 200
	for i := range flood {
		central.Publish(t, topicPrefix+"cmd/set-time", false, fmt.Appendf(nil, `{"request_id":"f%d","terminal":"nope"}`, i))
	}
	// The runner is held: exactly maxQueued wait, the others are busy.
	eventually.OK(t, func() string {
		if n := countCode(results(t, central), "busy"); n != flood-maxQueued {
			return fmt.Sprintf("%d busy results, want %d", n, flood-maxQueued)
		}
		return ""
	})
	close(release)
	eventually.OK(t, func() string {
		if n := countCode(results(t, central), "not_found"); n != maxQueued {
			return fmt.Sprintf("%d queued commands ran, want %d", n, maxQueued)
		}
		return ""
	})
	central.Publish(t, topicPrefix+"cmd/set-time", false, []byte(`{"request_id":"last","terminal":"nope"}`))
	eventually.True(t, "the last command's result", func() bool { return len(results(t, central)["last"]) > 0 })

	rs := results(t, central)
	if r := rs["long"]; len(r) != 1 || !r[0].OK {
		t.Errorf("the long command: %+v", r)
	}
	for i := range flood {
		id := fmt.Sprintf("f%d", i)
		if len(rs[id]) != 1 {
			t.Errorf("%s got %d results", id, len(rs[id]))
			continue
		}
		if c := rs[id][0].Error; c == nil || (c.Code != "busy" && c.Code != "not_found") {
			t.Errorf("%s: %+v", id, rs[id][0])
		}
	}
	if n := countCode(rs, "not_found"); n != maxQueued+1 {
		t.Errorf("%d commands ran, want the %d queued and the last", n, maxQueued+1)
	}
}

// A command far over the bound is refused without being buffered whole,
// with its request id, and the link stays up.
func TestHugeCommandRefused(t *testing.T) {
	broker := brokertest.Start(t)
	central := brokertest.Subscribe(t, broker.URL(), topicPrefix+"cmd-result")
	b := startBox(t, storetest.Open(t), testOptions(broker.URL()))
	eventually.True(t, "the box online", func() bool { return b.link.State().Connected })
	var body bytes.Buffer
	body.WriteString(`{"request_id":"huge-1","employees":[`)
	for body.Len() < 3*maxCommand {
		body.WriteString(`{"pin":"1","name":"x"},`)
	}
	body.WriteString(`{"pin":"2"}]}`)
	central.Publish(t, topicPrefix+"cmd/roster", false, body.Bytes())
	eventually.True(t, "the refusal", func() bool { return len(results(t, central)["huge-1"]) > 0 })
	r := results(t, central)["huge-1"][0]
	if r.OK || r.Error == nil || r.Error.Code != "bad_request" || r.Command != "roster" {
		t.Fatalf("result %+v", r)
	}
	if _, total, err := b.db.Employees(context.Background(), store.EmployeeFilter{}); err != nil || total != 0 {
		t.Errorf("%d employees stored, %v", total, err)
	}
	// The same session goes on: a normal command still works.
	session := b.link.State().Session
	central.Publish(t, topicPrefix+"cmd/settings", false, []byte(`{"request_id":"after"}`))
	eventually.True(t, "the next result", func() bool { return len(results(t, central)["after"]) > 0 })
	if r := results(t, central)["after"][0]; !r.OK || b.link.State().Session != session {
		t.Errorf("after the refusal: %+v, session %d → %d", r, session, b.link.State().Session)
	}
}

// Every error result carries the request id when the body has a valid
// one, whatever else is wrong with it; a stale command is not run.
func TestCommandErrorsCarryRequestID(t *testing.T) {
	broker := brokertest.Start(t)
	central := brokertest.Subscribe(t, broker.URL(), topicPrefix+"cmd-result")
	b := startBox(t, storetest.Open(t), testOptions(broker.URL()))
	set := make(chan struct{}, 10)
	b.terms.set(drivers.Health{ID: "gate-a", Kind: "zk", State: drivers.StateOnline}, &fakeCommander{id: "gate-a",
		SetTimeFunc: func(context.Context, time.Time) error { set <- struct{}{}; return nil }})
	eventually.True(t, "the box online", func() bool { return b.link.State().Connected })
	past, future := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	tests := []struct {
		name, cmd, body, id, code, field string
	}{
		{"not JSON after the id", "roster", `{"request_id":"e1","employees": nope}`, "e1", "bad_request", ""},
		{"cut short", "roster", `{"request_id":"e2","mode":`, "e2", "bad_request", ""},
		{"a bad field type", "pull", `{"request_id":"e3","terminal":7}`, "e3", "bad_request", "terminal"},
		{"an id too long", "pull", `{"request_id":"` + string(bytes.Repeat([]byte("x"), 129)) + `"}`, "", "bad_request", "request_id"},
		{"expired", "set-time", `{"request_id":"e4","expires":"` + past + `"}`, "e4", "expired", "expires"},
		{"a bad expiry", "set-time", `{"request_id":"e5","expires":"soon"}`, "e5", "bad_request", "expires"},
		{"unknown with an id", "reboot", `{"request_id":"e6"}`, "e6", "unknown_command", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := command(t, central, tt.cmd, tt.body, false)
			if res.OK || res.Error == nil || res.Error.Code != tt.code || res.Error.Field != tt.field || res.RequestID != tt.id {
				t.Fatalf("result %+v (error %+v), want id %q code %s field %q", res, res.Error, tt.id, tt.code, tt.field)
			}
		})
	}
	if len(set) != 0 {
		t.Fatal("the expired set-time ran")
	}
	res := command(t, central, "set-time", `{"request_id":"fresh","expires":"`+future+`"}`, false)
	if !res.OK || len(set) != 1 {
		t.Fatalf("a command before its expiry: %+v, ran %d", res, len(set))
	}
}
