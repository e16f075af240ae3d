package central

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/store"
)

// status builds the message for the status topic from the box's state now.
func (l *Link) status(ctx context.Context, state, reason string, sess int64) Status {
	var backlog *store.Backlog
	var terminals []string
	var epoch string
	if u, err := l.db.Uplink(ctx); err == nil {
		epoch = u.Epoch
	}
	if state == "online" {
		if b, err := l.db.Backlog(ctx); err == nil {
			backlog = &b
		}
		terminals = []string{}
		for _, h := range l.terms.Healths() {
			terminals = append(terminals, clampString(h.ID, maxName))
		}
	}
	return statusMessage(&l.opts, state, reason, sess, epoch, backlog, terminals, time.Now())
}

// statusMessage builds a status message.
func statusMessage(o *Options, state, reason string, sess int64, epoch string, b *store.Backlog, terminals []string, now time.Time) Status {
	s := Status{Schema: SchemaStatus, Site: o.Site, Box: o.Box, State: state, Reason: reason, Session: max(sess, 1), Epoch: epoch,
		Version: clampString(o.Version, maxText), Started: jsonTime(o.Started), Time: jsonTime(now), Terminals: terminals}
	if b != nil {
		// Counts and ages never below 0: a clock set back makes the
		// oldest punch younger than now.
		s.Backlog = &BacklogInfo{Pending: nonNegative(b.Pending), AgeSeconds: nonNegative(b.Age(now).Seconds()),
			DeliveredSeq: nonNegative(b.DeliveredSeq), LastSeq: nonNegative(b.LastSeq)}
	}
	return s
}

// refreshStatus republishes the retained status every minute, so central
// sees the backlog move.
func (l *Link) refreshStatus(ctx context.Context, client mqtt.Client, sess int64) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := l.publishWait(ctx, client, "status", true, mustJSON(l.status(ctx, "online", "", sess))); err != nil && ctx.Err() == nil {
				return err
			}
		}
	}
}

// publishTerminals keeps the retained terminals/<id>/status up to date:
// all of them on connect, then each one whose state or identity changes.
// A terminal that goes away gets its retained status cleared.
func (l *Link) publishTerminals(ctx context.Context, client mqtt.Client) error {
	watch, stop := l.terms.Watch()
	defer stop()
	sent := map[string]string{} // id → fingerprint of what was sent
	for {
		seen := map[string]bool{}
		for _, h := range l.terms.Healths() {
			seen[h.ID] = true
			fp := fingerprint(h)
			if sent[h.ID] == fp {
				continue
			}
			msg, ok := terminalStatus(l.opts.Site, l.opts.Box, h, time.Now())
			if !ok {
				l.rlog.Log(ctx, slog.LevelWarn, "kind:"+h.Kind, "not publishing the status of a terminal of a kind the MQTT contract does not know",
					"terminal", h.ID, "kind", clampString(h.Kind, maxName))
				sent[h.ID] = fp
				continue
			}
			if err := l.publishWait(ctx, client, "terminals/"+h.ID+"/status", true, mustJSON(msg)); err != nil {
				return nilIfDone(ctx, err)
			}
			sent[h.ID] = fp
		}
		for id := range sent {
			if !seen[id] {
				if err := l.publishWait(ctx, client, "terminals/"+id+"/status", true, nil); err != nil {
					return nilIfDone(ctx, err)
				}
				delete(sent, id)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-watch:
			// Let a burst of changes settle into one message.
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// fingerprint is what, in a terminal's health, is worth a message: not
// every contact, but state, errors and identity.
func fingerprint(h drivers.Health) string {
	i := h.Info
	i.ClockRead = time.Time{}
	b, _ := json.Marshal(struct {
		S     drivers.State
		Since time.Time
		E     string
		I     drivers.Info
	}{h.State, h.Since, h.LastError, i})
	return string(b)
}

// publishEvents sends what the event watcher queued, oldest first; an
// event leaves the queue only once the broker acknowledged it.
func (l *Link) publishEvents(ctx context.Context, client mqtt.Client) error {
	for {
		ready := l.events.ready()
		for {
			e, ok := l.events.peek()
			if !ok {
				break
			}
			if err := l.publishWait(ctx, client, "events", false, mustJSON(e)); err != nil {
				return nilIfDone(ctx, err)
			}
			l.events.pop()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ready:
		}
	}
}

func nilIfDone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
