package store

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/punchbox/punchbox/internal/sysinfo"
)

// maxTrailer bounds the bytes read after the tar's end: padding only.
const maxTrailer = 1 << 20

// badf returns an error wrapping ErrBadBackup.
func badf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadBackup}, args...)...)
}

// VerifyBackup reads a backup from r and checks all of it: the gzip and tar
// framing, a manifest of a known format first, the database entry second
// and nothing after it, the database's size and SHA-256 against the
// manifest, that it opens as SQLite and passes PRAGMA integrity_check, and
// that its schema version and punch count are the manifest's. The database
// is extracted into a new file in tmpDir, whose path VerifyBackup returns;
// the caller removes it. On failure nothing is left in tmpDir.
//
// Errors wrap ErrBadBackup, except: ErrNewerSchema for a backup from a
// newer punchbox, ErrDiskFull when the database cannot fit in tmpDir, and
// plain errors for tmpDir's own I/O failures and for ctx.
func VerifyBackup(ctx context.Context, r io.Reader, tmpDir string) (Manifest, string, error) {
	m, path, err := verifyBackup(ctx, r, tmpDir)
	if err != nil {
		if path != "" {
			removeDBFiles(path)
		}
		if cerr := ctx.Err(); cerr != nil {
			err = cerr
		}
		return Manifest{}, "", fmt.Errorf("verify backup: %w", err)
	}
	return m, path, nil
}

func verifyBackup(ctx context.Context, r io.Reader, tmpDir string) (m Manifest, path string, err error) {
	zr, err := gzip.NewReader(bufio.NewReaderSize(ctxReader(ctx, r), 1<<16))
	if errors.Is(err, io.EOF) {
		return m, "", badf("the file is empty")
	}
	if err != nil {
		return m, "", badf("not gzip-compressed: %w", err)
	}
	tr := tar.NewReader(zr)
	if m, err = readManifest(tr); err != nil {
		return m, "", err
	}
	if m.SchemaVersion > SchemaVersion() {
		return m, "", fmt.Errorf("%w: the backup has schema version %d, this punchbox knows up to %d; install a newer punchbox to restore it",
			ErrNewerSchema, m.SchemaVersion, SchemaVersion())
	}
	hdr, err := tr.Next()
	switch {
	case errors.Is(err, io.EOF):
		return m, "", badf("no %s after the manifest", databaseEntry)
	case err != nil:
		return m, "", readError("read archive", err)
	case hdr.Name != databaseEntry || hdr.Typeflag != tar.TypeReg:
		return m, "", badf("second entry is %q (type %q), want the file %s", hdr.Name, hdr.Typeflag, databaseEntry)
	case hdr.Size != m.Size:
		return m, "", badf("%s holds %d bytes, the manifest says %d", databaseEntry, hdr.Size, m.Size)
	case hdr.Size > maxBackupDBSize:
		return m, "", badf("%s holds %d bytes, more than the %d a backup may hold", databaseEntry, hdr.Size, int64(maxBackupDBSize))
	}
	if d := sysinfo.ReadDisk(tmpDir); d.Known && uint64(hdr.Size) > d.Free {
		return m, "", fmt.Errorf("%w: the database needs %d bytes, %s has %d free", ErrDiskFull, hdr.Size, tmpDir, d.Free)
	}

	f, err := os.CreateTemp(tmpDir, tempPrefix+"restore-*.db")
	if err != nil {
		return m, "", fmt.Errorf("extract database: %w", err)
	}
	path = f.Name()
	h := sha256.New()
	src := &errReader{r: tr}
	n, err := io.Copy(io.MultiWriter(f, h), src)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case src.err != nil:
		return m, path, readError("read "+databaseEntry, src.err)
	case err != nil:
		return m, path, fmt.Errorf("extract database: %w", err)
	case n != m.Size:
		return m, path, badf("%s ends after %d of %d bytes", databaseEntry, n, m.Size)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != m.SHA256 {
		return m, path, badf("the database's sha256 is %s, the manifest says %s", sum, m.SHA256)
	}
	if err := readTrailer(tr, zr); err != nil {
		return m, path, err
	}
	if err := checkDB(ctx, path, m); err != nil {
		return m, path, err
	}
	return m, path, nil
}

