package main

import (
	"context"
	"path/filepath"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/cmd/punchbox/internal/readiness"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/internal/sysinfo"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/web"
)

// readiness runs the production-readiness report on the running box.
func (a *app) readiness(ctx context.Context) []web.Check {
	in := readinessInput(a.cfg, a.db, supervised(a.e))
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
		out[i] = web.Check{Name: c.Name, Title: c.Title, OK: c.OK, Detail: c.Detail}
	}
	return out
}
