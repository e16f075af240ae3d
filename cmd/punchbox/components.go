package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/punchbox/punchbox/drivers"
)

// stopBudget is how long the service waits for its components to return once
// it is asked to stop. systemd's TimeoutStopSec is longer.
const stopBudget = 5 * time.Second

// component is a long-running part of the appliance.
type component struct {
	name string
	run  func(ctx context.Context) error // returns nil once ctx is done
}

// runComponents runs every component until ctx ends or one fails, then calls
// stopping and waits for them all. It returns nil when they all returned nil
// after the stop began; otherwise the first failure, prefixed with the
// component's name. A component that returns before the stop began, even
// with nil, is a failure. If some are still running after stopBudget, it
// returns an error naming them without waiting any longer.
func runComponents(ctx context.Context, budget time.Duration, stopping func(), cs []component) error {
	g, gctx := errgroup.WithContext(ctx)
	var mu sync.Mutex
	running := map[string]bool{}
	for _, c := range cs {
		running[c.name] = true // before any component starts: they delete from it
	}
	for _, c := range cs {
		g.Go(func() error {
			// A panic in a component is a failure like any other (exit 1,
			// restarted by systemd), never Go's exit 2 of a bad configuration.
			err := drivers.Guard(func() error { return c.run(gctx) })
			mu.Lock()
			delete(running, c.name)
			mu.Unlock()
			switch {
			case err != nil:
				return fmt.Errorf("%s: %w", c.name, err)
			case gctx.Err() == nil:
				return fmt.Errorf("%s: %w", c.name, errStoppedEarly)
			}
			return nil
		})
	}
	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	select {
	case err := <-done:
		stopping()
		return err
	case <-gctx.Done():
	}
	stopping()
	select {
	case err := <-done:
		return err
	case <-time.After(budget):
		mu.Lock()
		names := make([]string, 0, len(running))
		for n := range running {
			names = append(names, n)
		}
		mu.Unlock()
		slices.Sort(names)
		return fmt.Errorf("stop: %s still running after %s", strings.Join(names, ", "), budget)
	}
}

var errStoppedEarly = errors.New("stopped while the service was running")
