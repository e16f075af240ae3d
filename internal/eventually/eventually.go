// Package eventually waits, in tests, for a condition that another goroutine
// or process makes true. It polls the condition itself, never sleeps a fixed
// time and then asserts; its bound only stops a hung test, so it is generous
// enough for emulated 32-bit ARM on a loaded machine.
package eventually

import (
	"os"
	"testing"
	"time"
)

// Hung is how long a condition may take before the test fails as hung.
// PUNCHBOX_TEST_HUNG (a Go duration) overrides it.
var Hung = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("PUNCHBOX_TEST_HUNG")); err == nil && d > 0 {
		return d
	}
	return 2 * time.Minute
}()

// True polls cond until it holds, failing t (naming what) once Hung passed.
func True(t testing.TB, what string, cond func() bool) {
	t.Helper()
	OK(t, func() string {
		if cond() {
			return ""
		}
		return what + ": never happened"
	})
}

// OK polls check until it returns "", failing t with its last complaint once
// Hung passed.
func OK(t testing.TB, check func() string) {
	t.Helper()
	deadline := time.Now().Add(Hung)
	pause := time.Millisecond
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", Hung, msg)
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// Recv waits for a value on ch, failing t (naming what) once Hung passed or
// when ch is closed.
func Recv[T any](t testing.TB, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("%s: channel closed", what)
		}
		return v
	case <-time.After(Hung):
		t.Fatalf("after %s: %s: never happened", Hung, what)
	}
	var zero T
	return zero
}
