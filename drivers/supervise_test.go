package drivers_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/internal/eventually"
)

// fakeTerminal runs RunFunc; the fake kind builds one per config from the
// package-level table below.
type fakeTerminal struct {
	id      string
	report  drivers.Reporter
	RunFunc func(ctx context.Context, report drivers.Reporter) error
}

func (f *fakeTerminal) ID() string { return f.id }
func (f *fakeTerminal) Run(ctx context.Context) error {
	return f.RunFunc(ctx, f.report)
}

var (
	fakeMu   sync.Mutex
	fakeRuns = map[string]func(ctx context.Context, report drivers.Reporter) error{}
)

const fakeKind punchbox.TerminalKind = "fake-test"

func init() {
	drivers.Register(fakeKind, func(cfg punchbox.Terminal, deps drivers.Deps) (drivers.Terminal, error) {
		var opts struct {
			Speed int `json:"speed"`
		}
		if err := drivers.DecodeOptions(cfg.Options, &opts); err != nil {
			return nil, err
		}
		fakeMu.Lock()
		run := fakeRuns[cfg.ID]
		fakeMu.Unlock()
		if run == nil {
			return nil, errors.New("no fake for " + cfg.ID)
		}
		return &fakeTerminal{id: cfg.ID, report: deps.Report, RunFunc: run}, nil
	})
}

// A kind whose factory crashes, for TestNewRecoversPanic.
func init() {
	drivers.Register("panics-test", func(cfg punchbox.Terminal, deps drivers.Deps) (drivers.Terminal, error) {
		var ids []string
		return nil, errors.New(ids[len(cfg.ID)])
	})
}

func setFake(id string, run func(ctx context.Context, report drivers.Reporter) error) {
	fakeMu.Lock()
	fakeRuns[id] = run
	fakeMu.Unlock()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventually.True(t, what, cond)
}

func TestRegistry(t *testing.T) {
	setFake("a", func(ctx context.Context, _ drivers.Reporter) error { <-ctx.Done(); return nil })
	if _, err := drivers.New(punchbox.Terminal{ID: "a", Kind: "nope"}, drivers.Deps{}); !errors.Is(err, drivers.ErrUnknownKind) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := drivers.New(punchbox.Terminal{ID: "a", Kind: fakeKind, Options: map[string]any{"sped": 1}}, drivers.Deps{}); err == nil || !strings.Contains(err.Error(), `unknown field "sped"`) {
		t.Errorf("unknown option: %v", err)
	}
	if _, err := drivers.New(punchbox.Terminal{ID: "a", Kind: fakeKind, Options: map[string]any{"speed": 3}}, drivers.Deps{}); err != nil {
		t.Errorf("good options: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a kind twice did not panic")
		}
	}()
	drivers.Register(fakeKind, nil)
}

