package drivers

import (
	"context"
	"fmt"
	"runtime/debug"
)

// PanicError is a recovered panic: inside a terminal's driver, that
// terminal's error, never the daemon's death.
type PanicError struct {
	Value any    // what the driver panicked with
	Stack []byte // the goroutine's stack at the panic
}

func (e *PanicError) Error() string { return fmt.Sprintf("crashed: %v", e.Value) }

// Unwrap returns the panic value when it is an error (a runtime error such
// as an index out of range), so errors.As finds it.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// runGuarded runs t.Run, turning a panic into a *PanicError. It covers the
// goroutine that calls Run; a driver that starts goroutines of its own must
// recover in them (Guard).
func runGuarded(ctx context.Context, t Terminal) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return t.Run(ctx)
}

// Guard runs fn and turns a panic in it into a *PanicError. Drivers wrap the
// goroutines they start and the calls they serve for others (Probe, and
// Commander methods that run on the caller's goroutine) with it.
func Guard(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return fn()
}

// logPanic logs a driver's panic with its stack at Error, once per distinct
// panic value; the same crash again is logged at Debug.
func (s *Supervisor) logPanic(e *entry, pe *PanicError) {
	key := fmt.Sprint(pe.Value)
	s.mu.Lock()
	repeat := e.panicked == key
	e.panicked = key
	s.mu.Unlock()
	log := s.log.With("terminal", e.cfg.ID, "kind", string(e.cfg.Kind))
	if repeat {
		log.Debug("terminal driver crashed again", "panic", key)
		return
	}
	log.Error("terminal driver crashed; the terminal is in error and retried with backoff", "panic", key, "stack", string(pe.Stack))
}