// readTrailer checks that nothing follows the database entry but the
// tar's zero padding, and reads the gzip stream to its end so that its
// checksum is verified.
func readTrailer(tr *tar.Reader, zr *gzip.Reader) error {
	hdr, err := tr.Next()
	switch {
	case err == nil:
		return badf("unexpected entry %q after %s", hdr.Name, databaseEntry)
	case !errors.Is(err, io.EOF):
		return readError("read archive", err)
	}
	buf := make([]byte, 32<<10)
	var total int
	for {
		n, err := zr.Read(buf)
		total += n
		for _, c := range buf[:n] {
			if c != 0 {
				return badf("data after the end of the archive")
			}
		}
		if total > maxTrailer {
			return badf("more than %d bytes after the end of the archive", maxTrailer)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if errors.Is(err, gzip.ErrHeader) {
			return badf("data after the end of the archive: %w", err)
		}
		if err != nil {
			return readError("read the end of the archive", err)
		}
	}
}

// readError wraps an error reading the backup, naming truncation.
func readError(what string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return badf("%s: the file is truncated (%w)", what, err)
	}
	return badf("%s: %w", what, err)
}

// checkDB opens the extracted database read-only and checks it against the
// manifest.
func checkDB(ctx context.Context, path string, m Manifest) error {
	conn, err := sql.Open("sqlite", readOnlyURI(path))
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer func() {
		conn.Close()
		// A file whose header claims WAL mode gets -wal and -shm files
		// even read-only; they are empty, and are not to be kept.
		os.Remove(path + "-wal")
		os.Remove(path + "-shm")
	}()
	conn.SetMaxOpenConns(1)
	rows, err := conn.QueryContext(ctx, "PRAGMA integrity_check(10)")
	if err != nil {
		return badf("not an SQLite database: %w", err)
	}
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return badf("integrity check: %w", err)
		}
		problems = append(problems, s)
	}
	if err := rows.Err(); err != nil {
		return badf("integrity check: %w", err)
	}
	if len(problems) != 1 || problems[0] != "ok" {
		return badf("integrity check: %s", strings.Join(problems, "; "))
	}
	var version int
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return badf("read schema version: %w", err)
	}
	switch {
	case version > SchemaVersion():
		return fmt.Errorf("%w: the database has schema version %d, this punchbox knows up to %d", ErrNewerSchema, version, SchemaVersion())
	case version != m.SchemaVersion:
		return badf("the database has schema version %d, the manifest says %d", version, m.SchemaVersion)
	}
	var kind string
	err = conn.QueryRowContext(ctx, "SELECT type FROM sqlite_schema WHERE name = 'punches'").Scan(&kind)
	if err != nil || kind != "table" {
		return badf("not a punchbox database: no punches table")
	}
	var n int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM punches").Scan(&n); err != nil {
		return badf("count punches: %w", err)
	}
	if n != m.Punches {
		return badf("the database holds %d punches, the manifest says %d", n, m.Punches)
	}
	return nil
}

