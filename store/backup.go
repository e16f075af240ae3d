package store

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// A backup is a gzip-compressed tar file with two entries, in this order:
// manifest.json, which describes the database, and punchbox.db, a
// consistent snapshot of the store made with VACUUM INTO. The manifest's
// size, SHA-256, schema version and punch count are those of the snapshot
// file itself, so a restore can check the database against them.

// BackupFormat is the version of the backup layout this punchbox writes.
const BackupFormat = 1

const (
	manifestEntry = "manifest.json"
	databaseEntry = FileName

	maxManifestSize = 64 << 10 // bytes: a manifest is a few hundred
	maxBackupDBSize = 8 << 30  // bytes: far beyond a box's store, well short of a full SD card

	// tempPrefix starts the names of the temporary files backups and
	// restores make, so that leftovers of a crash can be recognised.
	tempPrefix = ".punchbox-"
)

// Manifest describes the database in a backup.
type Manifest struct {
	Format        int       `json:"format"`   // BackupFormat
	Punchbox      string    `json:"punchbox"` // version of the binary that made it
	Created       time.Time `json:"created"`
	Site          string    `json:"site"`
	Box           string    `json:"box"`
	SchemaVersion int       `json:"schema_version"`
	Punches       int64     `json:"punches"`
	Size          int64     `json:"size"`   // bytes of the database file
	SHA256        string    `json:"sha256"` // of the database file, lower-case hex
}

// BackupMeta is what a backup's manifest says about where it came from.
type BackupMeta struct {
	Version string // the punchbox version making the backup
	Site    string
	Box     string
}

// Backup writes a backup of the store to w. It snapshots the database with
// VACUUM INTO while writes go on; the snapshot holds every punch committed
// before it began. The snapshot is a temporary file in the database's
// directory (/tmp may be a small tmpfs), removed before Backup returns.
// Backup works on a read-only store too.
func (db *DB) Backup(ctx context.Context, w io.Writer, meta BackupMeta) (Manifest, error) {
	m, err := db.backup(ctx, w, meta, filepath.Dir(db.path))
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

// BackupFile writes a backup of the store to path, atomically: the backup
// is written to a temporary file in path's directory, synced, and renamed
// over path, so path is never a partial backup. The file's mode is 0600.
// The snapshot is made in path's directory too.
func (db *DB) BackupFile(ctx context.Context, path string, meta BackupMeta) (Manifest, error) {
	var m Manifest
	err := writeFileAtomic(path, func(w io.Writer) error {
		var err error
		m, err = db.backup(ctx, w, meta, filepath.Dir(path))
		return err
	})
	if err != nil {
		return Manifest{}, fmt.Errorf("backup to %s: %w", path, err)
	}
	return m, nil
}

// backup snapshots the database into tmpDir, describes the snapshot and
// writes the archive to w.
func (db *DB) backup(ctx context.Context, w io.Writer, meta BackupMeta, tmpDir string) (Manifest, error) {
	select {
	case <-db.quit:
		return Manifest{}, ErrClosed
	default:
	}
	if d := db.Damage(); d != nil {
		// A backup of it would be damaged too, and rotate the good ones out.
		return Manifest{}, d
	}
	snap, err := db.snapshot(ctx, tmpDir)
	if err != nil {
		return Manifest{}, err
	}
	defer removeDBFiles(snap)
	m := Manifest{Format: BackupFormat, Punchbox: meta.Version, Created: db.now().UTC(), Site: meta.Site, Box: meta.Box}
	if m.SchemaVersion, m.Punches, err = describeDB(ctx, snap); err != nil {
		return Manifest{}, fmt.Errorf("read snapshot: %w", err)
	}
	if m.Size, m.SHA256, err = hashFile(ctx, snap); err != nil {
		return Manifest{}, fmt.Errorf("hash snapshot: %w", err)
	}
	if err := writeArchive(ctx, w, m, snap); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// snapshot copies the database into a new file in dir with VACUUM INTO and
// returns the file's path. VACUUM INTO reads in one transaction, so the
// copy is consistent however busy the writer is. The store's own readers
// cannot run it (query_only refuses any write, even to another file), so
// it runs on a connection of its own that opens the database read-only.
func (db *DB) snapshot(ctx context.Context, dir string) (string, error) {
	// VACUUM INTO accepts an empty file; creating it here makes it 0600.
	f, err := os.CreateTemp(dir, tempPrefix+"snapshot-*.db")
	if err != nil {
		return "", fmt.Errorf("snapshot: %w", err)
	}
	path := f.Name()
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("snapshot: %w", err)
	}
	conn, err := sql.Open("sqlite", readOnlyURI(db.path))
	if err == nil {
		defer conn.Close()
		_, err = conn.ExecContext(ctx, "VACUUM INTO ?", path)
	}
	if err != nil {
		removeDBFiles(path)
		return "", fmt.Errorf("snapshot: %w", classify(err))
	}
	return path, nil
}

// readOnlyURI opens the SQLite file at path read-only; see sqliteURI.
func readOnlyURI(path string) string { return sqliteURI(path, true) }

// sqliteURI names the SQLite file at path for a connection of its own: one
// that does not trust the file's schema to call SQL functions, and that
// waits out another connection's lock rather than failing at once.
func sqliteURI(path string, readOnly bool) string {
	u := url.URL{Scheme: "file", OmitHost: true, Path: path}
	q := url.Values{}
	if readOnly {
		q.Set("mode", "ro")
	}
	q.Set("_busy_timeout", "10000")
	q.Set("_pragma", "trusted_schema(0)")
	return u.String() + "?" + q.Encode()
}

// describeDB reads a database file's schema version and punch count.
func describeDB(ctx context.Context, path string) (schema int, punches int64, err error) {
	conn, err := sql.Open("sqlite", readOnlyURI(path))
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&schema); err != nil {
		return 0, 0, fmt.Errorf("schema version: %w", err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM punches").Scan(&punches); err != nil {
		return 0, 0, fmt.Errorf("count punches: %w", err)
	}
	return schema, punches, nil
}

// hashFile returns a file's size and SHA-256 in lower-case hex.
func hashFile(ctx context.Context, path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, ctxReader(ctx, f))
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// writeArchive writes the manifest and then the database file at path as a
// gzip-compressed tar to w.
func writeArchive(ctx context.Context, w io.Writer, m Manifest, path string) error {
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	manifest = append(manifest, '\n')
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	defer f.Close()
	// Speed over ratio: a Pi compresses slowly, and a store compresses well
	// at any level.
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	tw := tar.NewWriter(zw)
	entry := func(name string, size int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600, ModTime: m.Created.Truncate(time.Second)})
	}
	if err := entry(manifestEntry, int64(len(manifest))); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	if _, err := tw.Write(manifest); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	if err := entry(databaseEntry, m.Size); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	if _, err := io.CopyN(tw, ctxReader(ctx, f), m.Size); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	if err := errors.Join(tw.Close(), zw.Close()); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	return nil
}

