package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order. Their file names
// start with the schema version they produce: 0001_init.sql.
func migrations() []migration {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		panic(err) // embedded at build time
	}
	var out []migration
	for _, e := range entries {
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			panic("store: migration without a version: " + e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			panic(err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			panic("store: migrations must be numbered 1, 2, 3…: " + m.name)
		}
	}
	return out
}

// SchemaVersion is the schema this punchbox writes.
func SchemaVersion() int { return len(migrations()) }

func (db *DB) version(ctx context.Context) (int, error) {
	var v int
	if err := db.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// checkVersion refuses a database this punchbox cannot read as it is.
func (db *DB) checkVersion(ctx context.Context) error {
	v, err := db.version(ctx)
	if err != nil {
		return err
	}
	switch latest := SchemaVersion(); {
	case v > latest:
		return fmt.Errorf("%w: schema version %d, this punchbox knows up to %d; install a newer punchbox", ErrNewerSchema, v, latest)
	case v < latest:
		return fmt.Errorf("store %s has schema version %d, this punchbox %d: start the daemon once to migrate it", db.path, v, latest)
	}
	return nil
}

// migrate applies every pending migration in one transaction.
func (db *DB) migrate(ctx context.Context) error {
	all := migrations()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", classify(err))
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	if v > len(all) {
		return fmt.Errorf("%w: schema version %d, this punchbox knows up to %d; install a newer punchbox", ErrNewerSchema, v, len(all))
	}
	if v == len(all) {
		return nil
	}
	for _, m := range all[v:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(all))); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: %w", classify(err))
	}
	db.log.Info("store schema migrated", "from", v, "to", len(all))
	return nil
}

// Migrations returns the embedded schema migrations (for tools and tests
// that need to tell schemas apart).
func Migrations() fs.FS { return migrationFS }
