package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// waiter is a component that returns nil once its context ends.
func waiter(name string) component {
	return component{name, func(ctx context.Context) error { <-ctx.Done(); return nil }}
}

func TestRunComponents(t *testing.T) {
	boom := errors.New("listen :8443: address already in use")
	// The stuck component ignores its context; it is let go when the test
	// ends, so that no goroutine outlives it.
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	tests := []struct {
		name      string
		cancel    bool // cancel the parent context, as a signal does
		cs        []component
		wantErr   string // "" for nil
		wantIsErr error
	}{
		{"signal stops everything cleanly", true, []component{waiter("web"), waiter("watchdog")}, "", nil},
		{"failure stops the others and is named", false, []component{
			waiter("watchdog"),
			{"web", func(context.Context) error { return boom }},
		}, "web: listen :8443: address already in use", boom},
		{"early return is a failure", false, []component{
			waiter("web"),
			{"uplink", func(context.Context) error { return nil }},
		}, "uplink: stopped while the service was running", errStoppedEarly},
		{"a crash stops the others and is named", false, []component{
			waiter("web"),
			{"uplink", func(context.Context) error {
				var batches []int
				seq := len(batches) + 3
				return fmt.Errorf("batch %d", batches[seq])
			}},
		}, "uplink: crashed: runtime error: index out of range [3] with length 0", nil},
		{"a component that ignores the stop is named", true, []component{
			waiter("web"),
			{"stuck", func(context.Context) error { <-release; return nil }},
		}, "stop: stuck still running after 100ms", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				time.AfterFunc(10*time.Millisecond, cancel)
			}
			var stopped atomic.Int32
			err := runComponents(ctx, 100*time.Millisecond, func() { stopped.Add(1) }, tt.cs)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("err = %v, want nil", err)
			}
			if tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if tt.wantIsErr != nil && !errors.Is(err, tt.wantIsErr) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIsErr)
			}
			if n := stopped.Load(); n != 1 {
				t.Errorf("stopping called %d times, want once", n)
			}
			if strings.Count(err2s(err), "address already in use") > 1 {
				t.Errorf("error repeated: %v", err)
			}
		})
	}
}

func err2s(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
