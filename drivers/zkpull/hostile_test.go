package zkpull

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

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

// plainSink is a sink that keeps nothing set aside: no RejectKeeper.
type plainSink struct{ s *driverstest.Sink }

func (p plainSink) Put(ctx context.Context, ps []punchbox.Punch) error { return p.s.Put(ctx, ps) }

// reasons returns the reasons of what the sink set aside.
func reasons(rs []drivers.Rejected) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.Reason + "\n")
	}
	return b.String()
}

// One bad record never blocks a terminal: a log with a PIN of control
// characters, times of 0, 0x7FFFFFFF and 0xFFFFFFFF, an erased record and
// a partial record at the end is read, every good record stored, the bad
// ones set aside raw and counted, and the terminal stays online on one
// connection; the records read after it go the same way.
func TestHostile_BadRecords(t *testing.T) {
	now := time.Now().UTC()
	start := now.AddDate(0, -1, 0)
	logA, good, bad := hostile.BadLog(1000, start)
	logA = logA[:len(logA)-7] // the first time, without the partial record
	more := append(hostile.Log40(20, now.AddDate(0, 0, -1)), hostile.Record40(9, "10\x1b\x07", 1, hostile.Packed(now), 0)...)
	logB := append(append(append([]byte(nil), logA...), more...), 0xFF, 0xFF, 0xFF) // and a partial record
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			sink, state := &driverstest.Sink{}, &driverstest.State{}
			logged := newLines()
			hA := startHostile(t, hostile.Config{Sizes: zk.Sizes{Records: good + bad, RecordCap: 100000}, Log: logA})
			deps := drivers.Deps{Sink: sink, State: state, Logger: slog.New(logged)}
			r := run(t, hostileTerminal(t, hA.Addr(), map[string]any{"transport": tr, "poll_interval": "1s"}, deps))
			eventually.True(t, "the good records stored", func() bool { return sink.Len() == good })
			eventually.True(t, "the bad ones set aside", func() bool { return len(sink.Rejected()) == bad })
			eventually.True(t, "three polls more", func() bool { return hA.Stats().Commands[zk.CmdGetFreeSizes] >= 5 })
			if st := hA.Stats(); st.Connections != 1 || !r.term.online() {
				t.Errorf("%d connections, online %v: the terminal flapped", st.Connections, r.term.online())
			}
			eventually.True(t, "the count reported", func() bool { return r.report.LastInfo().RejectedRecords == bad })
			for _, want := range []string{"PIN 31 30 1b 5b 32 4a 07 is not printable ASCII", "time 0 (2000-01-01 00:00:00) is a zeroed record",
				"time 0x7fffffff is erased flash", "time 0xffffffff is erased flash", "PIN ff ff"} {
				if !strings.Contains(reasons(sink.Rejected()), want) {
					t.Errorf("no record set aside for %q:\n%s", want, reasons(sink.Rejected()))
				}
			}
			for _, p := range sink.Punches() {
				if p.Validate() != nil || p.Local.Year < 2026 || p.Local.Year > now.Year() {
					t.Errorf("stored punch %+v", p)
				}
			}
			for _, rj := range sink.Rejected() {
				if rj.TerminalID != "gate-a" || rj.Serial != hostile.DefaultSerial || rj.Source != punchbox.SourcePull || len(rj.Raw) != zk.AttSize40 {
					t.Errorf("set aside %+v", rj)
				}
			}
			r.stop(t)

			// The box restarts; the terminal's log has grown by 20 good
			// records, one bad one and a partial record.
			hB := startHostile(t, hostile.Config{Sizes: zk.Sizes{Records: good + bad + 21, RecordCap: 100000}, Log: logB})
			r = run(t, hostileTerminal(t, hB.Addr(), map[string]any{"transport": tr, "poll_interval": "1s"}, deps))
			eventually.True(t, "the new records", func() bool { return sink.Len() == good+20 && len(sink.Rejected()) == bad+2 })
			eventually.True(t, "the count reported", func() bool { return r.report.LastInfo().RejectedRecords == bad+2 })
			if !strings.Contains(reasons(sink.Rejected()), "a partial record of 3 bytes at the end of the log") {
				t.Errorf("no partial record set aside:\n%s", reasons(sink.Rejected()))
			}
			if n := logged.count(slog.LevelWarn, ""); n > 2 {
				t.Errorf("%d lines at Warn or above", n)
			}
			cur, _ := state.LoadCursor(context.Background(), "gate-a")
			if cur.Records != good+bad+21 || cur.Rejected != bad+1 {
				t.Errorf("cursor %+v", cur)
			}
		})
	}
	t.Run("a sink that keeps nothing set aside", func(t *testing.T) {
		h := startHostile(t, hostile.Config{Sizes: zk.Sizes{Records: good + bad}, Log: logA})
		sink := &driverstest.Sink{}
		r := run(t, hostileTerminal(t, h.Addr(), map[string]any{"clear_log": "stored"}, drivers.Deps{Sink: plainSink{sink}}))
		eventually.True(t, "the count reported", func() bool { return r.report.LastInfo().RejectedRecords == bad && sink.Len() == good })
		eventually.True(t, "a second poll", func() bool { return h.Stats().Commands[zk.CmdGetFreeSizes] >= 2 })
		if n := h.Stats().Commands[zk.CmdClearAttLog]; n != 0 {
			t.Error("a log holding records nobody keeps was cleared")
		}
	})
}

