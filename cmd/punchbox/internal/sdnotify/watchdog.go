package sdnotify

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"time"
)

// WatchdogInterval returns how often to send WATCHDOG=1: half of
// $WATCHDOG_USEC, as systemd recommends. ok is false when the manager expects
// no pings, or expects them from another process ($WATCHDOG_PID).
func WatchdogInterval(env func(string) (string, bool)) (d time.Duration, ok bool) {
	v, set := env("WATCHDOG_USEC")
	if !set {
		return 0, false
	}
	usec, err := strconv.ParseInt(v, 10, 64)
	if err != nil || usec <= 0 {
		return 0, false
	}
	if pid, set := env("WATCHDOG_PID"); set && pid != strconv.Itoa(os.Getpid()) {
		return 0, false
	}
	return time.Duration(usec) * time.Microsecond / 2, true
}

// Watchdog pings the service manager at a fixed interval, but only while its
// health check passes: a wedged process stops pinging and gets restarted.
type Watchdog struct {
	Notifier *Notifier
	Interval time.Duration
	// Healthy returns nil when the process is doing its job. It is called
	// before each ping with a context that ends at the next tick.
	Healthy func(ctx context.Context) error
	Logger  *slog.Logger
}

// Run pings until ctx is done. It returns nil on cancellation; a failing
// health check is logged (once per change) and never ends Run.
func (w *Watchdog) Run(ctx context.Context) error {
	if !w.Notifier.Enabled() || w.Interval <= 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	healthy := true
	for {
		err := w.check(ctx)
		switch {
		case err == nil:
			if !healthy {
				w.Logger.Info("health check passes again; watchdog pings resumed")
			}
			if err := w.Notifier.Notify("WATCHDOG=1"); err != nil {
				w.Logger.Debug("watchdog ping", "err", err)
			}
		case ctx.Err() != nil:
			return nil
		case healthy:
			w.Logger.Warn("health check fails; watchdog pings withheld", "err", err)
		default:
			w.Logger.Debug("health check still fails", "err", err)
		}
		healthy = err == nil
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (w *Watchdog) check(ctx context.Context) error {
	if w.Healthy == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, w.Interval)
	defer cancel()
	return w.Healthy(ctx)
}
