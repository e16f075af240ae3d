package drivers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/punchbox/punchbox"
)

// Supervisor runs every terminal in its own goroutine, reconnecting with
// jittered backoff, and keeps each one's Health. Terminals can be set and
// removed while it runs.
type Supervisor struct {
	deps    Deps
	log     *slog.Logger
	backoff Backoff
	// stable is how long a link must have run for the backoff to start over.
	stable time.Duration
	// OnChange, if set, is called (outside any lock) after a terminal's
	// health changes; the store uses it to persist health.
	OnChange func(Health)

	mu       sync.Mutex
	entries  map[string]*entry
	ctx      context.Context // set while Run runs
	wg       sync.WaitGroup
	watchers map[chan struct{}]struct{}
}

type entry struct {
	cfg    punchbox.Terminal
	term   Terminal
	health Health
	cancel context.CancelFunc
	done   chan struct{}
	// logged is the state and error last logged, so that repeats of the
	// same failure go to Debug.
	logged string
	// panicked is the last panic logged with its stack, so that a driver
	// crashing the same way at every attempt logs its stack once.
	panicked string
}

// NewSupervisor returns an idle supervisor building terminals with deps.
func NewSupervisor(deps Deps, log *slog.Logger) *Supervisor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Supervisor{
		deps: deps, log: log, backoff: DefaultBackoff, stable: time.Minute,
		entries: map[string]*entry{}, watchers: map[chan struct{}]struct{}{},
	}
}

// SetBackoff changes the reconnect backoff (tests shorten it).
func (s *Supervisor) SetBackoff(b Backoff) { s.backoff = b }

// Set builds the terminal for cfg and runs it (once Run runs), replacing a
// running terminal with the same id. A disabled terminal is kept, not run.
func (s *Supervisor) Set(cfg punchbox.Terminal) error {
	e := &entry{cfg: cfg, health: Health{ID: cfg.ID, Kind: string(cfg.Kind), State: StateConnecting, Since: s.deps.Now()}}
	deps := s.deps
	deps.Report = &reporter{s: s, e: e}
	t, err := New(cfg, deps)
	if err != nil {
		return err
	}
	e.term = t
	if !cfg.Enabled {
		e.health.State = StateDisabled
	}
	s.Remove(cfg.ID)
	s.mu.Lock()
	s.entries[cfg.ID] = e
	if s.ctx != nil && cfg.Enabled {
		s.start(e)
	}
	s.mu.Unlock()
	s.changed(e)
	return nil
}

// Remove stops a terminal, waits for it, and forgets it.
func (s *Supervisor) Remove(id string) {
	s.mu.Lock()
	e, ok := s.entries[id]
	delete(s.entries, id)
	s.mu.Unlock()
	if ok && e.cancel != nil {
		e.cancel()
		<-e.done
	}
	if ok {
		s.notify()
	}
}

// Terminal returns the running terminal with id, for its optional
// capabilities (Commander, Prober).
func (s *Supervisor) Terminal(id string) (Terminal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok {
		return nil, false
	}
	return e.term, true
}

// Health returns the health of one terminal.
func (s *Supervisor) Health(id string) (Health, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok {
		return Health{}, false
	}
	return e.health, true
}

// Healths returns the health of every terminal, sorted by id.
func (s *Supervisor) Healths() []Health {
	s.mu.Lock()
	out := make([]Health, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, e.health)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Health) int { return cmpString(a.ID, b.ID) })
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Watch returns a channel that receives a signal (coalesced) whenever any
// terminal's health changes, and a function to stop watching.
func (s *Supervisor) Watch() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.watchers[ch] = struct{}{}
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.watchers, ch)
		s.mu.Unlock()
	}
}

