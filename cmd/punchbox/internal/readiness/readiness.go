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
	Name  string `json:"name"`  // short and stable, e.g. "tls"
	Title string `json:"title"` // for people, e.g. "Panel served over HTTPS"
	// Status says whether the check passed, failed, or could not be run
	// (the box is not running, say): a check not run is not a pass.
	Status Status `json:"status"`
	OK     bool   `json:"ok"`     // Status is StatusOK
	Detail string `json:"detail"` // what was found; when not OK, what to do
}

// Status is the outcome of a check.
type Status string

// Statuses.
const (
	StatusOK         Status = "ok"
	StatusFail       Status = "fail"
	StatusNotChecked Status = "not checked"
)

// Runner is the user the box runs as, as far as it can be told.
type Runner struct {
	Known bool
	UID   int
	How   string // how it was told, e.g. "the running box"
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

// Input is what the checks look at. Config is required, and Store unless
// StoreErr says why it could not be opened; the rest describes a running
// box and may be zero when checking a box that is not running.
type Input struct {
	Config     *config.Config
	Store      *store.DB
	StoreErr   error // why Store is nil: it could not be opened (damaged)
	Runner     Runner
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
		checkStore, checkTLS, checkAdmin, checkDebug, checkVersion, checkSupervised, checkUser,
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

// Count counts checks by status.
func Count(cs []Check) (passed, failed, notChecked int) {
	for _, c := range cs {
		switch c.Status {
		case StatusOK:
			passed++
		case StatusNotChecked:
			notChecked++
		default:
			failed++
		}
	}
	return passed, failed, notChecked
}

func ok(name, title, detail string) Check {
	return Check{Name: name, Title: title, Status: StatusOK, OK: true, Detail: detail}
}
func bad(name, title, detail string) Check {
	return Check{Name: name, Title: title, Status: StatusFail, Detail: detail}
}

// notChecked is a check that could not be run: detail says why.
func notChecked(name, title, detail string) Check {
	return Check{Name: name, Title: title, Status: StatusNotChecked, Detail: "not checked: " + detail}
}
