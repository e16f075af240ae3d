package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/drivers"
	_ "github.com/punchbox/punchbox/drivers/zkpull" // kind "zk"
	"github.com/punchbox/punchbox/store"
)

// seedTerminals copies the configuration's terminals into the store on the
// first start; afterwards the store's terminals are what counts.
func seedTerminals(ctx context.Context, db *store.DB, cfg *config.Config, log *slog.Logger) error {
	ts := make([]punchbox.Terminal, 0, len(cfg.Terminals))
	for _, c := range cfg.Terminals {
		ts = append(ts, terminalOf(c))
	}
	seeded, err := db.SeedTerminals(ctx, ts)
	switch {
	case err != nil:
		return err
	case seeded:
		log.Info("seeded terminals from the configuration", "terminals", len(ts))
	case len(ts) > 0:
		log.Debug("terminals in the configuration are not applied: the store holds the terminals since the first start")
	}
	return nil
}

// terminalOf maps a configuration entry to a terminal: the common keys to
// fields, the kind's keys to its options.
func terminalOf(c config.Terminal) punchbox.Terminal {
	t := punchbox.Terminal{ID: c.ID, Name: c.Name, Kind: punchbox.TerminalKind(c.Kind), Address: c.Address, Zone: c.Timezone, Enabled: true}
	if t.Kind == punchbox.KindZK {
		t.Options = map[string]any{"transport": c.Transport, "commkey": c.CommKey}
	}
	return t
}

// startTerminals hands every stored terminal to the supervisor. A terminal
// that cannot be built (say, a kind this build has no driver for) is
// reported and left out; the others run.
func startTerminals(ctx context.Context, db *store.DB, sup *drivers.Supervisor, log *slog.Logger) error {
	ts, err := db.Terminals(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if err := sup.Set(t); err != nil {
			log.Warn("terminal cannot run", "terminal", t.ID, "err", err)
		}
	}
	return nil
}

// healthRecorder persists terminal health when it changes in a way worth
// keeping (state, identity), and otherwise at most every ten minutes, so a
// chatty terminal does not wear the SD card.
type healthRecorder struct {
	db   *store.DB
	log  *slog.Logger
	mu   sync.Mutex
	last map[string]savedHealth
}

type savedHealth struct {
	state  drivers.State
	serial string
	at     time.Time
}

func (r *healthRecorder) record(h drivers.Health) {
	now := time.Now()
	r.mu.Lock()
	prev, ok := r.last[h.ID]
	if ok && prev.state == h.State && prev.serial == h.Info.Serial && now.Sub(prev.at) < 10*time.Minute {
		r.mu.Unlock()
		return
	}
	if r.last == nil {
		r.last = map[string]savedHealth{}
	}
	r.last[h.ID] = savedHealth{state: h.State, serial: h.Info.Serial, at: now}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.db.SaveHealth(ctx, h); err != nil {
		r.log.Debug("save terminal health", "terminal", h.ID, "err", err)
	}
}
