package zkpull

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/drivers/driverstest"
	"github.com/punchbox/punchbox/drivers/zksim"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/protocol/zk"
)

func TestReadWholeLog(t *testing.T) {
	tests := []struct {
		name      string
		transport string
		size      int
		records   int
	}{
		{"tcp 40-byte", "tcp", zk.AttSize40, 100_000},
		{"udp 40-byte", "udp", zk.AttSize40, 100_000},
		{"tcp 16-byte", "tcp", zk.AttSize16, 20_000},
		{"udp 16-byte", "udp", zk.AttSize16, 20_000},
		{"tcp 8-byte", "tcp", zk.AttSize8, 20_000},
		{"udp 8-byte", "udp", zk.AttSize8, 5_000},
		{"small log sent inline", "tcp", zk.AttSize40, 12},
		{"empty log", "auto", zk.AttSize40, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := startSim(t, zksim.Config{Serial: "CQUJ203160123", RecordSize: tt.size}, 50, tt.records)
			r := run(t, newTerminal(t, sim, map[string]any{"transport": tt.transport}, nil, nil))
			eventually.True(t, "the whole log", func() bool {
				return r.term.online() && r.sink.Len() == tt.records && r.term.cursorRecords() == tt.records
			})
			sameLog(t, r.sink, sim, "CQUJ203160123")
			info := r.report.LastInfo()
			if info.Serial != "CQUJ203160123" || info.Records != tt.records || (tt.transport != "auto" && info.Transport != tt.transport) {
				t.Errorf("info = %+v", info)
			}
			st := sim.Stats()
			if st.LastDisableTimeout != 120 {
				t.Errorf("DISABLEDEVICE timeout = %d s, want 120", st.LastDisableTimeout)
			}
			eventually.True(t, "terminal enabled again", func() bool { return !sim.Disabled() })
		})
	}
}

func TestCommKey(t *testing.T) {
	sim := startSim(t, zksim.Config{CommKey: 123456}, 5, 20)
	t.Run("right key", func(t *testing.T) {
		r := run(t, newTerminal(t, sim, map[string]any{"commkey": 123456}, nil, nil))
		eventually.True(t, "the log", func() bool { return r.sink.Len() == 20 })
	})
	for _, tt := range []struct {
		name string
		key  int
		want error
	}{
		{"wrong key", 654321, ErrWrongCommKey},
		{"no key configured", 0, ErrNoCommKey},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, tr := range []string{"tcp", "udp"} {
				term := newTerminal(t, sim, map[string]any{"commkey": tt.key, "transport": tr}, nil, nil)
				err := term.Run(context.Background())
				if !errors.Is(err, tt.want) || !drivers.IsPermanent(err) {
					t.Fatalf("%s: Run = %v, want a permanent %v", tr, err, tt.want)
				}
			}
		})
	}
	if msg := ErrWrongCommKey.Error(); !strings.Contains(msg, "wrong comm key") {
		t.Errorf("message %q", msg)
	}
}

func TestLivePunches(t *testing.T) {
	for _, tr := range []string{"tcp", "udp"} {
		t.Run(tr, func(t *testing.T) {
			sim := startSim(t, zksim.Config{Serial: "LIVE0001"}, 10, 100)
			r := run(t, newTerminal(t, sim, map[string]any{"transport": tr, "poll_interval": "1h"}, nil, nil))
			eventually.True(t, "initial read", func() bool { return r.term.online() && r.sink.Len() == 100 })
			for i := 0; i < 20; i++ { // 20 distinct punches, even within one second
				if _, ok := sim.Punch(fmt.Sprint(1001+i%10), uint8(i/10), 1); !ok {
					t.Fatal("terminal refused a punch")
				}
			}
			eventually.True(t, "live punches", func() bool { return r.sink.Len() == 120 })
			eventually.True(t, "acks", func() bool { return sim.Stats().PendingEvents == 0 })
			sameLog(t, r.sink, sim, "LIVE0001")
			live := 0
			for _, p := range r.sink.Punches() {
				if p.Source == punchbox.SourceLive {
					live++
				}
			}
			if live != 20 {
				t.Errorf("%d punches came live, want 20", live)
			}
			// The cursor follows live punches, so a poll finds nothing to
			// read. It moves after the ack the simulator saw: wait for it.
			eventually.True(t, "the cursor at 120 records", func() bool { return r.term.cursorRecords() == 120 })
		})
	}
}

