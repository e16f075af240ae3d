package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/store"
)

// Terminals is the running terminals, as the panel uses them. The drivers'
// supervisor implements it.
type Terminals interface {
	Healths() []drivers.Health
	Health(id string) (drivers.Health, bool)
	Terminal(id string) (drivers.Terminal, bool)
	// Set starts the terminal, or restarts it with a changed configuration.
	Set(t punchbox.Terminal) error
	Remove(id string)
	// Watch returns a channel that receives after any health changes, and
	// a function that stops the watch.
	Watch() (<-chan struct{}, func())
}

// LinkStatus is the link to central as the panel shows it.
type LinkStatus struct {
	Configured bool      `json:"configured"` // false: no mqtt.url, punches stay on the box
	Connected  bool      `json:"connected"`
	Since      time.Time `json:"since,omitzero"` // when Connected last changed
	Broker     string    `json:"broker,omitempty"`
	Session    int64     `json:"session"`
	LastError  string    `json:"last_error,omitempty"`
	Batches    int64     `json:"batches"` // batches acknowledged this session
}

// Check is one line of the production-readiness report.
type Check struct {
	Name   string `json:"name"`   // what is checked, e.g. "tls"
	Title  string `json:"title"`  // for people, e.g. "Panel served over HTTPS"
	OK     bool   `json:"ok"`     // ready for production
	Detail string `json:"detail"` // what was found, and what to do when not OK
}

// Deps are what the box hands the panel. Store, Terminals, Secret and
// DataDir are required; the rest may be left zero.
type Deps struct {
	Store     *store.DB
	Terminals Terminals
	// Secret signs session cookies and CSRF tokens: at least 32 random
	// bytes, kept by LoadOrCreateSecret.
	Secret  []byte
	DataDir string // setup code, staged restores and uploads live here

	Site, Box string
	Version   string
	Started   time.Time      // process start, for uptime
	Zone      *time.Location // the site's zone: "today" on the dashboard
	// Insecure says the panel is served over plain HTTP (web.insecure_http):
	// cookies lose Secure and responses lose HSTS.
	Insecure bool
	// Hosts are names, besides the box's own, that requests may carry in
	// their Host header (web.hosts).
	Hosts []string
	// Origins may call the API from a browser on another origin (CORS,
	// web.cors_origins). None by default.
	Origins []string

	Healthy   HealthFunc                        // /healthz; nil: always healthy
	Link      func() LinkStatus                 // nil: no link to central
	Readiness func(ctx context.Context) []Check // the production-readiness report
	// Backups is where backups are kept, and BackupMeta what they record.
	Backups    string
	BackupMeta store.BackupMeta
	// Restart asks the box to restart in-process, applying a staged
	// restore before the store reopens. nil: restores cannot be applied
	// from the panel.
	Restart func()
	// SettingChanged, when set, is told of each setting the panel changed,
	// with its new value (an int or a float64), so that it takes effect.
	SettingChanged func(key string, value any)
	// Push serves push terminals at /iclock/; nil answers 404.
	Push http.Handler

	Logger *slog.Logger
	Now    func() time.Time

	// verify checks a user's password; nil: Store.Authenticate. Tests
	// replace it to hold a password check while they look at what waits.
	verify func(ctx context.Context, name, password string) (store.User, error)
}

// PendingRestoreFile is the name, in the data directory, of a backup
// uploaded for restore and verified: the box restores it before the store
// next opens.
const PendingRestoreFile = "restore-pending.tar.gz"

// HealthFunc reports nil while the box is healthy.
type HealthFunc func(ctx context.Context) error

func (d *Deps) defaults() {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.verify == nil {
		d.verify = d.Store.Authenticate
	}
	if d.Zone == nil {
		d.Zone = time.UTC
	}
	if d.Started.IsZero() {
		d.Started = d.Now()
	}
	// Backups name the box they come from.
	if d.BackupMeta.Site == "" {
		d.BackupMeta.Site = d.Site
	}
	if d.BackupMeta.Box == "" {
		d.BackupMeta.Box = d.Box
	}
	if d.BackupMeta.Version == "" {
		d.BackupMeta.Version = d.Version
	}
}
