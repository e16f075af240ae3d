package central

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
	"github.com/punchbox/punchbox/sync/central/brokertest"
)

func lastStatus(t *testing.T, s *brokertest.Subscriber) Status {
	t.Helper()
	msgs := s.Messages("/status")
	var st Status
	if len(msgs) == 0 {
		return st
	}
	if err := json.Unmarshal(msgs[len(msgs)-1].Payload, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// Birth on connect, the will when the link dies, birth again with a higher
// session, and a clean offline on stop.
func TestBirthAndWill(t *testing.T) {
	broker := brokertest.Start(t)
	proxy := brokertest.NewProxy(t, broker.Addr())
	central := brokertest.Subscribe(t, broker.URL(), topicPrefix+"status")
	db := storetest.Open(t)
	db.Put(context.Background(), storetest.Punches(3, 1))
	opts := testOptions(proxy.URL())
	opts.KeepAlive = 5 * time.Second
	b := startBox(t, db, opts)
	b.terms.set(drivers.Health{ID: "gate-a", Kind: "zk", State: drivers.StateOnline}, nil)

	central.Wait(t, "birth", 30*time.Second, func() bool { return lastStatus(t, central).State == "online" })
	st := lastStatus(t, central)
	if st.Schema != SchemaStatus || st.Session != 1 || st.Version != "test" || st.Backlog == nil || st.Started.IsZero() {
		t.Fatalf("birth = %+v", st)
	}
	// The connection dies: the broker publishes the will.
	proxy.Cut()
	central.Wait(t, "the will", 30*time.Second, func() bool {
		st := lastStatus(t, central)
		return st.State == "offline" && st.Reason == "lost"
	})
	central.Wait(t, "a second birth", 30*time.Second, func() bool {
		st := lastStatus(t, central)
		return st.State == "online" && st.Session > 1
	})
	retained := brokertest.Subscribe(t, broker.URL(), topicPrefix+"status") // a late subscriber sees the retained birth
	retained.Wait(t, "the retained status", 10*time.Second, func() bool { return len(retained.Messages("/status")) > 0 })
	if m := retained.Messages("/status")[0]; !m.Retained {
		t.Error("status is not retained")
	}
	for _, m := range central.Messages("/status") {
		conforms(t, "status", m.Payload)
	}
	b.stop(t)
	central.Wait(t, "offline on stop", 30*time.Second, func() bool {
		st := lastStatus(t, central)
		return st.State == "offline" && st.Reason == "stopped"
	})
}

func TestTerminalStatusAndEvents(t *testing.T) {
	broker := brokertest.Start(t)
	central := brokertest.Subscribe(t, broker.URL(), topicPrefix+"#")
	db := storetest.Open(t)
	b := startBox(t, db, testOptions(broker.URL()))
	w := &Watcher{Link: b.link, Terminals: b.terms, Store: db, DataDir: t.TempDir(), Every: 20 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	on := drivers.Health{ID: "gate-a", Kind: "zk", State: drivers.StateOnline, Since: time.Now(),
		Info: drivers.Info{Serial: "SN1", Records: 1000, RecordCap: 100000, ClockOffset: 2 * time.Second, ClockRead: time.Now()}}
	b.terms.set(on, nil)
	central.Wait(t, "terminal status", 30*time.Second, func() bool { return len(central.Messages("terminals/gate-a/status")) > 0 })

	off := on
	off.State, off.LastError, off.Since = drivers.StateOffline, "dial tcp 192.0.2.1:4370: i/o timeout", time.Now()
	b.terms.set(off, nil)
	central.Wait(t, "the offline event", 30*time.Second, func() bool {
		for _, m := range central.Messages("/events") {
			var e Event
			json.Unmarshal(m.Payload, &e)
			if e.Type == EventTerminalOffline {
				return true
			}
		}
		return false
	})
	drift := on
	drift.Info.ClockOffset, drift.Info.Records = 5*time.Minute, 95000
	b.terms.set(drift, nil)

	want := map[string]bool{EventTerminalOffline: false, EventTerminalOnline: false, EventClockDrift: false, EventLogNearCapacity: false}
	central.Wait(t, "events", 30*time.Second, func() bool {
		for _, m := range central.Messages("/events") {
			var e Event
			json.Unmarshal(m.Payload, &e)
			if _, ok := want[e.Type]; ok && e.Terminal == "gate-a" && e.Schema == SchemaEvent {
				want[e.Type] = true
			}
		}
		for _, got := range want {
			if !got {
				return false
			}
		}
		return true
	})
	var ts TerminalStatus
	central.Wait(t, "the terminal status after the drift", 30*time.Second, func() bool {
		msgs := central.Messages("terminals/gate-a/status")
		json.Unmarshal(msgs[len(msgs)-1].Payload, &ts)
		return ts.ClockOffsetSeconds == 300
	})
	late := brokertest.Subscribe(t, broker.URL(), topicPrefix+"terminals/+/status")
	late.Wait(t, "the retained terminal status", 10*time.Second, func() bool { return len(late.Messages("/status")) > 0 })
	if m := late.Messages("/status")[0]; !m.Retained {
		t.Error("terminal status is not retained")
	}
	if ts.Schema != SchemaTerminal || ts.State != "online" || ts.Serial != "SN1" || ts.ClockOffsetSeconds != 300 || ts.RecordCapacity != 100000 {
		t.Errorf("terminal status = %+v", ts)
	}
	for _, m := range central.Messages("/events") {
		conforms(t, "event", m.Payload)
	}
	for _, m := range central.Messages("terminals/gate-a/status") {
		conforms(t, "terminal", m.Payload)
	}
	// The same condition again raises nothing new: the next event central
	// gets is the one a real change raises, after the watcher saw the
	// unchanged drift and log again.
	n := len(central.Messages("/events"))
	b.terms.set(drift, nil)
	gone := drift
	gone.State, gone.LastError, gone.Since = drivers.StateOffline, "gone", time.Now()
	b.terms.set(gone, nil)
	central.Wait(t, "the next offline event", 30*time.Second, func() bool { return len(central.Messages("/events")) > n })
	var e Event
	json.Unmarshal(central.Messages("/events")[n].Payload, &e)
	if e.Type != EventTerminalOffline {
		t.Errorf("event %+v for an unchanged condition", e)
	}
}

// slowStart is a store whose PendingBatches, read as a session starts, waits
// until the session ends.
type slowStart struct {
	*store.DB
	entered chan struct{}
}

func (s slowStart) PendingBatches(ctx context.Context) ([]store.SentBatch, error) {
	s.entered <- struct{}{}
	<-ctx.Done()
	return nil, ctx.Err()
}

// A stop while a session is still starting (born, not yet subscribed) is a
// clean stop all the same: central sees "stopped", not the will.
func TestStopWhileStartingIsClean(t *testing.T) {
	broker := brokertest.Start(t)
	central := brokertest.Subscribe(t, broker.URL(), topicPrefix+"status")
	db := slowStart{DB: storetest.Open(t), entered: make(chan struct{}, 1)}
	link, err := New(testOptions(broker.URL()), db, newFakeTerminals(), testLogger())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- link.Run(ctx) }()
	eventually.Recv(t, "the session to start", db.entered)
	cancel()
	if err := eventually.Recv(t, "the link to stop", done); err != nil {
		t.Fatal(err)
	}
	central.Wait(t, "offline on stop", 30*time.Second, func() bool {
		st := lastStatus(t, central)
		return st.State == "offline"
	})
	if st := lastStatus(t, central); st.Reason != "stopped" {
		t.Errorf("status after a stop while starting: %+v", st)
	}
}
