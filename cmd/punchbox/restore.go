package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/cmd/punchbox/internal/datadir"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/web"
)

// stdin is where restore reads its confirmation. Tests replace it.
var stdin = os.Stdin

// runRestore replaces the store with a backup: punchbox restore FILE. It
// refuses while the daemon holds the data directory, and holds the
// directory's lock itself until it is done, so that no daemon starts on a
// half-restored store. Without --yes it asks on the terminal first.
func runRestore(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "restore")
	path := fs.String("config", defaultConfigPath(e), "configuration file ($PUNCHBOX_CONFIG)")
	yes := fs.Bool("yes", false, "restore without asking (required when stdin is not a terminal)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{errors.New("name one backup FILE to restore")}
	}
	file := pos[0]
	cfg, err := config.Load(*path)
	if err != nil {
		return usageError{err}
	}
	defer keepOwner(cfg.DataDir)()
	if !*yes && !isTerminal(stdin) {
		return usageError{errors.New("stdin is not a terminal, so restore cannot ask for confirmation: use --yes")}
	}
	m, err := store.ReadManifest(file)
	if err != nil {
		return err
	}

	if err := datadir.Check(cfg.DataDir); err != nil {
		return fmt.Errorf("%w; stop the service first (systemctl stop punchbox)", err)
	}
	dir, err := datadir.Open(cfg.DataDir)
	if err != nil {
		if errors.Is(err, datadir.ErrLocked) {
			return fmt.Errorf("%w; stop the service first (systemctl stop punchbox)", err)
		}
		return err
	}
	defer dir.Close()
	dbPath := dir.Join(store.FileName)

	var warning string
	if m.Site != cfg.Site || m.Box != cfg.Box {
		warning = fmt.Sprintf("warning: the backup is of box %s/%s, this is %s/%s\n", m.Site, m.Box, cfg.Site, cfg.Box)
	}
	if *yes {
		fmt.Fprint(e.stderr, warning)
	} else {
		fmt.Fprintf(e.stderr, "Restore the backup of %s/%s taken %s (%d punches, schema %d, punchbox %s)\ninto %s?\n%s"+
			"The current database is kept next to it as %s.pre-restore-<time>.\nRestore? [y/N] ",
			m.Site, m.Box, m.Created.Format(time.RFC3339), m.Punches, m.SchemaVersion, m.Punchbox, dbPath, warning, store.FileName)
		if err := confirm(stdin); err != nil {
			return err
		}
	}

	// Only warnings and errors: what was done is printed below.
	log := newLogger(config.Log{Level: "warn", Format: cfg.Log.Format}, e.stderr, e.lookup)
	m, kept, err := store.Restore(ctx, file, dbPath, log)
	if err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "restored %s into %s: %d punches of %s/%s, taken %s\n", file, dbPath, m.Punches, m.Site, m.Box, m.Created.Format(time.RFC3339))
	if kept != "" {
		fmt.Fprintf(w, "the previous database is kept as %s\n", kept)
	} else {
		fmt.Fprintln(w, "there was no previous database")
	}
	if m.SchemaVersion < store.SchemaVersion() {
		fmt.Fprintf(w, "the backup has schema %d; punchbox migrates it to %d when the service next starts\n", m.SchemaVersion, store.SchemaVersion())
	}
	return nil
}

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// confirm reads an answer from r and returns nil for yes.
func confirm(r io.Reader) error {
	answer, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || answer == "") {
		return errors.New("no answer; nothing restored (use --yes to restore without asking)")
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return errors.New("not confirmed; nothing restored")
}

// applyPendingRestore restores the backup the panel staged in the data
// directory, before the store opens. A backup that fails is set aside with
// its reason in the log, and the box starts with the store it had.
func applyPendingRestore(ctx context.Context, dir *datadir.Dir, log *slog.Logger) {
	pending := dir.Join(web.PendingRestoreFile)
	if _, err := os.Stat(pending); err != nil {
		return
	}
	log.Warn("restoring the backup uploaded in the panel", "file", pending)
	m, kept, err := store.Restore(ctx, pending, dir.Join(store.FileName), log)
	if err != nil {
		failed := pending + ".failed"
		if rerr := os.Rename(pending, failed); rerr != nil {
			log.Error("set aside the failed restore", "err", rerr)
		}
		log.Error("restore failed; starting with the store as it was", "err", err, "kept", failed)
		return
	}
	if err := os.Remove(pending); err != nil {
		log.Warn("remove the applied restore", "err", err)
	}
	log.Warn("restored", "punches", m.Punches, "site", m.Site, "box", m.Box, "taken", m.Created, "previous", kept)
}
