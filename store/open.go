package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// FileName is the database's name in the data directory.
const FileName = "punchbox.db"

// Options tune Open.
type Options struct {
	Logger   *slog.Logger
	ReadOnly bool             // open for queries only; no migrations, no writes
	Now      func() time.Time // the clock for created/updated stamps
	// MaxGroup bounds the punches one group commit writes (default 20000).
	MaxGroup int
	// WALLimit is the size, in bytes, the write-ahead log is brought back
	// to once a long read has let it grow (default 8 MiB); WALCheck is how
	// often its size is looked at (default 10 s). See wal.go.
	WALLimit int64
	WALCheck time.Duration
	// QuickCheck is the time PRAGMA quick_check may take at Open before
	// anything is written (default 5 s; negative: no quick check). See
	// integrity.go. A read-only Open makes no quick check.
	QuickCheck time.Duration
}

// DB is an open store.
type DB struct {
	path string
	log  *slog.Logger
	now  func() time.Time
	ro   bool

	w *sql.DB // the one writing connection
	r *sql.DB // readers

	puts     chan *putRequest
	maxGroup int
	lastSeq  int64 // the newest outbox sequence; owned by the committer
	quit     chan struct{}
	wg       sync.WaitGroup
	closing  sync.Once

	notifyMu sync.Mutex
	changed  chan struct{} // closed and replaced whenever punches commit

	lastWrite atomic.Pointer[WriteStatus]
	damage    atomic.Pointer[Damage]      // nil while the store is sound
	lastCheck atomic.Pointer[CheckResult] // the latest integrity check that passed

	probeMu sync.Mutex
	probed  time.Time // the latest health probe

	received atomic.Int64 // punches handed to Put and committed, new or not
	stored   atomic.Int64 // punches that were new
}

// WriteStatus is the outcome of the latest write.
type WriteStatus struct {
	Err error     // nil when it succeeded
	At  time.Time // when it happened
}

