package zkpull

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/drivers/driverstest"
	"github.com/punchbox/punchbox/drivers/zksim/hostile"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/protocol/zk"
)

// Events from a hostile terminal: bounded, counted, and never a flood of
// log lines.

// queued is the payload the client holds in queued events.
func queued(c *Client) (events, bytes int) {
	for _, p := range c.events {
		bytes += len(p.Data)
	}
	return len(c.events), bytes
}

// Event frames sent before the answer to CONNECT are never kept: frames
// longer than any a terminal sends end the link at once, with a clear
// error; smaller ones are dropped and counted.
func TestHostile_EventsBeforeConnect(t *testing.T) {
	ctx := context.Background()
	t.Run("1 MiB frames", func(t *testing.T) {
		// Just under the codec's 1 MiB frame limit: what the box used to
		// queue, 64 of them here, a thousand in the field.
		h := startHostile(t, hostile.Config{PreConnect: 64, PreConnectSize: 1<<20 - 2*zk.HeaderLen})
		c, err := Dial(ctx, "tcp", h.Addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if n := allocated(func() { err = c.Connect(ctx, 0) }); n > 16<<20 {
			t.Errorf("connect allocated %d bytes", n)
		}
		if !errors.Is(err, zk.ErrFrameTooLarge) || !strings.Contains(err.Error(), "the limit is 131072") {
			t.Errorf("connect: %v; want a frame over the limit", err)
		}
		if n, _ := queued(c); n != 0 {
			t.Errorf("%d events queued", n)
		}
	})
	for _, tr := range transports {
		t.Run("512 events of 60 KiB "+tr, func(t *testing.T) {
			h := startHostile(t, hostile.Config{PreConnect: 512, PreConnectSize: 60 << 10})
			c, err := Dial(ctx, tr, h.Addr(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if n := allocated(func() { err = c.Connect(ctx, 0) }); n > 16<<20 {
				t.Errorf("connect allocated %d bytes", n)
			}
			if err != nil {
				t.Fatal(err)
			}
			if n, b := queued(c); n != 0 {
				t.Errorf("%d events (%d bytes) queued from before the session", n, b)
			}
			if tr == "tcp" && c.Dropped() != 512 {
				t.Errorf("%d events dropped, want 512", c.Dropped())
			}
		})
	}
}

// Events that arrive while a reply is awaited are kept within bounds,
// however many come and however large they are.
func TestHostile_EventQueueBounded(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	flood := []hostile.Event{hostile.UIDPunch(1, now), hostile.BigEvent(60 << 10), hostile.UIDPunch(2, now), hostile.BigEvent(200)}
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			h := startHostile(t, hostile.Config{
				Sizes: zk.Sizes{Records: 20000, RecordCap: 100000}, Log: hostile.Log40(20000, now.AddDate(0, -1, 0)),
				Flood: flood, FloodCount: 4000,
			})
			c := dialHostile(t, h.Addr(), tr)
			if err := c.RegisterEvents(ctx, uint32(zk.EventAttLog)); err != nil {
				t.Fatal(err)
			}
			eventually.True(t, "the flood under way", func() bool { return h.Stats().EventsSent > 200 })
			if _, _, err := c.ReadAttendance(ctx, 20000); err != nil {
				t.Fatal(err)
			}
			n, b := queued(c)
			if n > maxQueuedEvents || b > maxQueuedEventBytes {
				t.Errorf("%d events of %d bytes queued; the bounds are %d and %d", n, b, maxQueuedEvents, maxQueuedEventBytes)
			}
			if c.Dropped() == 0 {
				t.Error("nothing dropped: the test proves nothing")
			}
		})
	}
}

// The driver meets a terminal that sends 60 KiB events before and after
// connecting: it connects, counts what it drops, logs it without flooding,
// and reads the log.
func TestHostile_ManyEventsStaysOnline(t *testing.T) {
	now := time.Now().UTC()
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			h := startHostile(t, hostile.Config{
				PreConnect: 256, PreConnectSize: 60 << 10,
				Sizes: zk.Sizes{Records: 100, RecordCap: 100000}, Log: hostile.Log40(100, now.AddDate(0, 0, -1)),
				Flood: []hostile.Event{hostile.BigEvent(60 << 10)}, FloodCount: 2000,
			})
			logged := newLines()
			sink := &driverstest.Sink{}
			r := run(t, hostileTerminal(t, h.Addr(), map[string]any{"transport": tr, "poll_interval": "1s"}, drivers.Deps{Sink: sink, Logger: slog.New(logged)}))
			eventually.True(t, "the log read", func() bool { return sink.Len() == 100 })
			eventually.True(t, "drops counted and reported", func() bool { return r.report.LastInfo().DroppedEvents >= 256 })
			if st := h.Stats(); st.Connections != 1 {
				t.Errorf("%d connections", st.Connections)
			}
			if n := logged.count(slog.LevelWarn, ""); n > 4 {
				t.Errorf("%d lines at Warn or above for %d dropped events", n, r.report.LastInfo().DroppedEvents)
			}
		})
	}
}

