package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/cmd/punchbox/internal/datadir"
	"github.com/punchbox/punchbox/cmd/punchbox/internal/readiness"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/internal/sysinfo"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/web"
)

// readiness runs the production-readiness report on the running box.
func (a *app) readiness(ctx context.Context) []web.Check {
	in := readinessInput(a.cfg, a.db, supervised(a.e))
	in.Runner = readiness.Runner{Known: true, UID: os.Geteuid(), How: "the running box"}
	in.Healths = a.sup.Healths()
	if in.Healths == nil {
		in.Healths = []drivers.Health{} // running, with no terminal
	}
	if a.link != nil {
		s := a.link.State()
		in.Link = &readiness.Link{Connected: s.Connected, Since: s.Since, LastError: s.LastError}
	}
	return webChecks(readiness.Run(ctx, in))
}

// readinessInput is what the checks of a box look at, running or not: its
// configuration, store, version, kernel clock and panel certificate.
func readinessInput(cfg *config.Config, db *store.DB, supervised bool) readiness.Input {
	clock := sysinfo.ReadClock()
	in := readiness.Input{Config: cfg, Store: db, Version: version, Supervised: supervised,
		Clock: readiness.Clock{Known: clock.Known, Synced: clock.Synced}, CertFile: cfg.Web.CertFile,
		Generated: cfg.Web.CertFile == "" && !cfg.Web.InsecureHTTP}
	if in.Generated {
		in.CertFile = filepath.Join(cfg.DataDir, "tls", "cert.pem")
	}
	return in
}

// supervised reports whether systemd runs the box with a watchdog.
func supervised(e *env) bool {
	_, notify := e.lookup("NOTIFY_SOCKET")
	_, wd := e.lookup("WATCHDOG_USEC")
	return notify && wd
}

func webChecks(cs []readiness.Check) []web.Check {
	out := make([]web.Check, len(cs))
	for i, c := range cs {
		// A check not run is not OK; its detail begins "not checked".
		out[i] = web.Check{Name: c.Name, Title: c.Title, OK: c.OK, Detail: c.Detail}
	}
	return out
}

// runnerOf tells whom the box with the data directory dataDir runs as:
// while it runs, the user of its process (its pid is in the lock file);
// otherwise the owner of the data directory, which the box made.
func runnerOf(dataDir string) readiness.Runner {
	if errors.Is(datadir.Check(dataDir), datadir.ErrLocked) {
		if b, err := os.ReadFile(filepath.Join(dataDir, datadir.LockFile)); err == nil {
			if uid, ok := processUID(strings.TrimSpace(string(b))); ok {
				return readiness.Runner{Known: true, UID: uid, How: "the running box"}
			}
		}
	}
	fi, err := os.Stat(dataDir)
	if err != nil {
		return readiness.Runner{}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return readiness.Runner{}
	}
	return readiness.Runner{Known: true, UID: int(st.Uid), How: "the owner of the data directory"}
}

// processUID reads the effective user id of process pid from /proc.
func processUID(pid string) (int, bool) {
	if _, err := strconv.Atoi(pid); err != nil {
		return 0, false
	}
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		// Uid:	real	effective	saved	filesystem
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "Uid:" {
			uid, err := strconv.Atoi(f[2])
			return uid, err == nil
		}
	}
	return 0, false
}
