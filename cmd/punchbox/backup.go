package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/store"
)

// runBackup writes a backup of the store: punchbox backup --out FILE. It
// opens the store read-only, so it is safe while the daemon runs.
func runBackup(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "backup")
	path := fs.String("config", defaultConfigPath(e), "configuration file ($PUNCHBOX_CONFIG)")
	out := fs.String("out", "", "write the backup to `FILE` (required; replaced atomically)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if *out == "" {
		return usageError{errors.New("--out FILE is required")}
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return usageError{err}
	}
	defer keepOwner(cfg.DataDir)()
	db, err := store.Open(ctx, filepath.Join(cfg.DataDir, store.FileName), store.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := db.BackupFile(ctx, *out, store.BackupMeta{Version: version, Site: cfg.Site, Box: cfg.Box})
	if err != nil {
		return err
	}
	var size int64
	if fi, err := os.Stat(*out); err == nil {
		size = fi.Size()
	}
	_, err = fmt.Fprintf(e.stdout, "wrote %s: %d punches, database %s (schema %d), backup %s, sha256 %s\n",
		*out, m.Punches, byteSize(m.Size), m.SchemaVersion, byteSize(size), m.SHA256)
	return err
}

// byteSize formats n bytes for people: 512 B, 3.4 MB.
func byteSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