// Events that arrive while a bulk transfer is under way are kept, and
// handled (stored, then acknowledged) once it is done.
func TestEventsDuringBulkRead(t *testing.T) {
	sim := startSim(t, zksim.Config{Serial: "BULK0001", Pacing: zksim.PacingFirmware, ResendEvery: 10 * time.Millisecond}, 10, 100_000)
	ctx := context.Background()
	c, err := Dial(ctx, "tcp", sim.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Connect(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.RegisterEvents(ctx, uint32(zk.EventAttLog)); err != nil {
		t.Fatal(err)
	}
	var made []zk.Attendance
	for i := 0; i < 3; i++ {
		a, ok := sim.Punch("1003", 0, 1)
		if !ok {
			t.Fatal("punch refused")
		}
		made = append(made, a)
	}
	// Unacknowledged, the events are re-sent every 10 ms throughout the read.
	recs, size, err := c.ReadAttendance(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if size != zk.AttSize40 || len(recs) != 100_003 {
		t.Fatalf("read %d records of %d bytes", len(recs), size)
	}
	if sim.Stats().EventsResent == 0 {
		t.Fatal("no event was re-sent during the read: the test proves nothing")
	}
	seen := map[zk.Time]bool{}
	for {
		ev, ok, err := c.NextEvent(ctx, 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		e, err := zk.ParseAttLogEvent(ev.Data)
		if err != nil {
			t.Fatal(err)
		}
		seen[e.Time] = true
		if err := c.AckEvent(ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range made {
		if !seen[a.Time] {
			t.Errorf("event for the punch at %v never surfaced", a.Time)
		}
	}
	eventually.True(t, "acks", func() bool { return sim.Stats().PendingEvents == 0 })
}

// A punch generator runs while the driver reads a large log: every punch in
// the terminal ends up stored exactly once.
func TestPunchesWhileReading(t *testing.T) {
	sim := startSim(t, zksim.Config{Serial: "BUSY0001", Pacing: zksim.PacingFirmware}, 30, 50_000)
	ctx, cancel := context.WithCancel(context.Background())
	genDone := make(chan error, 1)
	go func() { genDone <- sim.RunPunches(ctx, 200, 7) }()
	r := run(t, newTerminal(t, sim, map[string]any{"poll_interval": "1s"}, nil, nil))
	eventually.True(t, "first read", func() bool { return r.sink.Len() >= 50_000 })
	if _, err := r.term.PullNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Punches go on after the pull, live.
	n := len(sim.Records())
	eventually.True(t, "punches after the pull", func() bool { return len(sim.Records()) >= n+20 })
	cancel()
	<-genDone
	// Random punches may repeat one another within a second; those are one
	// punch (one id), as on a real terminal.
	eventually.True(t, "everything", func() bool { return r.sink.Len() == len(expected(sim, "BUSY0001")) && sim.Stats().PendingEvents == 0 })
	sameLog(t, r.sink, sim, "BUSY0001")
}

func TestDroppedMidTransfer(t *testing.T) {
	for _, f := range []struct {
		name  string
		fault zksim.Fault
	}{
		{"connection dropped", zksim.Fault{Kind: zksim.FaultDrop, After: 5}},
		{"byte corrupted", zksim.Fault{Kind: zksim.FaultCorrupt, After: 3}},
	} {
		for _, tr := range []string{"tcp", "udp"} {
			t.Run(f.name+" "+tr, func(t *testing.T) {
				sim := startSim(t, zksim.Config{Serial: "DROP0001"}, 20, 30_000)
				sim.InjectFault(f.fault)
				var puts atomic.Int32
				sink := &driverstest.Sink{PutFunc: func(context.Context, []punchbox.Punch) error { puts.Add(1); return nil }}
				sup := drivers.NewSupervisor(drivers.Deps{Sink: sink, State: &driverstest.State{}, Logger: testLogger(), Zone: time.UTC}, testLogger())
				sup.SetBackoff(drivers.Backoff{Base: time.Millisecond, Max: 10 * time.Millisecond})
				err := sup.Set(punchbox.Terminal{ID: "gate-a", Kind: punchbox.KindZK, Address: sim.Addr(), Enabled: true,
					Options: map[string]any{"transport": tr, "timeout": "1s"}})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- sup.Run(ctx) }()
				defer func() { cancel(); <-done }()
				eventually.True(t, "the whole log", func() bool { return sink.Len() == 30_000 })
				sameLog(t, sink, sim, "DROP0001")
				// Punches are put only after the whole transfer arrived intact:
				// exactly the 6 batches of the pass that succeeded.
				if n := puts.Load(); n != 6 {
					t.Errorf("%d puts, want 6: something was stored from a broken transfer", n)
				}
				h, _ := sup.Health("gate-a")
				if tr == "tcp" && (h.LastError == "" || h.State != drivers.StateOnline) {
					t.Errorf("health = %+v: want online again after a failed pass", h)
				}
			})
		}
	}
}

// The terminal re-sends an event until it is acknowledged; however often it
// arrives, it is stored once.
func TestResentEventsStoredOnce(t *testing.T) {
	sim := startSim(t, zksim.Config{Serial: "RSND0001", ResendEvery: 5 * time.Millisecond}, 5, 0)
	var puts atomic.Int32
	sink := &driverstest.Sink{PutFunc: func(context.Context, []punchbox.Punch) error {
		if puts.Add(1) == 1 {
			// A slow first commit: it ends once the terminal has re-sent
			// an event it waits for, so that the copy reaches the driver.
			resent(sim)
		}
		return nil
	}}
	r := run(t, newTerminal(t, sim, map[string]any{"poll_interval": "1h"}, sink, nil))
	eventually.True(t, "online", func() bool { return r.term.online() })
	for i := 0; i < 5; i++ {
		sim.Punch("1001", uint8(i), 1) // five states: five distinct punches
	}
	eventually.True(t, "acks", func() bool { return sim.Stats().PendingEvents == 0 && sink.Len() == 5 })
	if sim.Stats().EventsResent == 0 {
		t.Fatal("no event was re-sent: the test proves nothing")
	}
	if n := puts.Load(); n <= 5 {
		t.Errorf("%d puts for 5 punches: no re-sent copy reached the driver", n)
	}
	sameLog(t, r.sink, sim, "RSND0001")
	// A re-sent copy is no new record of the terminal's log. The cursor
	// moves after the ack: wait for 5, then make sure it went no further.
	eventually.True(t, "the cursor at 5 records", func() bool { return r.term.cursorRecords() >= 5 })
	if got := r.term.cursorRecords(); got != 5 {
		t.Errorf("cursor at %d records, want 5", got)
	}
}

// resent waits, as a slow commit would, until sim has re-sent an event
// for want of an acknowledgement (or the test is hung).
func resent(sim *zksim.Sim) {
	hung := time.After(eventually.Hung)
	for sim.Stats().EventsResent == 0 {
		select {
		case <-sim.Changed():
		case <-hung:
			return
		}
	}
}

// Punches made while the box was away are back-filled on reconnect by
// reading only the new part of the log.
func TestBackfillAfterDisconnect(t *testing.T) {
	sim := startSim(t, zksim.Config{Serial: "BACK0001"}, 10, 40_000)
	state := &driverstest.State{}
	sink := &driverstest.Sink{}
	r := run(t, newTerminal(t, sim, nil, sink, state))
	eventually.True(t, "first read", func() bool { return r.term.online() && sink.Len() == 40_000 })
	r.stop(t)
	cur, _ := state.LoadCursor(context.Background(), "gate-a")
	if cur.Records != 40_000 || cur.RecordSize != zk.AttSize40 || cur.Serial != "BACK0001" || cur.LastID == "" {
		t.Fatalf("saved cursor = %+v", cur)
	}
	for i := 0; i < 25; i++ {
		sim.Punch(fmt.Sprint(1001+i%10), uint8(i/10), 1)
	}
	before := sim.Stats().DataPackets
	// A new process: a fresh Terminal with the same saved cursor.
	r2 := run(t, newTerminal(t, sim, nil, sink, state))
	eventually.True(t, "back-fill", func() bool { return sink.Len() == 40_025 })
	sameLog(t, r2.sink, sim, "BACK0001")
	if sent := sim.Stats().DataPackets - before; sent > 2 {
		t.Errorf("back-fill sent %d DATA packets: the whole log was read again", sent)
	}
}

// A log cleared (or rewritten) behind the box's back is read whole.
func TestLogClearedElsewhere(t *testing.T) {
	sim := startSim(t, zksim.Config{Serial: "CLR00001"}, 10, 300)
	state := &driverstest.State{}
	sink := &driverstest.Sink{}
	r := run(t, newTerminal(t, sim, nil, sink, state))
	eventually.True(t, "first read", func() bool { return r.term.online() && sink.Len() == 300 })
	r.stop(t)
	// Someone clears the log at the terminal's menu, and new punches follow.
	c, err := Dial(context.Background(), "tcp", sim.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if err := c.ClearAttendance(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Close()
	recs := zksim.GenerateRecords(sim.Users(), 500, t0.AddDate(0, 1, 0), 9)
	sim.AddRecords(recs...)
	r2 := run(t, newTerminal(t, sim, nil, sink, state))
	// The cursor moves once the punches are stored: wait for both.
	eventually.OK(t, func() string {
		if n, c := sink.Len(), r2.term.cursorRecords(); n != 800 || c != 500 {
			return fmt.Sprintf("%d punches stored, cursor at %d; want 800 and 500", n, c)
		}
		return ""
	})
}

func TestClockAndCommands(t *testing.T) {
	sim := startSim(t, zksim.Config{Serial: "CMD00001", ClockOffset: 90 * time.Second}, 3, 10)
	r := run(t, newTerminal(t, sim, map[string]any{"poll_interval": "1h"}, nil, nil))
	eventually.True(t, "online", func() bool { return r.term.online() && r.sink.Len() == 10 })
	if off := r.report.LastInfo().ClockOffset; off < 88*time.Second || off > 92*time.Second {
		t.Errorf("clock offset = %v, want about 90s", off)
	}
	ctx := context.Background()
	if err := r.term.SetTime(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if off := r.report.LastInfo().ClockOffset; off < -2*time.Second || off > 2*time.Second {
		t.Errorf("offset after SetTime = %v", off)
	}
	users, err := r.term.ReadUsers(ctx)
	if err != nil || len(users) != 3 || users[0].PIN != "1001" || users[0].Privilege != punchbox.PrivilegeAdmin {
		t.Fatalf("ReadUsers = %+v, %v", users, err)
	}
	err = r.term.WriteUsers(ctx, []punchbox.Employee{
		{PIN: "1002", Name: "Grace Hopper", Card: "4242"},
		{PIN: "2001", Name: "New Hire", Privilege: punchbox.PrivilegeEnroller},
	})
	if err != nil {
		t.Fatal(err)
	}
	users, err = r.term.ReadUsers(ctx)
	if err != nil || len(users) != 4 {
		t.Fatalf("after write: %+v, %v", users, err)
	}
	byPIN := map[string]punchbox.Employee{}
	for _, u := range users {
		byPIN[u.PIN] = u
	}
	if u := byPIN["1002"]; u.Name != "Grace Hopper" || u.Card != "4242" {
		t.Errorf("updated user = %+v", u)
	}
	if u := byPIN["2001"]; u.Name != "New Hire" || u.Privilege != punchbox.PrivilegeEnroller {
		t.Errorf("new user = %+v", u)
	}
	sim.AddRecords(zksim.GenerateRecords(sim.Users(), 5, t0.AddDate(0, 1, 0), 3)...) // in the past of the terminal's clock
	res, err := r.term.PullNow(ctx)
	if err != nil || res.Read != 15 || r.sink.Len() != 15 {
		t.Errorf("PullNow = %+v, %v; sink %d", res, err, r.sink.Len())
	}
	info, err := r.term.Probe(ctx)
	if err != nil || info.Serial != "CMD00001" || info.Records != 15 {
		t.Errorf("Probe = %+v, %v", info, err)
	}
	r.stop(t)
	if err := r.term.SetTime(ctx, time.Now()); !errors.Is(err, drivers.ErrOffline) {
		t.Errorf("SetTime while offline = %v", err)
	}
}

func TestClearLogPolicy(t *testing.T) {
	t.Run("never by default", func(t *testing.T) {
		sim := startSim(t, zksim.Config{}, 5, 50)
		r := run(t, newTerminal(t, sim, nil, nil, nil))
		eventually.True(t, "read", func() bool { return r.sink.Len() == 50 })
		if sim.Stats().Commands[zk.CmdClearAttLog] != 0 || len(sim.Records()) != 50 {
			t.Fatal("log cleared without a policy")
		}
	})
	t.Run("stored", func(t *testing.T) {
		sim := startSim(t, zksim.Config{}, 5, 50)
		r := run(t, newTerminal(t, sim, map[string]any{"clear_log": "stored"}, nil, nil))
		eventually.True(t, "cleared", func() bool { return r.sink.Len() == 50 && len(sim.Records()) == 0 })
	})
	t.Run("delivered waits for delivery", func(t *testing.T) {
		sim := startSim(t, zksim.Config{}, 5, 50)
		var delivered atomic.Bool
		sink := &deliverySink{Sink: &driverstest.Sink{}, delivered: &delivered, asked: new(atomic.Int32)}
		term, err := New(punchbox.Terminal{ID: "gate-a", Kind: punchbox.KindZK, Address: sim.Addr(),
			Options: map[string]any{"clear_log": "delivered", "poll_interval": "1s"}, Enabled: true},
			drivers.Deps{Sink: sink, Logger: testLogger(), Zone: time.UTC})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- term.Run(ctx) }()
		eventually.True(t, "read", func() bool { return sink.Len() == 50 })
		// Two polls asked and heard "not delivered": nothing may be cleared.
		eventually.True(t, "two delivery checks", func() bool { return sink.asked.Load() >= 2 })
		if len(sim.Records()) != 50 {
			t.Fatal("log cleared before delivery")
		}
		delivered.Store(true)
		eventually.True(t, "cleared after delivery", func() bool { return len(sim.Records()) == 0 })
		cancel()
		<-done
	})
}

type deliverySink struct {
	*driverstest.Sink
	delivered *atomic.Bool
	asked     *atomic.Int32 // Delivered calls that answered false
}

func (d *deliverySink) Delivered(ctx context.Context, ids []string) (bool, error) {
	if !d.delivered.Load() {
		d.asked.Add(1)
	}
	for _, id := range ids {
		if !d.Has(id) {
			return false, nil
		}
	}
	return d.delivered.Load(), nil
}

// TestCommandCrash: a command that crashes the driver answers its caller
// with the crash at once, and the crash goes on to whoever runs the
// terminal (the supervisor), as the terminal's error.
func TestCommandCrash(t *testing.T) {
	sim := startSim(t, zksim.Config{Serial: "CRASH001"}, 3, 10)
	term := newTerminal(t, sim, map[string]any{"poll_interval": "1h"}, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- drivers.Guard(func() error { return term.Run(ctx) }) }()
	eventually.True(t, "online", term.online)

	cctx, ccancel := context.WithTimeout(ctx, eventually.Hung)
	defer ccancel()
	err := term.do(cctx, func(ctx context.Context, s *session) error {
		var users []string
		return errors.New(users[s.userSize+1])
	})
	var pe *drivers.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("the caller got %v, want the crash", err)
	}
	if err := eventually.Recv(t, "Run ends", done); !errors.As(err, &pe) || !strings.Contains(err.Error(), "index out of range") {
		t.Fatalf("Run ended with %v, want the crash", err)
	}
}
