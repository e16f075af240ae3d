package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/cmd/punchbox/internal/datadir"
	"github.com/punchbox/punchbox/cmd/punchbox/internal/readiness"
	"github.com/punchbox/punchbox/store"
)

// unitFiles are where the punchbox systemd unit is installed.
var unitFiles = []string{"/etc/systemd/system/punchbox.service", "/usr/lib/systemd/system/punchbox.service", "/lib/systemd/system/punchbox.service"}

// errNotReady makes "check" exit 1 after its report.
var errNotReady = errors.New("not ready for production")

// runCheck prints the production-readiness report of the box the
// configuration describes, running or not. The checks that need the running
// box (terminals online, the link to central) say so; the panel's System
// page has them live.
func runCheck(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "check")
	path := fs.String("config", defaultConfigPath(e), "configuration file ($PUNCHBOX_CONFIG)")
	asJSON := fs.Bool("json", false, "print the checks as a JSON list")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return usageError{err}
	}
	dbPath := filepath.Join(cfg.DataDir, store.FileName)
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("no store at %s: start the box once (systemctl start punchbox), then check again", dbPath)
	}
	defer keepOwner(cfg.DataDir)()
	db, err := store.Open(ctx, dbPath, store.Options{ReadOnly: true}) // safe while the daemon runs
	if err != nil {
		return err
	}
	defer db.Close()
	checks := readiness.Run(ctx, readinessInput(cfg, db, unitInstalled()))
	failed := 0
	for _, c := range checks {
		if !c.OK {
			failed++
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(checks); err != nil {
			return err
		}
	} else {
		for _, c := range checks {
			mark := "ok  "
			if !c.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(e.stdout, "%s  %-38s %s\n", mark, c.Title, c.Detail)
		}
		if errors.Is(datadir.Check(cfg.DataDir), datadir.ErrLocked) {
			fmt.Fprintln(e.stdout, "\nThe box is running: its panel's System page shows these checks with the live ones.")
		}
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d of %d checks need attention", errNotReady, failed, len(checks))
	}
	if !*asJSON {
		fmt.Fprintf(e.stdout, "\nAll %d checks pass.\n", len(checks))
	}
	return nil
}

// unitInstalled reports whether the punchbox systemd unit is installed,
// which is what runs the box with a watchdog.
func unitInstalled() bool {
	for _, f := range unitFiles {
		if _, err := os.Stat(f); err == nil {
			return true
		}
	}
	return false
}
