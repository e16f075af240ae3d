package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Scheduler takes backups of a store at a fixed interval into a directory
// and keeps the newest few. Set the fields, then call Run.
type Scheduler struct {
	DB    *DB
	Dir   string        // where backups go, e.g. <data_dir>/backups; created 0700
	Every time.Duration // between backups; default 24h
	Keep  int           // backups kept, newest first; default 7
	// EveryOf and KeepOf, when set, are asked each round and win over
	// Every and Keep when positive: settings changed at run time take
	// effect from the next backup on.
	EveryOf func(ctx context.Context) time.Duration
	KeepOf  func(ctx context.Context) int
	// Delay holds the first backup after start back by at least this
	// long, so a box that just booted does its catching up (a back-fill,
	// terminal logs) before it reads its whole store again.
	Delay  time.Duration
	Meta   BackupMeta
	Logger *slog.Logger
	Now    func() time.Time // names the backups; default time.Now
}

// Scheduled backups are named punchbox-<site>-<box>-<UTC time>.tar.gz.
const (
	backupPrefix     = "punchbox-"
	backupSuffix     = ".tar.gz"
	backupTimeLayout = "20060102T150405Z"
	// staleTemp is how old a temporary file in Dir must be for Run to
	// take it for a crashed backup's leftover and remove it.
	staleTemp = time.Hour
)

// Run takes a backup at once if the newest in Dir is older than Every (or
// there is none), then one every Every, deleting all but the Keep newest
// after each. A failed backup is logged and retried at the next turn; it
// never ends Run. Run returns nil once ctx is done, and an error only for
// a Scheduler without DB or Dir.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.DB == nil || s.Dir == "" {
		return fmt.Errorf("backup scheduler: %w: DB and Dir are required", ErrInvalid)
	}
	every, log, now := s.every(ctx), s.log(), s.now()
	s.removeStale(log, now)
	wait := s.Delay
	if list, err := ListBackups(s.Dir); err == nil && len(list) > 0 {
		if age := now.Sub(list[0].taken()); age < every {
			wait = max(wait, every-age)
		}
	}
	log.Info("scheduled backups", "dir", s.Dir, "every", every, "keep", s.keep(ctx), "next", now.Add(wait).UTC().Format(time.RFC3339))
	timer := time.NewTimer(wait)
	defer timer.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		every = s.every(ctx)
		err := s.take(ctx, log)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && !failing:
			log.Warn("scheduled backup failed; retrying at the next turn", "err", err, "every", every)
		case err != nil:
			log.Debug("scheduled backup still fails", "err", err)
		case failing:
			log.Info("scheduled backups succeed again")
		}
		failing = err != nil
		timer.Reset(every)
	}
}

// take makes one backup and rotates the old ones out.
func (s *Scheduler) take(ctx context.Context, log *slog.Logger) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("backup dir: %w", err)
	}
	path := filepath.Join(s.Dir, BackupName(s.Meta.Site, s.Meta.Box, s.now()))
	m, err := s.DB.BackupFile(ctx, path, s.Meta)
	if err != nil {
		return err
	}
	removed, err := s.rotate(ctx, log)
	if err != nil {
		log.Warn("rotate backups", "err", err)
	}
	log.Info("backup taken", "file", path, "punches", m.Punches, "size", m.Size, "removed", removed)
	return nil
}

// rotate deletes all but the Keep newest backups and returns how many it
// deleted.
func (s *Scheduler) rotate(ctx context.Context, log *slog.Logger) (int, error) {
	list, err := ListBackups(s.Dir)
	if err != nil {
		return 0, err
	}
	var removed int
	var errs []error
	for _, b := range list[min(s.keep(ctx), len(list)):] {
		if err := os.Remove(b.Path); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
		log.Debug("old backup removed", "file", b.Path)
	}
	return removed, errors.Join(errs...)
}

// removeStale removes temporary files a crash left in Dir.
func (s *Scheduler) removeStale(log *slog.Logger, now time.Time) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "."+backupPrefix) || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) < staleTemp {
			continue // perhaps being written
		}
		path := filepath.Join(s.Dir, e.Name())
		if err := os.Remove(path); err == nil {
			log.Info("removed the leftover of an interrupted backup", "file", path)
		}
	}
}

func (s *Scheduler) every(ctx context.Context) time.Duration {
	if s.EveryOf != nil {
		if d := s.EveryOf(ctx); d > 0 {
			return d
		}
	}
	if s.Every <= 0 {
		return 24 * time.Hour
	}
	return s.Every
}

func (s *Scheduler) keep(ctx context.Context) int {
	if s.KeepOf != nil {
		if n := s.KeepOf(ctx); n > 0 {
			return n
		}
	}
	if s.Keep <= 0 {
		return 7
	}
	return s.Keep
}

func (s *Scheduler) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Scheduler) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// BackupName names a backup of site/box taken at t as the scheduler does:
// punchbox-<site>-<box>-<UTC time>.tar.gz, with the name parts kept to
// letters, digits, '-', '_' and '.'.
func BackupName(site, box string, t time.Time) string {
	return BackupNamePrefix(site, box) + t.UTC().Format(backupTimeLayout) + backupSuffix
}

// BackupNamePrefix is how the names of site/box's backups start.
func BackupNamePrefix(site, box string) string {
	return backupPrefix + fileSafe(site) + "-" + fileSafe(box) + "-"
}

// fileSafe keeps a name part to letters, digits, '-', '_' and '.'.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// BackupFile is a backup in a directory.
type BackupFile struct {
	Path     string
	Manifest Manifest // the zero Manifest when Err is set
	Size     int64    // bytes of the backup file
	ModTime  time.Time
	Err      error // why the manifest could not be read; nil when it was
}

// taken is when the backup was made: its manifest's time, or the file's
// when the manifest is unreadable.
func (b BackupFile) taken() time.Time {
	if b.Err != nil || b.Manifest.Created.IsZero() {
		return b.ModTime
	}
	return b.Manifest.Created
}

// ListBackups lists the backups (punchbox-*.tar.gz) in dir, newest first,
// reading each one's manifest. A backup whose manifest cannot be read is
// listed with Err set. A missing dir holds no backups.
func ListBackups(dir string) ([]BackupFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	var out []BackupFile
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, backupPrefix) || !strings.HasSuffix(name, backupSuffix) || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		b := BackupFile{Path: filepath.Join(dir, name), Size: fi.Size(), ModTime: fi.ModTime()}
		b.Manifest, b.Err = ReadManifest(b.Path)
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b BackupFile) int {
		if c := b.taken().Compare(a.taken()); c != 0 {
			return c
		}
		return strings.Compare(b.Path, a.Path)
	})
	return out, nil
}
