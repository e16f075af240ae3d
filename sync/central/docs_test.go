package central

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

var docOpts = &Options{Site: "acme-plant-1", Box: "box-01", Version: "v1.2.0", Started: time.Date(2026, 11, 27, 7, 58, 2, 0, time.UTC)}

// sameJSON compares a doc example with what the code produced, as JSON
// values (field order and spacing aside).
func sameJSON(t *testing.T, name string, produced []byte) {
	t.Helper()
	loadDoc(t)
	ex, ok := docExamples[name]
	if !ok {
		t.Fatalf("docs/mqtt.md has no example %q", name)
	}
	var a, b any
	if err := json.Unmarshal([]byte(ex), &a); err != nil {
		t.Fatalf("example %s: %v", name, err)
	}
	if err := json.Unmarshal(produced, &b); err != nil {
		t.Fatalf("produced %s: %v", name, err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("example %s differs from what punchbox sends:\ndoc:  %s\ncode: %s", name, mustJSON(a), mustJSON(b))
	}
}

// TestDocExamples makes each message of docs/mqtt.md with the code, from
// the example's inputs, and checks that it equals the example and conforms
// to its schema.
func TestDocExamples(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ms := func(s string) time.Time { v, _ := time.Parse(time.RFC3339Nano, s); return v }

	t.Run("status", func(t *testing.T) {
		b := &store.Backlog{Pending: 40213, Oldest: ms("2026-11-26T08:00:00Z"), DeliveredSeq: 11788, LastSeq: 52001}
		m := mustJSON(statusMessage(docOpts, "online", "", 12, "3f9c0a6e2b7d4c18", b, []string{"canteen", "gate-a"}, ms("2026-11-27T08:00:00Z")))
		sameJSON(t, "status", m)
		conforms(t, "status", m)
	})
	t.Run("will", func(t *testing.T) {
		m := mustJSON(statusMessage(docOpts, "offline", "lost", 12, "3f9c0a6e2b7d4c18", nil, nil, ms("2026-11-27T07:58:03Z")))
		sameJSON(t, "will", m)
		conforms(t, "status", m)
	})
	t.Run("punches", func(t *testing.T) {
		p1 := punchbox.NewPunch("gate-a", "CQUJ203160123", "1001", punchbox.LocalTime{Year: 2026, Month: 11, Day: 27, Hour: 9, Minute: 1, Second: 29},
			berlin, punchbox.StateCheckIn, punchbox.VerifyFingerprint, "", punchbox.SourceLive, ms("2026-11-27T08:01:30.112Z"))
		p2 := punchbox.NewPunch("gate-a", "CQUJ203160123", "1002", punchbox.LocalTime{Year: 2026, Month: 11, Day: 27, Hour: 9, Minute: 1, Second: 30},
			berlin, punchbox.StateCheckIn, punchbox.VerifyCard, "", punchbox.SourceLive, ms("2026-11-27T08:01:30.207Z"))
		ps := []store.StoredPunch{{Punch: p1, Seq: 52000}, {Punch: p2, Seq: 52001}}
		m := appendBatch(nil, batchHeader{Site: docOpts.Site, Box: docOpts.Box, Epoch: "3f9c0a6e2b7d4c18", Session: 12, Batch: 3481, Sent: ms("2026-11-27T08:01:30.250Z")}, ps)
		sameJSON(t, "punches", m)
		conforms(t, "punches", m)
	})
	t.Run("terminal", func(t *testing.T) {
		h := drivers.Health{ID: "gate-a", Kind: "zk", State: drivers.StateOffline, Since: ms("2026-11-27T07:40:00Z"),
			LastError: "dial tcp 192.168.1.201:4370: i/o timeout", LastErrorAt: ms("2026-11-27T07:40:00Z"), LastContact: ms("2026-11-27T07:39:12Z"),
			Info: drivers.Info{Serial: "CQUJ203160123", Platform: "ZEM760_TFT", Firmware: "Ver 6.60 Apr 28 2015", Transport: "tcp",
				ClockOffset: 3 * time.Second, Records: 40210, RecordCap: 100000, Users: 187, UserCap: 10000,
				RejectedRecords: 2, MalformedEvents: 17}}
		ts, _ := terminalStatus(docOpts.Site, docOpts.Box, h, ms("2026-11-27T07:40:00Z"))
		m := mustJSON(ts)
		sameJSON(t, "terminal", m)
		conforms(t, "terminal", m)
	})
	t.Run("event", func(t *testing.T) {
		l := &Link{opts: *docOpts, events: newEventQueue(4)}
		w := &Watcher{Link: l, MaxDrift: time.Minute, LogFull: 0.9, raised: map[string]bool{}, online: map[string]bool{}}
		w.checkTerminal(drivers.Health{ID: "gate-a", State: drivers.StateOnline, Info: drivers.Info{ClockOffset: 252 * time.Second, ClockRead: time.Now()}})
		e, ok := l.events.peek()
		if !ok {
			t.Fatal("no event")
		}
		e.Time = ms("2026-11-27T08:10:00Z")
		m := mustJSON(e)
		sameJSON(t, "event", m)
		conforms(t, "event", m)
	})
	t.Run("ack", func(t *testing.T) {
		m := mustJSON(Ack{Schema: SchemaAck, Batch: 3481, Epoch: "3f9c0a6e2b7d4c18"})
		sameJSON(t, "ack", m)
		conforms(t, "ack", m)
	})
	t.Run("cmd-result", func(t *testing.T) {
		db := storetest.Open(t)
		l := &Link{opts: *docOpts, db: db, terms: newFakeTerminals(), log: testLogger()}
		res := l.command(context.Background(), nil, fakeMessage{topic: docOpts.Topic("cmd/roster"),
			payload: `{"request_id":"7c1f0e2a","employees":[{"pin":"1001","name":"Ada Lovelace","card":"4005123","privilege":"admin"},{"pin":"1002","name":"Grace Hopper"}]}`})
		res.Time = ms("2026-11-27T08:20:00Z")
		sameJSON(t, "cmd-result", mustJSON(res))
		conforms(t, "cmd-result", mustJSON(res))
		bad := l.command(context.Background(), nil, fakeMessage{topic: docOpts.Topic("cmd/roster"),
			payload: `{"request_id":"7c1f0e2b","employees":[{"pin":"1003","privilege":"god"}]}`})
		bad.Time = ms("2026-11-27T08:20:01Z")
		sameJSON(t, "cmd-result-error", mustJSON(bad))
		conforms(t, "cmd-result", mustJSON(bad))
	})
	// Command examples are accepted as they are by the box's strict decoder.
	for name, into := range map[string]any{
		"cmd-roster": &rosterCmd{}, "cmd-set-time": &terminalCmd{}, "cmd-pull": &terminalCmd{},
		"cmd-resend": &resendCmd{}, "cmd-resend-seq": &resendCmd{}, "cmd-settings": &settingsCmd{},
	} {
		t.Run(name, func(t *testing.T) {
			loadDoc(t)
			ex, ok := docExamples[name]
			if !ok {
				t.Fatalf("docs/mqtt.md has no example %q", name)
			}
			if err := decode([]byte(ex), into); err != nil {
				t.Errorf("the box refuses the documented example: %v", err)
			}
		})
	}
}

// fakeMessage is a hand-written mqtt.Message.
type fakeMessage struct {
	topic, payload string
	retained       bool
}

func (m fakeMessage) Duplicate() bool   { return false }
func (m fakeMessage) Qos() byte         { return 1 }
func (m fakeMessage) Retained() bool    { return m.retained }
func (m fakeMessage) Topic() string     { return m.topic }
func (m fakeMessage) MessageID() uint16 { return 1 }
func (m fakeMessage) Payload() []byte   { return []byte(m.payload) }
func (m fakeMessage) Ack()              {}

var _ mqtt.Message = fakeMessage{}
