package zkpull

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
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

// Records and strings from a hostile terminal: set aside, never punches;
// cleaned and bounded.

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
			// The cursor is saved after the punches are put: wait for it.
			eventually.OK(t, func() string {
				cur, _ := state.LoadCursor(context.Background(), "gate-a")
				if cur.Records != good+bad+21 || cur.Rejected != bad+1 {
					return fmt.Sprintf("cursor %+v, want %d records, %d set aside", cur, good+bad+21, bad+1)
				}
				return ""
			})
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