func TestSupervisorReconnects(t *testing.T) {
	var runs atomic.Int32
	setFake("flaky", func(ctx context.Context, r drivers.Reporter) error {
		n := runs.Add(1)
		if n < 3 {
			return errors.New("dial 192.0.2.1:4370: connection refused")
		}
		r.State(drivers.StateOnline, nil)
		r.Info(drivers.Info{Serial: "SN1"})
		<-ctx.Done()
		return nil
	})
	s := drivers.NewSupervisor(drivers.Deps{}, nil)
	s.SetBackoff(drivers.Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond})
	if err := s.Set(punchbox.Terminal{ID: "flaky", Kind: fakeKind, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	waitFor(t, "online", func() bool { h, _ := s.Health("flaky"); return h.State == drivers.StateOnline })
	h, _ := s.Health("flaky")
	if h.Info.Serial != "SN1" || h.LastError == "" || h.Failures != 0 || h.LastContact.IsZero() {
		t.Errorf("health after recovery = %+v", h)
	}
	if runs.Load() != 3 {
		t.Errorf("runs = %d, want 3", runs.Load())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSupervisorPermanentError(t *testing.T) {
	setFake("badkey", func(ctx context.Context, r drivers.Reporter) error {
		return drivers.Permanent(errors.New("terminal refused the comm key"))
	})
	s := drivers.NewSupervisor(drivers.Deps{}, nil)
	s.SetBackoff(drivers.Backoff{Base: time.Millisecond, Max: time.Hour})
	s.Set(punchbox.Terminal{ID: "badkey", Kind: fakeKind, Enabled: true})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, "error state", func() bool { h, _ := s.Health("badkey"); return h.State == drivers.StateError })
	h, _ := s.Health("badkey")
	if h.LastError != "terminal refused the comm key" || time.Until(h.RetryAt) < 50*time.Minute {
		t.Errorf("health = %+v: want the error and a retry at the longest backoff", h)
	}
	cancel()
	<-done // returns although the terminal waits an hour
}

func TestSupervisorSetRemoveWhileRunning(t *testing.T) {
	var stopped atomic.Int32
	for _, id := range []string{"one", "two"} {
		setFake(id, func(ctx context.Context, r drivers.Reporter) error {
			r.State(drivers.StateOnline, nil)
			<-ctx.Done()
			stopped.Add(1)
			return nil
		})
	}
	s := drivers.NewSupervisor(drivers.Deps{}, nil)
	s.Set(punchbox.Terminal{ID: "one", Kind: fakeKind, Enabled: true})
	setFake("off", func(ctx context.Context, r drivers.Reporter) error { t.Error("a disabled terminal ran"); return nil })
	if err := s.Set(punchbox.Terminal{ID: "off", Kind: fakeKind, Enabled: false}); err != nil {
		t.Fatal(err)
	}
	watch, stop := s.Watch()
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	waitFor(t, "one online", func() bool { h, _ := s.Health("one"); return h.State == drivers.StateOnline })
	if err := s.Set(punchbox.Terminal{ID: "two", Kind: fakeKind, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two online", func() bool { h, _ := s.Health("two"); return h.State == drivers.StateOnline })
	select {
	case <-watch:
	default:
		t.Error("no change signalled")
	}
	s.Remove("one")
	if stopped.Load() != 1 {
		t.Errorf("Remove returned before the terminal stopped")
	}
	if _, ok := s.Health("one"); ok {
		t.Error("removed terminal still has health")
	}
	hs := s.Healths()
	if len(hs) != 2 || hs[0].ID != "off" || hs[0].State != drivers.StateDisabled || hs[1].ID != "two" {
		t.Errorf("healths = %+v", hs)
	}
	cancel()
	<-done
	if stopped.Load() != 2 {
		t.Errorf("stopped = %d after Run returned, want 2", stopped.Load())
	}
}

func TestBackoff(t *testing.T) {
	b := drivers.Backoff{Base: time.Second, Max: 5 * time.Minute}
	for n, want := range map[int]time.Duration{0: time.Second, 3: 8 * time.Second, 20: 5 * time.Minute, 100: 5 * time.Minute} {
		for i := 0; i < 50; i++ {
			if d := b.Delay(n); d < want/2 || d > want {
				t.Fatalf("Delay(%d) = %v, want within [%v, %v]", n, d, want/2, want)
			}
		}
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("x")
	err := drivers.Permanent(base)
	if !drivers.IsPermanent(err) || !errors.Is(err, base) || drivers.IsPermanent(base) || drivers.Permanent(nil) != nil {
		t.Fatal("Permanent wrapping")
	}
	if !drivers.IsPermanent(errors.Join(errors.New("y"), err)) {
		t.Error("wrapped permanent not found")
	}
}

// safeBuffer is a log destination for concurrent writers.
type safeBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *safeBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestSupervisorRecoversPanic: a driver that panics (as a terminal's lie
// once made one do, with "makeslice: cap out of range" on 32-bit ARM) is
// that terminal's error: the supervisor keeps running, the other terminals
// stay online, the crashed one is retried with backoff, and its stack is
// logged once however often it crashes.
func TestSupervisorRecoversPanic(t *testing.T) {
	var crashes atomic.Int32
	announced := -1 // a size from outside, trusted
	setFake("crashy", func(ctx context.Context, r drivers.Reporter) error {
		crashes.Add(1)
		r.State(drivers.StateOnline, nil)
		_ = make([]byte, 0, announced)
		return nil
	})
	setFake("steady", func(ctx context.Context, r drivers.Reporter) error {
		r.State(drivers.StateOnline, nil)
		<-ctx.Done()
		return nil
	})
	var logs safeBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := drivers.NewSupervisor(drivers.Deps{}, log)
	s.SetBackoff(drivers.Backoff{Base: time.Millisecond, Max: 4 * time.Millisecond})
	for _, id := range []string{"crashy", "steady"} {
		if err := s.Set(punchbox.Terminal{ID: id, Kind: fakeKind, Enabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	waitFor(t, "three crashes", func() bool { return crashes.Load() >= 3 })
	waitFor(t, "crashy in error", func() bool {
		h, _ := s.Health("crashy")
		return h.State == drivers.StateError
	})
	h, _ := s.Health("crashy")
	if !strings.Contains(h.LastError, "driver crashed") || !strings.Contains(h.LastError, "makeslice") {
		t.Errorf("last error %q: want the crash named", h.LastError)
	}
	if h, _ := s.Health("steady"); h.State != drivers.StateOnline {
		t.Errorf("the other terminal is %s, want online", h.State)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("supervisor: %v", err)
	}
	out := logs.String()
	if n := strings.Count(out, "level=ERROR msg=\"terminal driver crashed"); n != 1 {
		t.Errorf("%d error lines with a stack for %d identical crashes, want 1:\n%s", n, crashes.Load(), out)
	}
	if !strings.Contains(out, "supervise_test.go") {
		t.Error("the logged stack does not show where the driver crashed")
	}
	if n := strings.Count(out, "level=DEBUG msg=\"terminal driver crashed again"); n < 2 {
		t.Errorf("%d debug lines for the repeats, want at least 2", n)
	}
}

// TestNewRecoversPanic: a factory that panics is an error of that terminal.
func TestNewRecoversPanic(t *testing.T) {
	_, err := drivers.New(punchbox.Terminal{ID: "p", Kind: "panics-test"}, drivers.Deps{})
	var pe *drivers.PanicError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "terminal p: crashed: runtime error: index out of range [1] with length 0") {
		t.Fatalf("New = %v, want the crash as an error", err)
	}
}
