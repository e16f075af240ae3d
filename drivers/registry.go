package drivers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/punchbox/punchbox"
)

// Factory builds an idle Terminal from its configuration. It decodes the
// kind's options strictly (DecodeOptions) and validates them; it does no I/O.
type Factory func(cfg punchbox.Terminal, deps Deps) (Terminal, error)

var (
	registryMu sync.RWMutex
	registry   = map[punchbox.TerminalKind]Factory{}
)

// Register makes a driver available for a kind. Drivers call it from init;
// registering a kind twice is a programming error and panics.
func Register(kind punchbox.TerminalKind, f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[kind]; dup {
		panic("drivers: Register called twice for kind " + string(kind))
	}
	registry[kind] = f
}

// Registered lists the kinds with a driver, sorted.
func Registered() []punchbox.TerminalKind {
	registryMu.RLock()
	defer registryMu.RUnlock()
	kinds := make([]punchbox.TerminalKind, 0, len(registry))
	for k := range registry {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

// New builds the Terminal for cfg with the driver of its kind. The logger
// in deps is scoped with the terminal's id and kind; Now and Zone get
// defaults.
func New(cfg punchbox.Terminal, deps Deps) (Terminal, error) {
	registryMu.RLock()
	f, ok := registry[cfg.Kind]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("terminal %s: %w %q", cfg.ID, ErrUnknownKind, cfg.Kind)
	}
	if !punchbox.ValidName(cfg.ID) {
		return nil, fmt.Errorf("terminal id %q: want a-z, 0-9 and '-'", cfg.ID)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	deps.Logger = deps.Logger.With("terminal", cfg.ID, "kind", string(cfg.Kind))
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Zone == nil {
		deps.Zone = time.UTC
	}
	var t Terminal
	err := Guard(func() (err error) { // a factory's crash is the terminal's error
		t, err = f(cfg, deps)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("terminal %s: %w", cfg.ID, err)
	}
	return t, nil
}

// DecodeOptions decodes a terminal's options into the driver's own struct,
// strictly: an option the struct does not have is an error naming it.
func DecodeOptions(opts map[string]any, into any) error {
	if len(opts) == 0 {
		return nil
	}
	b, err := json.Marshal(opts)
	if err != nil {
		return fmt.Errorf("options: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("options: %w", err)
	}
	return nil
}

// Zone returns the location a terminal's clock is read in: its own zone, or
// the site's.
func Zone(cfg punchbox.Terminal, site *time.Location) (*time.Location, error) {
	if cfg.Zone == "" {
		return site, nil
	}
	loc, err := time.LoadLocation(cfg.Zone)
	if err != nil {
		return nil, fmt.Errorf("zone %q: %w", cfg.Zone, err)
	}
	return loc, nil
}