// Restore replaces the database at dbPath with the backup at backupPath.
// It verifies the whole backup first (VerifyBackup); a backup that fails
// leaves everything as it was. Then it swaps the databases atomically:
// the backup's database is extracted next to dbPath, the current database
// is checkpointed and closed so that its file holds all of it, kept by a
// hard link as dbPath.pre-restore-<UTC time>, and the new file is renamed
// over dbPath. At every instant dbPath is either the old database or the
// new one. Restore returns the backup's manifest and where the old
// database was kept ("" when there was none).
//
// Nothing may have the database open meanwhile: the CLI holds the data
// directory's lock, so the daemon is not running. A backup with an older
// schema is fine; the daemon migrates it when it next starts.
//
// The restored database gets a new numbering epoch, and the numbers file
// beside dbPath is raised to cover what the current database gave out:
// when the store next opens, its batch, seq and session numbers resume
// above everything central may have seen (see NumbersFile).
func Restore(ctx context.Context, backupPath, dbPath string, log *slog.Logger) (Manifest, string, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f, err := os.Open(backupPath)
	if err != nil {
		return Manifest{}, "", fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	m, newPath, err := VerifyBackup(ctx, f, filepath.Dir(dbPath))
	if err != nil {
		return Manifest{}, "", fmt.Errorf("restore %s: %w", backupPath, err)
	}
	defer func() {
		if newPath != "" {
			removeDBFiles(newPath)
		}
	}()
	// The restored database numbers in a new epoch, and the numbers file
	// covers what the current one gave out, so that nothing central saw
	// is numbered again (see NumbersFile; Open does the rest).
	if err := newEpochIn(ctx, newPath); err != nil {
		return Manifest{}, "", fmt.Errorf("restore %s: %w", backupPath, err)
	}
	if err := raiseMarksFrom(ctx, dbPath); err != nil {
		return Manifest{}, "", fmt.Errorf("restore %s: %w", backupPath, err)
	}
	kept, err := swapIn(ctx, dbPath, newPath, time.Now(), log)
	if err != nil {
		return Manifest{}, "", fmt.Errorf("restore %s: %w", backupPath, err)
	}
	newPath = ""
	log.Info("database restored", "backup", backupPath, "database", dbPath, "previous", kept,
		"site", m.Site, "box", m.Box, "created", m.Created, "punches", m.Punches, "schema", m.SchemaVersion)
	if m.SchemaVersion < SchemaVersion() {
		log.Info("the restored database has an older schema; punchbox migrates it when it next starts",
			"schema", m.SchemaVersion, "current", SchemaVersion())
	}
	return m, kept, nil
}

// swapIn renames newPath over dbPath, keeping the current database (if
// any) as dbPath.pre-restore-<now>, and returns that name.
func swapIn(ctx context.Context, dbPath, newPath string, now time.Time, log *slog.Logger) (string, error) {
	if err := os.Chmod(newPath, 0o600); err != nil {
		return "", fmt.Errorf("swap in the restored database: %w", err)
	}
	var kept string
	undo := func() {}
	switch _, err := os.Lstat(dbPath); {
	case err == nil:
		sidecars, err := quiesce(ctx, dbPath, log)
		if err != nil {
			return "", err
		}
		if kept, undo, err = keepAside(dbPath, sidecars, now); err != nil {
			return "", err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("swap in the restored database: %w", err)
	}
	if err := os.Rename(newPath, dbPath); err != nil {
		undo()
		return "", fmt.Errorf("swap in the restored database: %w", err)
	}
	// The record of damage belongs with the database it was found in.
	if kept != "" {
		if err := os.Rename(dbPath+damageSuffix, kept+damageSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.Warn("move the record of damage with the old database", "err", err)
		}
	}
	if err := removeDamageFile(dbPath); err != nil {
		return kept, fmt.Errorf("swap in the restored database: remove %s: %w", dbPath+damageSuffix, err)
	}
	if err := syncDir(filepath.Dir(dbPath)); err != nil {
		return kept, fmt.Errorf("swap in the restored database: %w", err)
	}
	return kept, nil
}

// quiesce checkpoints the database at dbPath into its main file and closes
// it, so that the file alone is the whole database, and removes the -wal
// and -shm files that would otherwise be applied to the file renamed in
// its place. It returns the side files it could not empty: they belong
// with the old database and are kept with it.
func quiesce(ctx context.Context, dbPath string, log *slog.Logger) ([]string, error) {
	conn, err := sql.Open("sqlite", sqliteURI(dbPath, false))
	if err != nil {
		return nil, fmt.Errorf("checkpoint current database: %w", err)
	}
	conn.SetMaxOpenConns(1)
	var busy, frames, done int
	err = conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done)
	cerr := conn.Close()
	switch err = classify(err); {
	case errors.Is(err, ErrDatabaseBusy) || (err == nil && busy != 0):
		return nil, fmt.Errorf("checkpoint current database: %w: another process has it open", ErrDatabaseBusy)
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil || cerr != nil:
		// A damaged database may be why it is being replaced: keep it,
		// with its WAL, as it is.
		log.Warn("cannot checkpoint the current database; keeping it with its WAL as it is", "database", dbPath, "err", errors.Join(err, cerr))
	}
	var keep []string
	for _, suffix := range []string{"-wal", "-journal"} {
		fi, err := os.Stat(dbPath + suffix)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, err
		case fi.Size() > 0:
			keep = append(keep, suffix)
		default:
			if err := os.Remove(dbPath + suffix); err != nil {
				return nil, err
			}
		}
	}
	if err := os.Remove(dbPath + "-shm"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return keep, nil
}

// keepAside hard-links the database at dbPath as
// dbPath.pre-restore-<now> and moves the side files listed (suffixes of
// dbPath) along with it. It returns the new name and a function that
// undoes it all.
func keepAside(dbPath string, sidecars []string, now time.Time) (string, func(), error) {
	base := dbPath + ".pre-restore-" + now.UTC().Format("20060102T150405Z")
	kept := base
	for i := 2; ; i++ {
		err := os.Link(dbPath, kept)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || i > 100 {
			return "", nil, fmt.Errorf("keep the current database: %w", err)
		}
		kept = fmt.Sprintf("%s-%d", base, i)
	}
	var moved []string
	undo := func() {
		for _, suffix := range moved {
			os.Rename(kept+suffix, dbPath+suffix)
		}
		os.Remove(kept)
	}
	for _, suffix := range sidecars {
		if err := os.Rename(dbPath+suffix, kept+suffix); err != nil {
			undo()
			return "", nil, fmt.Errorf("keep the current database: %w", err)
		}
		moved = append(moved, suffix)
	}
	return kept, undo, nil
}

// errReader remembers the error of the reader it wraps, telling a bad
// backup apart from a failing disk in a copy.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		e.err = err
	}
	return n, err
}
