package readiness

import (
	"context"
	"time"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/store"
)

// Check is one line of the report.
type Check struct {
	Name   string // short and stable, e.g. "tls"
	Title  string // for people, e.g. "Panel served over HTTPS"
	OK     bool
	Detail string // what was found; when not OK, what to do
}

// Clock is what the box knows of its own clock's synchronisation.
type Clock struct {
	Known  bool // the kernel said; false off Linux
	Synced bool
}

// Link is the state of the link to central, when the box runs one.
type Link struct {
	Connected bool
	Since     time.Time
	LastError string
}

// Input is what the checks look at. Store and Config are required; the
// rest describes a running box and may be zero when checking a box that
// is not running.
type Input struct {
	Config     *config.Config
	Store      *store.DB
	Version    string
	Healths    []drivers.Health // the running terminals
	Link       *Link            // nil: not running, or no mqtt.url
	Clock      Clock
	Supervised bool   // run by systemd with a watchdog
	CertFile   string // the panel's certificate in use: web.cert_file or the generated one
	Generated  bool   // the certificate is the self-signed one
	Now        time.Time
}

// Run runs every check in a fixed order.
func Run(ctx context.Context, in Input) []Check {
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	checks := []func(context.Context, Input) Check{
		checkTLS, checkAdmin, checkDebug, checkVersion, checkSupervised,
		checkCentral, checkCentralTLS, checkCentralLink, checkSecretsInConfig,
		checkClock, checkTerminals, checkTerminalClocks,
		checkDisk, checkBackups, checkDataDir,
	}
	out := make([]Check, 0, len(checks))
	for _, c := range checks {
		out = append(out, c(ctx, in))
	}
	return out
}

func ok(name, title, detail string) Check {
	return Check{Name: name, Title: title, OK: true, Detail: detail}
}
func bad(name, title, detail string) Check {
	return Check{Name: name, Title: title, OK: false, Detail: detail}
}