// A log whose length no record form can reconcile with the count the
// terminal reports is refused, with an error naming the length, the count
// and the forms tried, reported once; the terminal stays online.
func TestHostile_CountNoFormFits(t *testing.T) {
	now := time.Now().UTC()
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			h := startHostile(t, hostile.Config{Sizes: zk.Sizes{Records: 7, RecordCap: 100000}, Log: hostile.Log40(100, now.AddDate(0, 0, -3))})
			logged := newLines()
			sink := &driverstest.Sink{}
			r := run(t, hostileTerminal(t, h.Addr(), map[string]any{"transport": tr, "poll_interval": "1s"}, drivers.Deps{Sink: sink, Logger: slog.New(logged)}))
			eventually.True(t, "three reads", func() bool { return h.Stats().Commands[zk.CmdDataWRRQ] >= 3 })
			eventually.True(t, "the refusal reported", func() bool {
				e := r.report.LastInfo().LogError
				return strings.Contains(e, "4000 bytes of attendance, the terminal reports 7 records") && strings.Contains(e, "40-byte: 100 records")
			})
			if st := h.Stats(); st.Connections != 1 || !r.term.online() || sink.Len() != 0 {
				t.Errorf("%d connections, online %v, %d punches", st.Connections, r.term.online(), sink.Len())
			}
			if n := logged.count(slog.LevelWarn, ""); n != 1 {
				t.Errorf("%d lines at Warn or above, want the refusal once", n)
			}
		})
	}
}

// A record dated after the terminal's own clock is garbage, whatever the
// box's clock says: the terminal's clock here is six months behind the
// box's, and a record of July is its future.
func TestHostile_FutureRecords(t *testing.T) {
	clock := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	log := hostile.Log40(10, clock.AddDate(0, 0, -20))
	log = append(log, hostile.Record40(1, "1001", 1, hostile.Packed(clock.Add(8*time.Hour)), 0)...) // within the margin
	log = append(log, hostile.Record40(2, "1002", 1, hostile.Packed(clock.AddDate(0, 1, 0)), 0)...)
	log = append(log, hostile.Record40(3, "1003", 1, hostile.Packed(clock.AddDate(0, 1, 2)), 1)...)
	h := startHostile(t, hostile.Config{Clock: hostile.Wall(clock), Sizes: zk.Sizes{Records: 13}, Log: log})
	sink := &driverstest.Sink{}
	run(t, hostileTerminal(t, h.Addr(), nil, drivers.Deps{Sink: sink}))
	eventually.True(t, "the log read", func() bool { return sink.Len() == 11 && len(sink.Rejected()) == 2 })
	if rs := reasons(sink.Rejected()); strings.Count(rs, "is later than the terminal's clock (2026-06-01T12:00:") != 2 {
		t.Errorf("set aside:\n%s", rs)
	}
}

// tenUsers is ten 72-byte users: Ada, whose name has ESC and BEL, one
// whose PIN has, and eight others.
func tenUsers() []byte {
	b := append(hostile.User72(1, "1001", "Ada\x1b[31m\x07"), hostile.User72(2, "10\x1b\x07", "Eve")...)
	for i := 3; i <= 10; i++ {
		b = append(b, hostile.User72(uint16(i), strconv.Itoa(1000+i), "User "+strconv.Itoa(i))...)
	}
	return b
}

// Identity strings are bounded and clean, counts never negative, however
// the terminal answers; a serial that is nothing once cleaned is refused.
func TestHostile_Identity(t *testing.T) {
	h := startHostile(t, hostile.Config{
		Platform: hostile.Dirty(18 << 10), DeviceName: "gate\x1b[2J\x07\x1b]0;pwned\x07", Firmware: hostile.Dirty(4 << 10),
		Sizes: zk.Sizes{Users: -5, Records: -1, UserCap: -1, RecordCap: -100},
		Users: tenUsers(),
	})
	check := func(t *testing.T, info drivers.Info) {
		t.Helper()
		for name, s := range map[string]string{"platform": info.Platform, "device name": info.DeviceName, "firmware": info.Firmware} {
			if len(s) > drivers.MaxInfoText || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }) || !utf8.ValidString(s) {
				t.Errorf("%s %q", name, s)
			}
		}
		if info.DeviceName != "gate[2J]0;pwned" {
			t.Errorf("device name %q", info.DeviceName)
		}
		if info.Users < 0 || info.Records < 0 || info.UserCap < 0 || info.RecordCap < 0 {
			t.Errorf("negative counts: %+v", info)
		}
	}
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			r := run(t, hostileTerminal(t, h.Addr(), map[string]any{"transport": tr}, drivers.Deps{}))
			eventually.True(t, "online", func() bool { return r.term.online() })
			check(t, r.report.LastInfo())
			info, err := r.term.Probe(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			check(t, info)
			emps, err := r.term.ReadUsers(context.Background())
			if err != nil || len(emps) != 9 || emps[0].PIN != "1001" || emps[0].Name != "Ada[31m" {
				t.Errorf("ReadUsers = %+v, %v; want 9 users, Ada's name cleaned", emps, err)
			}
		})
	}
	t.Run("the client's options", func(t *testing.T) {
		c := dialHostile(t, h.Addr(), "tcp")
		for _, read := range []func() (string, error){
			func() (string, error) { return c.Option(context.Background(), "~Platform") },
			func() (string, error) { return c.Version(context.Background()) },
		} {
			v, err := read()
			if err != nil || len(v) > maxOption || strings.ContainsAny(v, "\x1b\x07") || !utf8.ValidString(v) {
				t.Errorf("%d bytes %q, %v", len(v), v, err)
			}
		}
	})
	t.Run("a serial of control characters", func(t *testing.T) {
		h := startHostile(t, hostile.Config{Serial: "\x1b\x07\x1b\x07"})
		_, err := hostileTerminal(t, h.Addr(), nil, drivers.Deps{}).Probe(context.Background())
		if err == nil || !strings.Contains(err.Error(), "unusable serial number") {
			t.Errorf("Probe = %v", err)
		}
	})
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
