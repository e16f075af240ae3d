package readiness

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/punchbox/punchbox/store"
)

// quickCheckBudget is how long `punchbox check` lets the quick check of the
// store run (the daemon gives it less at start; see store/integrity.go).
const quickCheckBudget = 30 * time.Second

// RestoreAdvice says how to restore the store of the box whose data
// directory is dataDir: the commands, with the newest readable backup in
// dataDir/backups when there is one.
func RestoreAdvice(dataDir string) string {
	dir := filepath.Join(dataDir, "backups")
	list, _ := store.ListBackups(dir)
	for _, b := range list {
		if b.Err == nil {
			return fmt.Sprintf("restore a backup: systemctl stop punchbox; punchbox restore %s; systemctl start punchbox "+
				"(the newest backup, taken %s; restore checks it first, and if it is refused try the next older one)",
				b.Path, b.Manifest.Created.UTC().Format(time.RFC3339))
		}
	}
	return fmt.Sprintf("restore a backup: systemctl stop punchbox; punchbox restore FILE; systemctl start punchbox (there is none in %s)", dir)
}

// checkStore reports whether the store is sound and can write. Checking a
// box that is not running it runs the quick check itself; the running box
// knows from its own checks.
func checkStore(ctx context.Context, in Input) Check {
	const name, title = "store", "The store is sound"
	switch {
	case in.StoreErr != nil:
		return bad(name, title, in.StoreErr.Error()+"; "+RestoreAdvice(in.Config.DataDir))
	case in.Store == nil:
		return notChecked(name, title, "the store cannot be opened")
	}
	if in.Healths == nil && in.Store.Damage() == nil {
		res, err := in.Store.QuickCheck(ctx, quickCheckBudget)
		switch {
		case err != nil && !errors.Is(err, store.ErrDamaged):
			return notChecked(name, title, "the quick check could not run: "+err.Error())
		case err == nil && !res.Finished:
			return notChecked(name, title, fmt.Sprintf("the quick check did not finish in %s; the daemon's integrity check runs daily", quickCheckBudget))
		}
	}
	if d := in.Store.Damage(); d != nil {
		return bad(name, title, d.Error()+"; "+RestoreAdvice(in.Config.DataDir))
	}
	if in.Healths != nil {
		if err := in.Store.Healthy(ctx); err != nil {
			return bad(name, title, err.Error())
		}
	}
	detail := "quick check passed"
	if in.Healths != nil {
		detail = "no damage found; it can write"
	}
	at, took, err := in.Store.LastIntegrity(ctx)
	switch {
	case err != nil:
		detail += "; the last integrity check cannot be read: " + err.Error()
	case at.IsZero():
		detail += "; no full integrity check yet (the daemon runs one a minute after start, then daily)"
	default:
		detail += fmt.Sprintf("; the full integrity check last passed %s (it took %s)", at.UTC().Format(time.RFC3339), took.Round(time.Second))
	}
	return ok(name, title, detail)
}