// A terminal that floods malformed live punches, garbage punches and
// alarms costs a few log lines, not one per event: the first of each kind
// at Warn, repeats at Debug, one summary per kind at the end of the
// session. Every event is acknowledged and counted.
func TestHostile_FloodDoesNotFloodTheLog(t *testing.T) {
	now := time.Now().UTC()
	flood := []hostile.Event{hostile.MalformedPunch(), hostile.Alarm(zk.AlarmTamper), hostile.GarbagePunch(), hostile.FuturePunch("1001"), hostile.Alarm(0x99)}
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			const n = 5000
			cfg := hostile.Config{
				Sizes: zk.Sizes{Records: 10, RecordCap: 1000}, Log: hostile.Log40(10, now.AddDate(0, 0, -1)),
				Flood: flood, FloodCount: n, FloodOn: zk.CmdEnableDevice, // once the first read is done
			}
			if tr == "udp" {
				cfg.FloodEvery = 100 * time.Microsecond // so that the kernel drops less of it
			}
			h := startHostile(t, cfg)
			logged := newLines()
			sink := &driverstest.Sink{}
			r := run(t, hostileTerminal(t, h.Addr(), map[string]any{"transport": tr, "poll_interval": "1h"}, drivers.Deps{Sink: sink, Logger: slog.New(logged)}))
			tally := func() (malformed, dropped int) {
				r.term.mu.Lock()
				defer r.term.mu.Unlock()
				return r.term.tally.malformed, r.term.tally.dropped
			}
			if tr == "tcp" {
				// TCP loses nothing: every event is handled and acknowledged,
				// or dropped while the driver awaits a reply beyond the
				// queue's bound (the terminal would send it again).
				eventually.OK(t, func() string {
					_, dropped := tally()
					if st := h.Stats(); st.Acks+dropped < n {
						return fmt.Sprintf("the flood handled: %d of %d sent acknowledged, %d dropped; want %d", st.Acks, st.EventsSent, dropped, n)
					}
					return ""
				})
			} else {
				// UDP may lose events on the way, and acknowledgements on the
				// way back: count what the driver saw, three in five of the
				// flood malformed, until a tenth of it is in.
				eventually.True(t, "a tenth of the flood handled", func() bool {
					malformed, dropped := tally()
					return malformed+dropped >= n/10*3/5
				})
			}
			if sink.Len() != 10 {
				t.Errorf("%d punches stored, want the log's 10: a garbage live punch was stored", sink.Len())
			}
			r.stop(t)
			malformed, dropped := tally()
			// Kinds: malformed live punch, unusable live punch, two alarms,
			// dropped events; each at most its first line and its summary
			// at the end of the session (and one a minute while it lasts).
			if warn := logged.count(slog.LevelWarn, ""); warn > 12 {
				t.Errorf("%d lines at Warn or above for %d events", warn, malformed+dropped)
			}
			if got := logged.count(slog.LevelWarn, "malformed live punch: "); got != 1 {
				t.Errorf("%d summaries of malformed live punches at the end of the session, want 1", got)
			}
			if acks := h.Stats().Acks; tr == "tcp" && (malformed < acks/5 || malformed > acks) {
				t.Errorf("%d malformed events counted for %d acknowledged, three in five of them malformed", malformed, acks)
			}
		})
	}
}

// Events dropped while the session opens are counted with the others.
func TestHostile_DropsBeforeConnectCounted(t *testing.T) {
	h := startHostile(t, hostile.Config{PreConnect: 100, PreConnectSize: 60 << 10, Sizes: zk.Sizes{Records: 0}})
	r := run(t, hostileTerminal(t, h.Addr(), map[string]any{"transport": "tcp"}, drivers.Deps{}))
	eventually.True(t, "the drops reported", func() bool { return r.term.online() && r.report.LastInfo().DroppedEvents == 100 })
}

// Live punches by a UID no user has cost one read of the users between two
// polls, not one per punch.
func TestHostile_UnknownUIDsReadUsersOnce(t *testing.T) {
	now := time.Now().UTC()
	h := startHostile(t, hostile.Config{
		Sizes: zk.Sizes{Users: 10, Records: 0}, Users: tenUsers(),
		Flood: []hostile.Event{hostile.UIDPunch(77, now), hostile.UIDPunch(1, now)}, FloodCount: 300, FloodOn: zk.CmdEnableDevice,
	})
	sink := &driverstest.Sink{}
	r := run(t, hostileTerminal(t, h.Addr(), map[string]any{"poll_interval": "1h"}, drivers.Deps{Sink: sink}))
	eventually.True(t, "the flood handled", func() bool {
		r.term.mu.Lock()
		dropped := r.term.tally.dropped // while the users are read
		r.term.mu.Unlock()
		return h.Stats().Acks+dropped >= 300 && sink.Len() == 2
	})
	if n := h.Stats().Commands[zk.CmdDataWRRQ]; n > 2 {
		t.Errorf("%d datasets prepared (the log once, the users once), want 2", n)
	}
	pins := map[string]bool{}
	for _, p := range sink.Punches() {
		pins[p.PIN] = true
	}
	if !pins["77"] || !pins["1001"] {
		t.Errorf("PINs %v, want 77 (no such user: the number) and 1001", pins)
	}
	r.stop(t)
}

// Alarms of types the protocol does not name share one kind of log line:
// a terminal inventing a new type for each alarm gets no line per type.
func TestHostile_InventedAlarmTypes(t *testing.T) {
	var flood []hostile.Event
	for typ := uint16(0x60); typ < 0xF0; typ++ { // 144 types no terminal names
		flood = append(flood, hostile.Alarm(typ))
	}
	h := startHostile(t, hostile.Config{Flood: flood, FloodCount: len(flood), FloodOn: zk.CmdEnableDevice})
	logged := newLines()
	r := run(t, hostileTerminal(t, h.Addr(), map[string]any{"transport": "tcp", "poll_interval": "1h"}, drivers.Deps{Logger: slog.New(logged)}))
	eventually.True(t, "the alarms acknowledged", func() bool { return h.Stats().Acks >= len(flood) })
	r.stop(t)
	if n := logged.count(slog.LevelWarn, "terminal alarm"); n > 2 {
		t.Errorf("%d lines at Warn for %d alarms of %d types, want the first and a summary", n, len(flood), len(flood))
	}
}
