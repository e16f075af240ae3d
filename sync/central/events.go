package central

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/internal/sysinfo"
	"github.com/punchbox/punchbox/store"
)

// eventQueue holds events until the link can send them. It is bounded: when
// full, the oldest event goes.
type eventQueue struct {
	mu     sync.Mutex
	events []Event
	max    int
	wake   chan struct{}
}

func newEventQueue(n int) *eventQueue { return &eventQueue{max: n, wake: make(chan struct{})} }

// Add queues an event.
func (q *eventQueue) Add(e Event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.events) == q.max {
		q.events = q.events[1:]
	}
	q.events = append(q.events, e)
	close(q.wake)
	q.wake = make(chan struct{})
}

// ready returns a channel closed at the next Add.
func (q *eventQueue) ready() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.wake
}

func (q *eventQueue) peek() (Event, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.events) == 0 {
		return Event{}, false
	}
	return q.events[0], true
}

func (q *eventQueue) pop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.events) > 0 {
		q.events = q.events[1:]
	}
}

// Len returns how many events wait.
func (q *eventQueue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.events)
}

// Watcher turns conditions worth central's attention into events: a
// terminal going offline (and back), a terminal clock drifting, a terminal
// log nearly full, the data directory's disk running low, store writes
// failing. Each is raised once when it begins and not again until it has
// cleared.
type Watcher struct {
	Link      *Link
	Terminals Terminals
	Store     interface{ LastWrite() store.WriteStatus }
	DataDir   string
	Every     time.Duration // default 30 s
	// Thresholds; defaults: 60 s of drift, 90 % of the log, 10 % or
	// 256 MiB free.
	MaxDrift    time.Duration
	LogFull     float64
	DiskFree    float64
	DiskFreeMin uint64
	Logger      *slog.Logger

	raised map[string]bool
	online map[string]bool
}

// Run watches until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	if w.Every == 0 {
		w.Every = 30 * time.Second
	}
	if w.MaxDrift == 0 {
		w.MaxDrift = time.Minute
	}
	if w.LogFull == 0 {
		w.LogFull = 0.9
	}
	if w.DiskFree == 0 {
		w.DiskFree = 0.1
	}
	if w.DiskFreeMin == 0 {
		w.DiskFreeMin = 256 << 20
	}
	w.raised, w.online = map[string]bool{}, map[string]bool{}
	watch, stop := w.Terminals.Watch()
	defer stop()
	t := time.NewTicker(w.Every)
	defer t.Stop()
	for {
		w.check()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-watch:
		}
	}
}

func (w *Watcher) check() {
	for _, h := range w.Terminals.Healths() {
		w.checkTerminal(h)
	}
	if w.DataDir != "" {
		if d := sysinfo.ReadDisk(w.DataDir); d.Known {
			free := d.Free
			ratio := 1 - d.UsedFraction()
			w.edge("disk", ratio < w.DiskFree || free < w.DiskFreeMin, ratio > w.DiskFree*1.5 && free > w.DiskFreeMin*3/2,
				Event{Type: EventDiskLow, Severity: "critical", Message: fmt.Sprintf("%.0f MiB (%.1f %%) free on the data disk", float64(free)/(1<<20), ratio*100),
					Details: map[string]any{"free_bytes": free, "free_ratio": math.Round(ratio*1000) / 1000}}, nil)
		}
	}
	if w.Store != nil {
		ws := w.Store.LastWrite()
		msg := ""
		if ws.Err != nil {
			msg = ws.Err.Error()
		}
		w.edge("store", ws.Err != nil, ws.Err == nil,
			Event{Type: EventStoreWritesFail, Severity: "critical", Message: "storing punches fails: " + msg + "; terminals keep their punches until it works"},
			&Event{Type: EventStoreWritesRecovered, Severity: "info", Message: "storing punches works again"})
	}
}

func (w *Watcher) checkTerminal(h drivers.Health) {
	id := h.ID
	switch h.State {
	case drivers.StateOnline:
		if was, known := w.online[id]; known && !was {
			w.emit(Event{Type: EventTerminalOnline, Severity: "info", Terminal: id, Message: "terminal " + id + " is online again"})
		}
		w.online[id] = true
	case drivers.StateOffline, drivers.StateError:
		if w.online[id] {
			w.emit(Event{Type: EventTerminalOffline, Severity: "warning", Terminal: id, Message: "terminal " + id + " went " + string(h.State) + ": " + h.LastError,
				Details: map[string]any{"last_contact": h.LastContact.UTC(), "error": h.LastError}})
		}
		w.online[id] = false
	}
	off := h.Info.ClockOffset
	if !h.Info.ClockRead.IsZero() {
		w.edge("drift:"+id, off > w.MaxDrift || off < -w.MaxDrift, off < w.MaxDrift/2 && off > -w.MaxDrift/2,
			Event{Type: EventClockDrift, Severity: "warning", Terminal: id, Message: fmt.Sprintf("terminal %s's clock is %s off", id, off),
				Details: map[string]any{"offset_seconds": off.Seconds()}}, nil)
	}
	if c := h.Info.RecordCap; c > 0 {
		ratio := float64(h.Info.Records) / float64(c)
		w.edge("log:"+id, ratio >= w.LogFull, ratio < w.LogFull-0.05,
			Event{Type: EventLogNearCapacity, Severity: "warning", Terminal: id,
				Message: fmt.Sprintf("terminal %s's log holds %d of %d records", id, h.Info.Records, c),
				Details: map[string]any{"records": h.Info.Records, "capacity": c}}, nil)
	}
}

// edge raises e when a condition begins and, if given, clear when it ends.
func (w *Watcher) edge(key string, bad, good bool, e Event, clear *Event) {
	switch {
	case bad && !w.raised[key]:
		w.raised[key] = true
		w.emit(e)
	case good && w.raised[key]:
		w.raised[key] = false
		if clear != nil {
			w.emit(*clear)
		}
	}
}

func (w *Watcher) emit(e Event) {
	e.Schema, e.Site, e.Box, e.Time = SchemaEvent, w.Link.opts.Site, w.Link.opts.Box, time.Now().UTC()
	e = cleanEvent(e)
	if w.Logger != nil {
		w.Logger.Info("event for central", "type", e.Type, "terminal", e.Terminal, "message", e.Message)
	}
	w.Link.events.Add(e)
}

// cleanEvent clamps what an event carries from terminals and the system:
// bounded, clean strings, and details that JSON can carry (a non-finite
// number or a time beyond year 9999 would not encode).
func cleanEvent(e Event) Event {
	e.Terminal, e.Message = clampString(e.Terminal, maxName), clampString(e.Message, maxMessage)
	if len(e.Details) == 0 {
		return e
	}
	d := make(map[string]any, len(e.Details))
	for k, v := range e.Details {
		switch x := v.(type) {
		case string:
			v = clampString(x, maxMessage)
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
		case time.Time:
			if x = jsonTime(x); x.IsZero() {
				continue
			}
			v = x
		}
		d[clampString(k, maxName)] = v
	}
	e.Details = d
	return e
}
