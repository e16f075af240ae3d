package main

import (
	"context"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/readiness"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/internal/sysinfo"
	"github.com/punchbox/punchbox/web"
)

// readiness runs the production-readiness report on the running box.
func (a *app) readiness(ctx context.Context) []web.Check {
	in := readiness.Input{Config: a.cfg, Store: a.db, Version: version, Healths: a.sup.Healths(), Supervised: supervised(a.e)}
	if in.Healths == nil {
		in.Healths = []drivers.Health{} // running, with no terminal
	}
	clock := sysinfo.ReadClock()
	in.Clock = readiness.Clock{Known: clock.Known, Synced: clock.Synced}
	if a.link != nil {
		s := a.link.State()
		in.Link = &readiness.Link{Connected: s.Connected, Since: s.Since, LastError: s.LastError}
	}
	in.CertFile, in.Generated = a.cfg.Web.CertFile, a.cfg.Web.CertFile == "" && !a.cfg.Web.InsecureHTTP
	if in.Generated {
		in.CertFile = a.dir.Join("tls", "cert.pem")
	}
	return webChecks(readiness.Run(ctx, in))
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
