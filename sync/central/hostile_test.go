package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// hostile strings a lying terminal (or a broken driver) might report.
var hostile = []string{
	"ZEM\x1b[2J\x07" + strings.Repeat("A", 18<<10), // 18 KB with ESC and BEL
	"\xff\xfe invalid UTF-8 \xc3",
	"line\nbreak\r\ttab\x00nul\x7fdel\u0085nel",
	strings.Repeat("ü", 5000),
	"",
}

// clean walks a decoded message and complains about any string over max
// bytes or holding what a published string must not.
func clean(t *testing.T, what string, v any, max int) {
	t.Helper()
	switch x := v.(type) {
	case string:
		if len(x) > max || !utf8.ValidString(x) || strings.IndexFunc(x, unicode.IsControl) >= 0 {
			t.Errorf("%s: published string %.60q (%d bytes)", what, x, len(x))
		}
	case map[string]any:
		for k, e := range x {
			clean(t, what+"."+k, e, max)
		}
	case []any:
		for i, e := range x {
			clean(t, fmt.Sprintf("%s[%d]", what, i), e, max)
		}
	}
}

// checkPayload validates a payload against its schema and its strings.
func checkPayload(t *testing.T, schema string, payload []byte) {
	t.Helper()
	conforms(t, schema, payload)
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		t.Fatalf("%s: %v", schema, err)
	}
	clean(t, schema, v, maxMessage)
}

// Every kind of message the box publishes, built from hostile inputs,
// conforms to its schema in docs/mqtt.md and carries only bounded, clean
// strings.
func TestPayloadsFromHostileInputs(t *testing.T) {
	far := time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, s := range hostile {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			h := drivers.Health{ID: "gate-a" + s, Kind: "zk", State: drivers.State("haunted" + s), Since: far,
				LastError: "read: " + s, LastErrorAt: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), LastContact: time.Now(),
				Info: drivers.Info{Serial: s, Platform: s, Firmware: s, DeviceName: s, Transport: "carrier pigeon" + s,
					ClockOffset: math.MaxInt64, Records: -40, RecordCap: -1, Users: math.MinInt, UserCap: -7,
					RejectedRecords: -3, MalformedEvents: math.MinInt, DroppedEvents: -1, LogError: s}}

			t.Run("terminal", func(t *testing.T) {
				ts, ok := terminalStatus("acme", "box-01", h, time.Now())
				if !ok {
					t.Fatal("a zk terminal's status not published")
				}
				checkPayload(t, "terminal", mustJSON(ts))
				if ts.State != "error" || ts.Records != 0 || ts.UserCapacity != 0 || ts.Transport != "" {
					t.Errorf("state %q records %d user cap %d transport %q", ts.State, ts.Records, ts.UserCapacity, ts.Transport)
				}
				if _, ok := terminalStatus("acme", "box-01", drivers.Health{ID: "x", Kind: "teleport" + s}, time.Now()); ok {
					t.Error("a terminal of an unknown kind would be published")
				}
			})
			t.Run("status", func(t *testing.T) {
				o := &Options{Site: "acme", Box: "box-01", Version: s, Started: far}
				b := &store.Backlog{Pending: -3, DeliveredSeq: -1, LastSeq: -9, Oldest: time.Now().Add(time.Hour)}
				checkPayload(t, "status", mustJSON(statusMessage(o, "online", "", 0, "3f9c0a6e2b7d4c18", b, []string{clampString(h.ID, maxName)}, time.Now())))
				checkPayload(t, "status", mustJSON(statusMessage(o, "offline", "lost", 0, "", nil, nil, far)))
			})
			t.Run("event", func(t *testing.T) {
				l := &Link{opts: Options{Site: "acme", Box: "box-01"}, events: newEventQueue(16)}
				w := &Watcher{Link: l, MaxDrift: time.Minute, LogFull: 0.9, raised: map[string]bool{}, online: map[string]bool{}}
				on := h
				on.State, on.Info.ClockRead, on.Info.Records, on.Info.RecordCap = drivers.StateOnline, time.Now(), 99, 100
				w.checkTerminal(on)
				off := on
				off.State = drivers.StateOffline
				w.checkTerminal(off)
				w.emit(Event{Type: EventDiskLow, Severity: "critical", Message: s,
					Details: map[string]any{"free_ratio": math.NaN(), "at": far, "note" + s: s, "inf": math.Inf(1)}})
				if l.events.Len() < 3 {
					t.Fatalf("%d events", l.events.Len())
				}
				for {
					e, ok := l.events.peek()
					if !ok {
						break
					}
					l.events.pop()
					checkPayload(t, "event", mustJSON(e))
				}
			})
			t.Run("cmd-result", func(t *testing.T) {
				db := storetest.Open(t)
				terms := newFakeTerminals()
				terms.set(drivers.Health{ID: "gate-a", Kind: "zk", State: drivers.StateOnline}, &fakeCommander{id: "gate-a",
					PullFunc: func(context.Context) (drivers.PullResult, error) {
						return drivers.PullResult{}, errors.New("terminal says " + s)
					},
					SetTimeFunc: func(context.Context, time.Time) error { return errors.New(s) }})
				l := &Link{opts: Options{Site: "acme", Box: "box-01"}, db: db, terms: terms, log: testLogger()}
				for _, m := range []fakeMessage{
					{topic: l.opts.Topic("cmd/pull"), payload: `{"request_id":"p1","terminal":"gate-a"}`},
					{topic: l.opts.Topic("cmd/set-time"), payload: `{"request_id":"t1"}`},
					{topic: l.opts.Topic("cmd/" + s), payload: `{"request_id":"u1"}`},
					{topic: l.opts.Topic("cmd/pull"), payload: `{"request_id":"p2","terminal":` + string(mustJSON(s)) + `}`},
					{topic: l.opts.Topic("cmd/roster"), payload: `{"request_id":"r1","employees":[{"pin":"1","privilege":` + string(mustJSON(s)) + `}]}`},
				} {
					checkPayload(t, "cmd-result", mustJSON(l.command(context.Background(), nil, m)))
				}
			})
			t.Run("punches", func(t *testing.T) {
				p := storetest.Punch("1001", i)
				p.WorkCode, p.Zone, p.TerminalSerial = s, "Europe/"+s, "SN"+s
				b := appendBatch(nil, batchHeader{Site: "acme", Box: "box-01", Epoch: "3f9c0a6e2b7d4c18", Session: 1, Batch: 1,
					Resend: clampString(s, maxRequestID), Sent: time.Now()}, []store.StoredPunch{{Punch: p, Seq: 1}})
				checkPayload(t, "punches", b)
			})
		})
	}
}

func FuzzClampString(f *testing.F) {
	for _, s := range hostile {
		f.Add(s, 64)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = 4 + max&0xfff
		got := clampString(s, max)
		if len(got) > max || !utf8.ValidString(got) || strings.IndexFunc(got, unicode.IsControl) >= 0 {
			t.Fatalf("clampString(%q, %d) = %q", s, max, got)
		}
		if len(s) <= max && cleanString(s) && got != s {
			t.Fatalf("a clean string changed: %q → %q", s, got)
		}
	})
}
