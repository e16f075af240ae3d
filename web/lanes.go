package web

import (
	"context"
	"fmt"
)

// hashLanes bound the password checks sign-ins run at once, in two lanes:
// one for clients with a clean record and one shared by every client that
// has failed. However many guesses arrive, they queue in their own lane, so
// a clean client's sign-in never waits for an attacker's check. Each check
// holds 32 MiB (the store's argon2 parameters), so two lanes also bound
// the memory a flood costs a Pi; the store bounds all its hashing to two at
// once as well.
type hashLanes struct {
	clean, failing chan struct{}
}

func newHashLanes() *hashLanes {
	return &hashLanes{clean: make(chan struct{}, 1), failing: make(chan struct{}, 1)}
}

// acquire waits for a place in the clean or the failing lane and returns
// the function that gives it back. It gives up when ctx ends.
func (l *hashLanes) acquire(ctx context.Context, clean bool) (func(), error) {
	lane := l.failing
	if clean {
		lane = l.clean
	}
	select {
	case lane <- struct{}{}:
		return func() { <-lane }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait to check the password: %w", ctx.Err())
	}
}