// Open opens (creating it if needed) the database at path, checks it for
// damage, applies pending migrations in one transaction, and starts the
// group committer. It refuses a database written by a newer punchbox, and a
// damaged one (with a *Damage): its header is not SQLite's, the quick check
// found damage, or damage was found earlier and recorded beside it. A
// read-only Open refuses only a damaged header: it opens a store recorded
// as damaged, with Damage set, so that what can still be read is.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxGroup <= 0 {
		opts.MaxGroup = 20000
	}
	if opts.WALLimit <= 0 {
		opts.WALLimit = defaultWALLimit
	}
	if opts.WALCheck <= 0 {
		opts.WALCheck = defaultWALCheck
	}
	if opts.QuickCheck == 0 {
		opts.QuickCheck = defaultQuickCheck
	}
	db := &DB{path: path, log: opts.Logger, now: opts.Now, ro: opts.ReadOnly, maxGroup: opts.MaxGroup,
		puts: make(chan *putRequest), quit: make(chan struct{}), changed: make(chan struct{})}
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		if err := createPrivate(path); err != nil {
			return nil, fmt.Errorf("open store: %w", explainFull(path, err))
		}
	}
	damage, err := checkHeader(path, db.now())
	if err == nil && damage == nil {
		damage, err = readDamageFile(path)
	}
	switch {
	case err != nil:
		return nil, fmt.Errorf("open store %s: %w", path, err)
	case damage != nil && (!opts.ReadOnly || damage.By == FoundByHeader):
		return nil, damage
	case damage != nil:
		db.damage.Store(damage)
	}
	fresh, err := fileSize(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if db.r, err = sql.Open("sqlite", dsn(path, true)); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db.r.SetMaxOpenConns(3)
	db.r.SetMaxIdleConns(3)
	if !opts.ReadOnly {
		if db.w, err = sql.Open("sqlite", dsn(path, false)+"&"+journalLimit(opts.WALLimit)); err != nil {
			db.r.Close()
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
		db.w.SetMaxOpenConns(1)
		db.w.SetMaxIdleConns(1)
		db.w.SetConnMaxLifetime(0)
		if fresh > 0 && opts.QuickCheck > 0 {
			if err := db.openCheck(ctx, opts.QuickCheck); err != nil {
				db.closeDBs()
				if d := db.Damage(); d != nil {
					return nil, d
				}
				return nil, explainFull(path, err)
			}
		}
		if err := db.migrate(ctx); err != nil {
			db.closeDBs()
			return nil, explainFull(path, err)
		}
		if err := makePrivate(path); err != nil {
			db.closeDBs()
			return nil, fmt.Errorf("open store: %w", err)
		}
		if err := db.syncNumbers(ctx); err != nil {
			db.closeDBs()
			return nil, fmt.Errorf("open store: %w", err)
		}
		// The counter and the punches agree unless the file was tampered
		// with; trusting the larger keeps sequence numbers from ever being
		// reused.
		err := db.w.QueryRowContext(ctx, "SELECT max(last_seq, COALESCE((SELECT max(seq) FROM punches), 0)) FROM outbox").Scan(&db.lastSeq)
		if err != nil {
			db.closeDBs()
			return nil, fmt.Errorf("open store: %w", explainFull(path, err))
		}
	} else if err := db.checkVersion(ctx); err != nil {
		db.closeDBs()
		return nil, err
	}
	if !opts.ReadOnly {
		db.wg.Add(2)
		go func() {
			defer db.wg.Done()
			db.commitLoop()
		}()
		go func() {
			defer db.wg.Done()
			db.runWALKeeper(opts.WALLimit, opts.WALCheck)
		}()
	}
	return db, nil
}

// dsn builds the connection string: WAL, synchronous=FULL, foreign keys, a
// busy timeout, and write transactions that take the write lock at BEGIN
// (so two writers never deadlock upgrading).
// readerMmap is how much of the database file a reader maps: 256 MiB,
// which fits a 32-bit Pi's address space three times over.
const readerMmap = 256 << 20

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_foreign_keys", "1")
	q.Set("_busy_timeout", "10000")
	if readOnly {
		q.Set("_query_only", "1")
		// Readers map the file rather than read it page by page: searches
		// on a big store jump between index and table pages, and each
		// read would be a system call. The kernel's page cache backs the
		// map, so this costs address space, not memory.
		q.Add("_pragma", fmt.Sprintf("mmap_size(%d)", readerMmap))
	} else {
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// createPrivate creates the database file 0600 unless it exists. SQLite
// gives the -wal and -shm files it makes the mode of the database file, so
// creating it private first keeps them private too, whatever the umask.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

// makePrivate makes the database file and its side files 0600: a store
// made by an older punchbox may have them readable by everyone.
func makePrivate(path string) error {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Chmod(path+suffix, 0o600); err != nil && (suffix == "" || !errors.Is(err, fs.ErrNotExist)) {
			return err
		}
	}
	return nil
}

// journalLimit is the writer's journal_size_limit, as a query parameter.
func journalLimit(n int64) string {
	return url.Values{"_pragma": {fmt.Sprintf("journal_size_limit(%d)", n)}}.Encode()
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Close stops the group committer, waits for it, and closes the database.
// Puts after Close fail with ErrClosed.
func (db *DB) Close() error {
	var err error
	db.closing.Do(func() {
		close(db.quit)
		db.wg.Wait()
		err = db.closeDBs()
	})
	return err
}

func (db *DB) closeDBs() error {
	var errs []error
	if db.w != nil && db.Damage() != nil {
		// The last connection to close checkpoints the WAL into the file,
		// and nothing may write into a damaged one: a read-only connection,
		// which cannot, closes last.
		hold, err := sql.Open("sqlite", readOnlyURI(db.path))
		if err == nil {
			defer hold.Close()
			var v int
			hold.QueryRow("PRAGMA user_version").Scan(&v)
		}
	}
	if db.w != nil && db.Damage() == nil {
		// A clean checkpoint leaves the WAL empty, so the file alone is
		// the whole database.
		if _, err := db.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			db.log.Debug("checkpoint at close", "err", err)
		}
		errs = append(errs, db.w.Close())
	}
	if db.w != nil && db.Damage() != nil {
		// Nothing writes into a damaged store, a checkpoint neither: the
		// WAL stays as it is, beside the file.
		errs = append(errs, db.w.Close())
	}
	errs = append(errs, db.r.Close())
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// LastWrite returns the outcome of the latest write of punches (or of the
// health probe, see Healthy): a full disk, read-only media or damage show
// up here; all but damage clear by themselves once a write succeeds again.
func (db *DB) LastWrite() WriteStatus {
	if s := db.lastWrite.Load(); s != nil {
		return *s
	}
	return WriteStatus{}
}

func (db *DB) noteWrite(err error) {
	if errors.Is(err, ErrDamaged) && db.Damage() == nil {
		db.markDamaged(&Damage{Found: db.now(), By: FoundByWrite, Detail: err.Error()}, true)
		return // markDamaged noted it
	}
	prev := db.lastWrite.Load()
	db.lastWrite.Store(&WriteStatus{Err: err, At: db.now()})
	switch {
	case err != nil && (prev == nil || prev.Err == nil):
		db.log.Error("store writes fail; punches are not acknowledged to terminals until they succeed", "err", err)
	case err != nil:
		db.log.Debug("store writes still fail", "err", err)
	case prev != nil && prev.Err != nil:
		db.log.Warn("store writes succeed again")
	}
}

// writer returns the writing connection: ErrReadOnly for a read-only
// store, the damage for a damaged one.
func (db *DB) writer() (*sql.DB, error) {
	if db.ro {
		return nil, ErrReadOnly
	}
	if d := db.Damage(); d != nil {
		return nil, d
	}
	return db.w, nil
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
