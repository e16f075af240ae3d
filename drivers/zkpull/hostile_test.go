package zkpull

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/drivers/driverstest"
	"github.com/punchbox/punchbox/drivers/zksim/hostile"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/protocol/zk"
)

// The tests of this file meet a terminal that lies (drivers/zksim/hostile)
// over real TCP and UDP sockets.

var transports = []string{"tcp", "udp"}

// startHostile runs a hostile terminal until the test ends.
func startHostile(t testing.TB, cfgs ...hostile.Config) *hostile.Server {
	t.Helper()
	h := hostile.New(testLogger(), cfgs...)
	if err := h.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := eventually.Recv(t, "the hostile terminal stops", done); err != nil {
			t.Error(err)
		}
	})
	return h
}

// hostileTerminal is a driver for the terminal at addr, with its fakes.
func hostileTerminal(t testing.TB, addr string, opts map[string]any, deps drivers.Deps) *Terminal {
	t.Helper()
	if deps.Sink == nil {
		deps.Sink = &driverstest.Sink{}
	}
	if deps.State == nil {
		deps.State = &driverstest.State{}
	}
	if deps.Report == nil {
		deps.Report = &driverstest.Reporter{}
	}
	if deps.Logger == nil {
		deps.Logger = testLogger()
	}
	deps.Zone = time.UTC
	term, err := New(punchbox.Terminal{ID: "gate-a", Kind: punchbox.KindZK, Address: addr, Options: opts, Enabled: true}, deps)
	if err != nil {
		t.Fatal(err)
	}
	return term
}

func dialHostile(t testing.TB, addr, transport string) *Client {
	t.Helper()
	ctx := context.Background()
	c, err := Dial(ctx, transport, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Connect(ctx, 0); err != nil {
		t.Fatal(err)
	}
	return c
}

// allocated runs f and returns how many bytes the process allocated
// meanwhile.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// maxAlloc bounds what reading a lying terminal may allocate: far below
// the 4 GiB it announces, far above what a 1,000-record table needs.
const maxAlloc = 64 << 20

// A terminal that announces a 4 GiB dataset gets a clear error naming the
// size and the bound, and nothing near that size is allocated, however it
// is read: attendance, users, the tail of the log.
func TestHostile_AnnouncedSize(t *testing.T) {
	now := time.Now().UTC()
	h := startHostile(t, hostile.Config{
		Sizes: zk.Sizes{Records: 10, RecordCap: 1000, Users: 2, UserCap: 500},
		Log:   hostile.Log40(10, now.AddDate(0, 0, -1)), Users: hostile.User72(1, "1001", "Ada"),
		AnnounceLog: 0xFFFFFFF0, AnnounceUsers: 0xFFFFFFF0,
	})
	ctx := context.Background()
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			c := dialHostile(t, h.Addr(), tr)
			if _, err := c.Sizes(ctx); err != nil {
				t.Fatal(err)
			}
			for _, read := range []struct {
				name  string
				bound string
				f     func() error
			}{
				{"attendance", "40004", func() error { _, _, err := c.ReadAttendance(ctx, 10); return err }},
				{"users", "36004", func() error { _, _, err := c.ReadUsers(ctx, 2); return err }},
				{"tail of the log", "40004", func() error { _, err := c.ReadAttendanceFrom(ctx, 5, zk.AttSize40); return err }},
			} {
				var err error
				if n := allocated(func() { err = read.f() }); n > maxAlloc {
					t.Errorf("%s: allocated %d bytes", read.name, n)
				}
				if err == nil || !strings.Contains(err.Error(), "4294967280") || !strings.Contains(err.Error(), read.bound) {
					t.Errorf("%s: %v; want an error naming 4294967280 and the bound %s", read.name, err, read.bound)
				}
			}
		})
	}
	t.Run("no capacities reported", func(t *testing.T) {
		h := startHostile(t, hostile.Config{AnnounceLog: 0xFFFFFFF0})
		c := dialHostile(t, h.Addr(), "tcp")
		var err error
		if n := allocated(func() { _, _, err = c.ReadAttendance(ctx, 0) }); n > maxAlloc {
			t.Errorf("allocated %d bytes", n)
		}
		if err == nil || !strings.Contains(err.Error(), "4294967280") {
			t.Errorf("err = %v", err)
		}
	})
}