// Run runs every enabled terminal until ctx ends, then stops them all and
// waits for them. It returns nil.
func (s *Supervisor) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.ctx != nil {
		s.mu.Unlock()
		return errors.New("drivers: supervisor already running")
	}
	s.ctx = ctx
	for _, e := range s.entries {
		if e.cfg.Enabled {
			s.start(e)
		}
	}
	s.mu.Unlock()
	<-ctx.Done()
	s.wg.Wait()
	s.mu.Lock()
	s.ctx = nil
	s.mu.Unlock()
	return nil
}

// start runs e's loop; s.mu is held.
func (s *Supervisor) start(e *entry) {
	ctx, cancel := context.WithCancel(s.ctx)
	e.cancel, e.done = cancel, make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(e.done)
		s.loop(ctx, e)
	}()
}

// loop runs one terminal until ctx ends, reconnecting with backoff.
func (s *Supervisor) loop(ctx context.Context, e *entry) {
	for attempt := 0; ; attempt++ {
		s.setState(e, StateConnecting, nil, time.Time{})
		began := s.deps.Now()
		err := runGuarded(ctx, e.term)
		var pe *PanicError
		crashed := errors.As(err, &pe)
		if crashed {
			s.logPanic(e, pe)
			err = fmt.Errorf("driver %w", err)
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("link ended without an error")
		}
		if s.deps.Now().Sub(began) >= s.stable && !crashed {
			attempt = 0
		}
		wait := s.backoff.Delay(attempt)
		state := StateOffline
		switch {
		case crashed:
			// A bug, not a link failure: shown as an error, retried with a
			// growing backoff that a crash never resets.
			state = StateError
		case IsPermanent(err):
			state, wait = StateError, s.backoff.Max
		}
		s.setState(e, state, err, s.deps.Now().Add(wait))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// setState records a state change and logs it: a change at Info (online) or
// Warn (offline, error), the same failure again at Debug.
func (s *Supervisor) setState(e *entry, st State, err error, retry time.Time) {
	now := s.deps.Now()
	s.mu.Lock()
	h := &e.health
	prev := h.State
	if h.State != st {
		h.State, h.Since = st, now
	}
	h.RetryAt = retry
	switch st {
	case StateOnline:
		h.Failures, h.LastContact = 0, now
	case StateOffline, StateError:
		h.Failures++
	}
	if err != nil {
		h.LastError, h.LastErrorAt = err.Error(), now
	}
	key := string(st)
	if err != nil {
		key += ": " + err.Error()
	}
	repeat := key == e.logged
	if st != StateConnecting {
		e.logged = key
	}
	failures := h.Failures
	s.mu.Unlock()

	log := s.log.With("terminal", e.cfg.ID)
	switch {
	case st == StateConnecting:
		log.Debug("connecting")
	case repeat:
		log.Debug("terminal still "+string(st), "err", err, "failures", failures, "retry_in", time.Until(retry).Round(time.Second))
	case st == StateOnline:
		log.Info("terminal online", "was", string(prev))
	default:
		log.Warn(fmt.Sprintf("terminal %s", st), "err", err, "retry_in", time.Until(retry).Round(time.Second))
	}
	s.changed(e)
}

func (s *Supervisor) changed(e *entry) {
	s.mu.Lock()
	h := e.health
	s.mu.Unlock()
	if s.OnChange != nil {
		s.OnChange(h)
	}
	s.notify()
}

func (s *Supervisor) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// reporter is the Reporter handed to one terminal.
type reporter struct {
	s *Supervisor
	e *entry
}

func (r *reporter) State(st State, err error) { r.s.setState(r.e, st, err, time.Time{}) }

func (r *reporter) Info(info Info) {
	r.s.mu.Lock()
	r.e.health.Info = info
	r.e.health.LastContact = r.s.deps.Now()
	r.s.mu.Unlock()
	r.s.changed(r.e)
}

func (r *reporter) Contact() {
	r.s.mu.Lock()
	r.e.health.LastContact = r.s.deps.Now()
	r.s.mu.Unlock()
}
