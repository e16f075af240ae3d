package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"
)

// Damage is damage found in the store's database file. It is an
// ErrDamaged. A damaged store takes no writes: Put and every other write
// fail with it, nothing is checkpointed into the file, and no backup is
// taken of it (that would rotate the good backups out).
type Damage struct {
	Path   string    `json:"-"`
	Found  time.Time `json:"found"`
	By     string    `json:"by"`     // what found it: one of the Found* constants
	Detail string    `json:"detail"` // what SQLite or the header check said
}

// What found damage.
const (
	FoundByHeader    = "the header check"    // the file's first 100 bytes are not SQLite's
	FoundByQuick     = "the quick check"     // PRAGMA quick_check, at start
	FoundByIntegrity = "the integrity check" // PRAGMA integrity_check, in the background
	FoundByWrite     = "a write"             // SQLite reported corruption while writing
)

func (d *Damage) Error() string {
	return fmt.Sprintf("store %s is damaged (found by %s, %s): %s", d.Path, d.By, d.Found.UTC().Format(time.RFC3339), d.Detail)
}

func (d *Damage) Unwrap() error { return ErrDamaged }

// DamageFile is the name, beside the database, of the file that records
// damage found in it: punchbox.db.damaged. It keeps the store refused
// across restarts (a later quick check at start may miss what the full
// check found). Restore removes it; so may an admin who repaired the
// database by other means.
const damageSuffix = ".damaged"

// maxDamageFile bounds what is read of a damage file.
const maxDamageFile = 16 << 10

// maxDetail bounds the detail kept of damage: the first problems SQLite
// names say enough.
const maxDetail = 1 << 10

// Damage returns the damage found in the store, or nil while none is.
func (db *DB) Damage() *Damage { return db.damage.Load() }

// markDamaged records damage: the store refuses writes from now on, the
// damage is kept in the damage file (unless read-only) and, with logIt,
// logged once, and the write status says so, so that what watches it
// (central's events, the metrics) sees writes fail.
func (db *DB) markDamaged(d *Damage, logIt bool) {
	d.Path = db.path
	d.Detail = clip(strings.Join(strings.Fields(d.Detail), " "), maxDetail)
	if !db.damage.CompareAndSwap(nil, d) {
		return // the first damage found is the one reported
	}
	if logIt {
		db.log.Error("store damaged: it takes no more writes; punches stay on the terminals until a backup is restored",
			"database", db.path, "found_by", d.By, "detail", d.Detail)
	}
	if !db.ro {
		if err := writeDamageFile(db.path, d); err != nil {
			db.log.Warn("record the damage beside the database", "err", err)
		}
	}
	// Writes fail from now on: the write status says so (markDamaged's own
	// log line says it once).
	db.lastWrite.Store(&WriteStatus{Err: d, At: db.now()})
}

func writeDamageFile(dbPath string, d *Damage) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(dbPath+damageSuffix, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// readDamageFile returns the damage recorded beside the database at
// dbPath, or nil when there is none. A damage file that cannot be parsed
// still means damage.
func readDamageFile(dbPath string) (*Damage, error) {
	f, err := os.Open(dbPath + damageSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxDamageFile))
	if err != nil {
		return nil, err
	}
	d := &Damage{Path: dbPath}
	if err := json.Unmarshal(b, d); err != nil || d.Detail == "" {
		fi, _ := f.Stat()
		d = &Damage{Path: dbPath, By: "an earlier check", Detail: "recorded in " + dbPath + damageSuffix}
		if fi != nil {
			d.Found = fi.ModTime()
		}
	}
	d.By, d.Detail = clip(d.By, 64), clip(d.Detail, maxDetail)
	return d, nil
}

// removeDamageFile removes the record of damage of the database at dbPath.
func removeDamageFile(dbPath string) error {
	err := os.Remove(dbPath + damageSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// checkHeader reads the first 100 bytes of the database file at path, the
// SQLite header, and returns the damage it shows: not SQLite's magic, an
// impossible page size, a file shorter than one page. An absent or empty
// file is a new store and fine.
func checkHeader(path string, now time.Time) (*Damage, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() == 0 {
		return nil, nil
	}
	hdr := make([]byte, 100)
	n, err := io.ReadFull(f, hdr)
	bad := func(format string, args ...any) (*Damage, error) {
		return &Damage{Path: path, Found: now, By: FoundByHeader, Detail: fmt.Sprintf(format, args...)}, nil
	}
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return bad("the file is %d bytes long, shorter than the 100-byte SQLite header", n)
	case err != nil:
		return nil, err
	case !bytes.Equal(hdr[:16], sqliteMagic):
		return bad("the file does not start with the SQLite header (it starts %q)", printable(hdr[:16]))
	}
	pageSize := int64(binary.BigEndian.Uint16(hdr[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	switch {
	case pageSize < 512 || pageSize&(pageSize-1) != 0:
		return bad("the header gives a page size of %d, which SQLite never writes", pageSize)
	case fi.Size() < pageSize:
		return bad("the file is %d bytes long, shorter than one %d-byte page", fi.Size(), pageSize)
	}
	return nil, nil
}

// printable shows bytes of unknown content in a message.
func printable(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '.'
		}
		return r
	}, string(b))
}