// The driver meets the same terminal: it refuses the log, says so once,
// and stays online on the same connection; the panel's "read users",
// asked for by several viewers at once, gets the error each time.
func TestHostile_AnnouncedSizeStaysOnline(t *testing.T) {
	now := time.Now().UTC()
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			h := startHostile(t, hostile.Config{
				Sizes: zk.Sizes{Records: 10, RecordCap: 1000, Users: 2, UserCap: 500},
				Log:   hostile.Log40(10, now.AddDate(0, 0, -1)), AnnounceLog: 0xFFFFFFF0, AnnounceUsers: 0xFFFFFFF0,
			})
			logged := newLines()
			r := run(t, hostileTerminal(t, h.Addr(), map[string]any{"transport": tr, "poll_interval": "1s"}, drivers.Deps{Logger: slog.New(logged)}))
			eventually.True(t, "three reads of the log refused", func() bool { return h.Stats().Commands[zk.CmdDataWRRQ] >= 3 })
			eventually.True(t, "the refusal reported", func() bool {
				return strings.Contains(r.report.LastInfo().LogError, "4294967280 bytes announced, over the bound of 40004 bytes")
			})
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = r.term.ReadUsers(context.Background())
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err == nil || !strings.Contains(err.Error(), "4294967280") {
					t.Errorf("ReadUsers %d: %v", i, err)
				}
			}
			if st := h.Stats(); st.Connections != 1 {
				t.Errorf("%d connections: the refused log dropped the link", st.Connections)
			}
			if !r.term.online() {
				t.Error("the terminal is not online")
			}
			if n := logged.count(slog.LevelWarn, "refusing"); n != 1 {
				t.Errorf("the refusal was logged %d times at Warn, want once", n)
			}
		})
	}
}

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
			h := startHostile(t, hostile.Config{
				Sizes: zk.Sizes{Records: 10, RecordCap: 1000}, Log: hostile.Log40(10, now.AddDate(0, 0, -1)),
				Flood: flood, FloodCount: n, FloodOn: zk.CmdEnableDevice, // once the first read is done
			})
			logged := newLines()
			sink := &driverstest.Sink{}
			r := run(t, hostileTerminal(t, h.Addr(), map[string]any{"transport": tr, "poll_interval": "1h"}, drivers.Deps{Sink: sink, Logger: slog.New(logged)}))
			// UDP may lose part of a flood on the way; TCP loses nothing. Of
			// what arrives, events that come while the driver awaits a
			// reply beyond the queue's bound are dropped (the terminal would
			// send them again); the others are handled and acknowledged.
			want := n
			if tr == "udp" {
				want = n / 10
			}
			tally := func() (malformed, dropped int) {
				r.term.mu.Lock()
				defer r.term.mu.Unlock()
				return r.term.tally.malformed, r.term.tally.dropped
			}
			eventually.True(t, "the flood handled", func() bool {
				_, dropped := tally()
				return h.Stats().Acks+dropped >= want
			})
			if sink.Len() != 10 {
				t.Errorf("%d punches stored, want the log's 10: a garbage live punch was stored", sink.Len())
			}
			r.stop(t)
			// Kinds: malformed live punch, unusable live punch, two alarms,
			// dropped events; each at most its first line and its summary
			// at the end of the session (and one a minute while it lasts).
			if warn := logged.count(slog.LevelWarn, ""); warn > 12 {
				t.Errorf("%d lines at Warn or above for %d events", warn, want)
			}
			if got := logged.count(slog.LevelWarn, "malformed live punch: "); got != 1 {
				t.Errorf("%d summaries of malformed live punches at the end of the session, want 1", got)
			}
			malformed, _ := tally()
			acks := h.Stats().Acks
			if malformed < acks/5 || malformed > acks {
				t.Errorf("%d malformed events counted for %d acknowledged, three in five of them malformed", malformed, acks)
			}
		})
	}
}
