package zkpull

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/internal/ratelog"
	"github.com/punchbox/punchbox/protocol/zk"
)

func init() {
	drivers.Register(punchbox.KindZK, func(cfg punchbox.Terminal, deps drivers.Deps) (drivers.Terminal, error) {
		return New(cfg, deps)
	})
}

// Terminal is the driver of one terminal of kind "zk".
type Terminal struct {
	cfg  punchbox.Terminal
	opts Options
	addr string
	loc  *time.Location
	deps drivers.Deps
	log  *slog.Logger
	// rl keeps repeated events (garbage a terminal sends, alarms) to a line
	// per kind per minute at Warn; repeats go to Debug.
	rl *ratelog.Limiter

	cmds chan command // commands for the running session

	mu        sync.Mutex
	client    *Client // the live session's client; nil while offline
	transport string  // the transport that worked last, for "auto"
	cursor    drivers.Cursor
	loaded    bool // cursor loaded from the state store
	looping   bool // the session has started and runs its loop
	tally     tally
	// liveWindow and liveKept bound the live events kept raw: liveKept
	// since liveWindow began, at most liveKeptPerMinute a minute.
	liveWindow time.Time
	liveKept   int
}

// tally is what the driver set aside, kept across sessions for Info.
type tally struct {
	rejected  int    // records of the log set aside, as of the last read
	malformed int    // live events that could not be punches
	dropped   int    // live events dropped unread
	logError  string // why the log is refused; "" when it is read
}

// command is work to run on the live session by its owner goroutine.
type command struct {
	fn   func(ctx context.Context, s *session) error
	done chan error
}

// New returns an idle Terminal for cfg; it does no I/O.
func New(cfg punchbox.Terminal, deps drivers.Deps) (*Terminal, error) {
	var opts Options
	if err := drivers.DecodeOptions(cfg.Options, &opts); err != nil {
		return nil, err
	}
	opts.applyDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	addr, err := Address(cfg.Address)
	if err != nil {
		return nil, err
	}
	loc, err := drivers.Zone(cfg, deps.Zone)
	if err != nil {
		return nil, err
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Sink == nil {
		return nil, errors.New("no sink for punches")
	}
	return &Terminal{cfg: cfg, opts: opts, addr: addr, loc: loc, deps: deps, log: deps.Logger,
		rl: ratelog.New(deps.Logger, ratelog.DefaultInterval, deps.Now), cmds: make(chan command)}, nil
}

// ID implements drivers.Terminal.
func (t *Terminal) ID() string { return t.cfg.ID }

// Run implements drivers.Terminal: one session, from connect until the link
// fails or ctx ends.
func (t *Terminal) Run(ctx context.Context) error {
	// The counts of this session's repeated events, however it ends.
	defer t.rl.Flush(context.WithoutCancel(ctx))
	c, err := t.dial(ctx)
	if err != nil {
		return err
	}
	s := &session{t: t, c: c}
	t.mu.Lock()
	t.client = c
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.client = nil
		t.mu.Unlock()
		s.saveCursor(context.WithoutCancel(ctx))
		c.Close()
	}()
	if err := s.start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	t.mu.Lock()
	t.looping = true
	t.mu.Unlock()
	err = s.loop(ctx)
	t.mu.Lock()
	t.looping = false
	t.mu.Unlock()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// dial connects over the configured transport; "auto" tries the one that
// worked last, then TCP, then UDP.
func (t *Terminal) dial(ctx context.Context) (*Client, error) {
	order := []string{t.opts.Transport}
	if t.opts.Transport == "auto" {
		t.mu.Lock()
		last := t.transport
		t.mu.Unlock()
		order = []string{"tcp", "udp"}
		if last == "udp" {
			order = []string{"udp", "tcp"}
		}
	}
	var errs []error
	for _, tr := range order {
		c, err := t.connect(ctx, tr)
		if err == nil {
			t.mu.Lock()
			t.transport = tr
			t.mu.Unlock()
			return c, nil
		}
		if errors.Is(err, ErrWrongCommKey) || errors.Is(err, ErrNoCommKey) {
			return nil, drivers.Permanent(err)
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func (t *Terminal) connect(ctx context.Context, transport string) (*Client, error) {
	c, err := Dial(ctx, transport, t.addr, t.opts.Timeout.D())
	if err != nil {
		return nil, err
	}
	// From the first packet: a terminal may send events before it answers.
	c.onDrop = func(p zk.Packet, why string) { t.droppedEvent(ctx, p, why) }
	if err := c.Connect(ctx, t.opts.CommKey); err != nil {
		c.conn.Close()
		return nil, fmt.Errorf("connect %s %s: %w", transport, t.addr, err)
	}
	return c, nil
}

// droppedEvent counts an event the client dropped unread and logs it
// rate-limited.
func (t *Terminal) droppedEvent(ctx context.Context, p zk.Packet, why string) {
	t.mu.Lock()
	t.tally.dropped++
	t.mu.Unlock()
	t.rl.Log(ctx, slog.LevelWarn, "dropped event", "dropped a live event unread", "why", why, "code", p.Session, "bytes", len(p.Data))
}

// do runs fn on the live session, waiting for its result.
func (t *Terminal) do(ctx context.Context, fn func(ctx context.Context, s *session) error) error {
	t.mu.Lock()
	c := t.client
	t.mu.Unlock()
	if c == nil {
		return drivers.ErrOffline
	}
	cmd := command{fn: fn, done: make(chan error, 1)}
	select {
	case t.cmds <- cmd:
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(t.opts.Timeout.D() + 2*time.Second):
		// The session is busy (a long read) or just went down.
		return fmt.Errorf("terminal %s busy: %w", t.cfg.ID, drivers.ErrOffline)
	}
	select {
	case err := <-cmd.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// localTime is the wall-clock reading of t in the terminal's zone.
func (t *Terminal) localTime(at time.Time) punchbox.LocalTime {
	return punchbox.LocalTimeOf(at.In(t.loc))
}

var (
	_ drivers.Terminal  = (*Terminal)(nil)
	_ drivers.Commander = (*Terminal)(nil)
	_ drivers.Prober    = (*Terminal)(nil)
)

// cursorRecords returns the log position the cursor holds (for tests and
// status).
func (t *Terminal) cursorRecords() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cursor.Records
}

// online reports whether a session has started and is taking live punches.
func (t *Terminal) online() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.looping
}
