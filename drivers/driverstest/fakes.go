package driverstest

import (
	"context"
	"slices"
	"sync"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
)

// Sink records punches, de-duplicated on id as the store does. PutFunc, if
// set, runs first and can fail a Put (then nothing is recorded).
type Sink struct {
	PutFunc func(ctx context.Context, punches []punchbox.Punch) error

	mu      sync.Mutex
	byID    map[string]punchbox.Punch
	order   []string
	puts    int
	changed chan struct{}

	rejected []drivers.Rejected
}

// Put implements drivers.Sink.
func (s *Sink) Put(ctx context.Context, punches []punchbox.Punch) error {
	if s.PutFunc != nil {
		if err := s.PutFunc(ctx, punches); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[string]punchbox.Punch{}
	}
	s.puts++
	for _, p := range punches {
		if _, dup := s.byID[p.ID]; !dup {
			s.byID[p.ID] = p
			s.order = append(s.order, p.ID)
		}
	}
	if s.changed != nil {
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
	return nil
}

// Punches returns the distinct punches in the order first put.
func (s *Sink) Punches() []punchbox.Punch {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]punchbox.Punch, len(s.order))
	for i, id := range s.order {
		out[i] = s.byID[id]
	}
	return out
}

// Len returns how many distinct punches were put.
func (s *Sink) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.order)
}

// Puts returns how many Put calls succeeded.
func (s *Sink) Puts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puts
}

// Changed returns a channel signalled (coalesced) after every successful Put.
func (s *Sink) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(chan struct{}, 1)
	}
	return s.changed
}

// Has reports whether a punch with id was put.
func (s *Sink) Has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.byID[id]
	return ok
}

// Reject implements drivers.RejectKeeper: it keeps every record, once per
// terminal and raw bytes, as the store does.
func (s *Sink) Reject(_ context.Context, recs []drivers.Rejected) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		if !slices.ContainsFunc(s.rejected, func(o drivers.Rejected) bool {
			return o.TerminalID == r.TerminalID && string(o.Raw) == string(r.Raw)
		}) {
			r.Raw = slices.Clone(r.Raw)
			s.rejected = append(s.rejected, r)
		}
	}
	if s.changed != nil {
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
	return nil
}

// Rejected returns the distinct rejected records, in the order first seen.
func (s *Sink) Rejected() []drivers.Rejected {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rejected)
}

// State is an in-memory drivers.StateStore.
type State struct {
	mu      sync.Mutex
	cursors map[string]drivers.Cursor
}

// LoadCursor implements drivers.StateStore.
func (s *State) LoadCursor(_ context.Context, id string) (drivers.Cursor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cursors[id]
	c.Stamps = cloneMap(c.Stamps)
	return c, nil
}

// SaveCursor implements drivers.StateStore.
func (s *State) SaveCursor(_ context.Context, id string, c drivers.Cursor) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cursors == nil {
		s.cursors = map[string]drivers.Cursor{}
	}
	c.Stamps = cloneMap(c.Stamps)
	s.cursors[id] = c
	return nil
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Reporter records what a terminal reports.
type Reporter struct {
	mu     sync.Mutex
	states []drivers.State
	errs   []error
	info   drivers.Info
}

// State implements drivers.Reporter.
func (r *Reporter) State(s drivers.State, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, s)
	r.errs = append(r.errs, err)
}

// Info implements drivers.Reporter.
func (r *Reporter) Info(i drivers.Info) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.info = i
}

// Contact implements drivers.Reporter.
func (r *Reporter) Contact() {}

// States returns the states reported so far.
func (r *Reporter) States() []drivers.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.states)
}

// LastInfo returns the latest Info reported.
func (r *Reporter) LastInfo() drivers.Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.info
}

var (
	_ drivers.Sink         = (*Sink)(nil)
	_ drivers.RejectKeeper = (*Sink)(nil)
	_ drivers.StateStore   = (*State)(nil)
	_ drivers.Reporter     = (*Reporter)(nil)
)
