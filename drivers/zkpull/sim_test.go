package zkpull

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/drivers/driverstest"
	"github.com/punchbox/punchbox/drivers/zksim"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/protocol/zk"
)

var t0 = time.Date(2026, 1, 5, 6, 0, 0, 0, time.UTC)

func testLogger() *slog.Logger {
	if os.Getenv("PUNCHBOX_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startSim runs a simulated terminal on a free loopback port until the test
// ends.
func startSim(t testing.TB, cfg zksim.Config, users, records int) *zksim.Sim {
	t.Helper()
	if cfg.Serial == "" {
		cfg.Serial = "SIM" + string(rune('A'+records%26)) + "0001"
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	sim := zksim.New(cfg)
	u := zksim.GenerateUsers(users)
	sim.SetUsers(u)
	if records > 0 {
		sim.AddRecords(zksim.GenerateRecords(u, records, t0, 1)...)
	}
	if err := sim.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("simulator: %v", err)
		}
	})
	return sim
}

// expected returns the punches in the simulator's log by id. Records that
// differ only in verify mode are one punch, as on a real terminal.
func expected(sim *zksim.Sim, serial string) map[string][]zk.Attendance {
	users := map[uint16]string{}
	for _, u := range sim.Users() {
		users[u.UID] = u.UserID
	}
	out := map[string][]zk.Attendance{}
	for _, r := range sim.Records() {
		pin := r.UserID
		if pin == "" {
			pin = users[r.UID]
		}
		id := punchbox.PunchID(serial, pin, punchbox.LocalTime(r.Time), punchbox.PunchState(r.State))
		out[id] = append(out[id], r)
	}
	return out
}

// running is a Terminal driven by a test, with its fakes.
type running struct {
	term   *Terminal
	sink   *driverstest.Sink
	state  *driverstest.State
	report *driverstest.Reporter
	cancel context.CancelFunc
	done   chan error
}

func newTerminal(t testing.TB, sim *zksim.Sim, opts map[string]any, sink *driverstest.Sink, state *driverstest.State) *Terminal {
	t.Helper()
	if sink == nil {
		sink = &driverstest.Sink{}
	}
	if state == nil {
		state = &driverstest.State{}
	}
	cfg := punchbox.Terminal{ID: "gate-a", Kind: punchbox.KindZK, Address: sim.Addr(), Options: opts, Enabled: true}
	term, err := New(cfg, drivers.Deps{Sink: sink, State: state, Logger: testLogger(), Zone: time.UTC, Report: &driverstest.Reporter{}})
	if err != nil {
		t.Fatal(err)
	}
	return term
}

// run starts the terminal's Run in the background.
func run(t testing.TB, term *Terminal) *running {
	t.Helper()
	r := &running{term: term, done: make(chan error, 1)}
	r.sink, _ = term.deps.Sink.(*driverstest.Sink) // nil for other sinks
	r.state, _ = term.deps.State.(*driverstest.State)
	r.report, _ = term.deps.Report.(*driverstest.Reporter)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- term.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and returns its error.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	err := eventually.Recv(t, "Run returns after cancel", r.done)
	r.done <- err
	return err
}

// sameLog checks that the sink holds exactly the simulator's log.
func sameLog(t testing.TB, sink *driverstest.Sink, sim *zksim.Sim, serial string) {
	t.Helper()
	want := expected(sim, serial)
	got := sink.Punches()
	if len(got) != len(want) {
		t.Fatalf("sink holds %d punches, the terminal %d", len(got), len(want))
	}
	for _, p := range got {
		recs, ok := want[p.ID]
		if !ok {
			t.Fatalf("punch %+v is not in the terminal's log", p)
		}
		match := false
		for _, r := range recs {
			match = match || p.Local == punchbox.LocalTime(r.Time) && uint8(p.State) == r.State && uint8(p.Verify) == r.Verify
		}
		if !match || p.TerminalSerial != serial || p.Validate() != nil {
			t.Fatalf("punch %+v differs from records %+v", p, recs)
		}
	}
}

// lines is a slog.Handler that counts what is logged, by level and
// message, and passes it on to the test logger.
type lines struct {
	next slog.Handler
	mu   *sync.Mutex
	n    map[string]int // "WARN message" → lines
}

func newLines() *lines {
	return &lines{next: testLogger().Handler(), mu: &sync.Mutex{}, n: map[string]int{}}
}

func (l *lines) Enabled(context.Context, slog.Level) bool { return true }

func (l *lines) Handle(ctx context.Context, r slog.Record) error {
	l.mu.Lock()
	l.n[r.Level.String()+" "+r.Message]++
	l.mu.Unlock()
	if l.next.Enabled(ctx, r.Level) {
		return l.next.Handle(ctx, r)
	}
	return nil
}

func (l *lines) WithAttrs(as []slog.Attr) slog.Handler {
	return &lines{next: l.next.WithAttrs(as), mu: l.mu, n: l.n}
}

func (l *lines) WithGroup(g string) slog.Handler {
	return &lines{next: l.next.WithGroup(g), mu: l.mu, n: l.n}
}

// count returns the lines logged at level or above whose message starts
// with prefix ("" for all).
func (l *lines) count(level slog.Level, prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for k, v := range l.n {
		lv, msg, _ := strings.Cut(k, " ")
		var got slog.Level
		got.UnmarshalText([]byte(lv))
		if got >= level && strings.HasPrefix(msg, prefix) {
			n += v
		}
	}
	return n
}
