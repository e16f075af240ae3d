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
// box (terminals online, the link to central) are "not checked", never
// passes; the panel's System page has them live. A damaged store is a
// failed check that names the restore command. It exits 1 when a check
// failed.
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
	var in readiness.Input
	db, err := store.Open(ctx, dbPath, store.Options{ReadOnly: true}) // safe while the daemon runs
	switch {
	case errors.Is(err, store.ErrDamaged):
		in = readinessInput(cfg, nil, unitInstalled())
		in.StoreErr = err // reported as the store check, with the rest
	case err != nil:
		return err
	default:
		defer db.Close()
		in = readinessInput(cfg, db, unitInstalled())
	}
	in.Runner = runnerOf(cfg.DataDir)
	checks := readiness.Run(ctx, in)
	passed, failed, notChecked := readiness.Count(checks)
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(checks); err != nil {
			return err
		}
	} else {
		marks := map[readiness.Status]string{readiness.StatusOK: "ok  ", readiness.StatusFail: "FAIL", readiness.StatusNotChecked: "--  "}
		for _, c := range checks {
			fmt.Fprintf(e.stdout, "%s  %-38s %s\n", marks[c.Status], c.Title, c.Detail)
		}
		if errors.Is(datadir.Check(cfg.DataDir), datadir.ErrLocked) {
			fmt.Fprintln(e.stdout, "\nThe box is running: its panel's System page shows these checks with the live ones.")
		}
		if os.Geteuid() == 0 {
			fmt.Fprintln(e.stdout, "\nChecked as root: run it as the box's user (sudo -u punchbox punchbox check) to see what the box sees.")
		}
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d of %d checks need attention, %d not checked", errNotReady, failed, len(checks), notChecked)
	}
	if !*asJSON {
		if notChecked > 0 {
			fmt.Fprintf(e.stdout, "\n%d of %d checks pass; %d could not be checked here (--), so this is not all of it.\n", passed, len(checks), notChecked)
		} else {
			fmt.Fprintf(e.stdout, "\nAll %d checks pass.\n", len(checks))
		}
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