// ReadManifest reads the manifest of the backup at path. It is cheap (the
// manifest is the first entry) and checks only that the manifest is well
// formed: VerifyBackup checks the whole backup.
func ReadManifest(path string) (Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return Manifest{}, fmt.Errorf("read manifest: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return Manifest{}, fmt.Errorf("read manifest of %s: %w", path, badf("not gzip-compressed: %w", err))
	}
	m, err := readManifest(tar.NewReader(zr))
	if err != nil {
		return Manifest{}, fmt.Errorf("read manifest of %s: %w", path, err)
	}
	return m, nil
}

// readManifest reads and checks the archive's first entry.
func readManifest(tr *tar.Reader) (Manifest, error) {
	var m Manifest
	hdr, err := tr.Next()
	switch {
	case err != nil:
		return m, readError("read archive", err)
	case hdr.Name != manifestEntry || hdr.Typeflag != tar.TypeReg:
		return m, badf("first entry is %q (type %q), want the file %s", hdr.Name, hdr.Typeflag, manifestEntry)
	case hdr.Size > maxManifestSize:
		return m, badf("%s holds %d bytes, more than %d", manifestEntry, hdr.Size, maxManifestSize)
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		return m, readError("read "+manifestEntry, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, badf("%s: %w", manifestEntry, err)
	}
	switch {
	case m.Format != BackupFormat:
		return m, badf("unknown format %d; this punchbox reads format %d", m.Format, BackupFormat)
	case m.SchemaVersion < 1:
		return m, badf("manifest: schema version %d", m.SchemaVersion)
	case m.Size <= 0:
		return m, badf("manifest: database size %d", m.Size)
	case m.Punches < 0:
		return m, badf("manifest: %d punches", m.Punches)
	case !isSHA256(m.SHA256):
		return m, badf("manifest: sha256 %q is not 64 lower-case hex digits", m.SHA256)
	}
	return m, nil
}

func isSHA256(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// writeFileAtomic writes path through fill: into a temporary file in the
// same directory (mode 0600), synced, renamed over path, and the directory
// synced, so that path is either absent, the old file or the complete new
// one, even across a power cut.
func writeFileAtomic(path string, fill func(io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fill(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	done = true
	return syncDir(dir)
}

// syncDir makes a directory's entries (a rename, a new link) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// removeDBFiles removes a temporary database file and any file SQLite may
// have made next to it.
func removeDBFiles(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + suffix)
	}
}

// ctxReader returns a reader that stops once ctx is done, so that a long
// copy can be cancelled.
func ctxReader(ctx context.Context, r io.Reader) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return r.Read(p)
	})
}

type readerFunc func(p []byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
