package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/store"
)

// processStart is when the process began, for the start-up time in the log.
var processStart = time.Now()

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve")
	path := fs.String("config", defaultConfigPath(e), "configuration file ($PUNCHBOX_CONFIG)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return usageError{err}
	}
	return serve(ctx, e, cfg)
}

func defaultConfigPath(e *env) string {
	if p, ok := e.lookup("PUNCHBOX_CONFIG"); ok && p != "" {
		return p
	}
	return config.DefaultPath
}

// serve runs the appliance described by cfg until ctx ends.
func serve(ctx context.Context, e *env, cfg *config.Config) error {
	log := newLogger(cfg.Log, e.stderr, e.lookup)
	log.Info("starting", "version", version, "site", cfg.Site, "box", cfg.Box, "config", cfg.File())
	return serveLoop(ctx, e, cfg, log, nil)
}

// serveLoop opens and runs the appliance until ctx ends. When the panel
// asks for a restart (to apply a restore it staged), everything stops,
// the store closes, and the appliance opens again in the same process. A
// store found damaged at start leaves the box up, degraded (degraded.go).
// opened, when set, may add components to each opening.
func serveLoop(ctx context.Context, e *env, cfg *config.Config, log *slog.Logger, opened func(a *app)) error {
	for {
		a, err := openApp(ctx, e, cfg, log)
		if errors.Is(err, store.ErrDamaged) {
			return runDegraded(ctx, e, cfg, log, err)
		}
		if err != nil {
			return err
		}
		if opened != nil {
			opened(a)
		}
		err = a.run(ctx)
		a.close()
		if !errors.Is(err, errRestart) || ctx.Err() != nil {
			return err
		}
	}
}
