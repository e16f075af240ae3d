package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/cmd/punchbox/internal/datadir"
	"github.com/punchbox/punchbox/cmd/punchbox/internal/readiness"
	"github.com/punchbox/punchbox/cmd/punchbox/internal/sdnotify"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/sync/central"
	"github.com/punchbox/punchbox/web"
)

// app is the appliance wired from a configuration: opened (data directory
// locked, store open, listeners bound), then run, then closed.
type app struct {
	cfg        *config.Config
	log        *slog.Logger
	e          *env
	dir        *datadir.Dir
	db         *store.DB
	sup        *drivers.Supervisor
	link       *central.Link // nil without a broker
	srv        *web.Server
	panel      *web.Panel
	components []component
	restart    chan struct{} // the panel asks for a restart (to apply a restore)
	restarting atomic.Bool
	adviceOnce sync.Once
	advice     string // how to restore the store, once it is damaged
}

// errRestart ends run when the panel asked for a restart.
var errRestart = errors.New("restart requested by the panel")

// openApp opens the data directory and the store, seeds and builds the
// terminals, and binds the panel's listener. Nothing runs yet.
func openApp(ctx context.Context, e *env, cfg *config.Config, log *slog.Logger) (_ *app, err error) {
	a := &app{cfg: cfg, log: log, e: e, restart: make(chan struct{}, 1)}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if a.dir, err = datadir.Open(cfg.DataDir); err != nil {
		return nil, err
	}
	if a.dir.Tightened {
		log.Info("data directory made private (0700)", "path", a.dir.Path())
	}
	applyPendingRestore(ctx, a.dir, log)
	if a.db, err = store.Open(ctx, a.dir.Join(store.FileName), store.Options{Logger: log.With("component", "store")}); err != nil {
		return nil, err
	}
	if bad, err := a.db.CheckSettings(ctx); err == nil {
		for _, e := range bad {
			log.Warn("stored setting out of bounds", "err", e)
		}
	}
	if err := seedTerminals(ctx, a.db, cfg, log); err != nil {
		return nil, err
	}
	a.sup = drivers.NewSupervisor(drivers.Deps{Sink: a.db, State: a.db, Logger: log, Zone: cfg.Location()}, log.With("component", "terminals"))
	rec := &healthRecorder{db: a.db, log: log}
	a.sup.OnChange = rec.record
	if err := startTerminals(ctx, a.db, a.sup, log); err != nil {
		return nil, err
	}
	a.components = []component{{"terminals", a.sup.Run}}
	if err := a.openCentral(ctx); err != nil {
		return nil, err
	}
	pruner := &store.Pruner{DB: a.db, Logger: log.With("component", "retention"), Days: func(ctx context.Context) int {
		return a.db.IntSetting(ctx, "retention.days")
	}}
	backups := &store.Scheduler{DB: a.db, Dir: a.dir.Join("backups"), Meta: store.BackupMeta{Version: version, Site: cfg.Site, Box: cfg.Box},
		Delay: 10 * time.Minute, Logger: log.With("component", "backup"),
		EveryOf: func(ctx context.Context) time.Duration {
			return time.Duration(a.db.IntSetting(ctx, "backup.every_hours")) * time.Hour
		},
		KeepOf: func(ctx context.Context) int { return a.db.IntSetting(ctx, "backup.keep") },
	}
	if err := a.openPanel(ctx, backups.Dir, backups.Meta); err != nil {
		return nil, err
	}
	// The full check of the store a minute after start (it may have been
	// damaged while the box was off), then daily.
	integrity := &store.Checker{DB: a.db, Delay: time.Minute, Every: 24 * time.Hour, Logger: log.With("component", "integrity")}
	a.components = append(a.components, component{"retention", pruner.Run}, component{"backups", backups.Run},
		component{"integrity", integrity.Run}, component{"restart", a.awaitRestart})
	return a, nil
}

// openPanel builds the panel and binds its listener.
func (a *app) openPanel(ctx context.Context, backupDir string, meta store.BackupMeta) error {
	cfg, log := a.cfg, a.log
	secret, created, err := web.LoadOrCreateSecret(a.dir.Path())
	if err != nil {
		return err
	}
	if created {
		log.Info("generated the panel's secret", "file", a.dir.Join(web.SecretFile))
	}
	deps := web.Deps{
		Store: a.db, Terminals: a.sup, Secret: secret, DataDir: a.dir.Path(),
		Site: cfg.Site, Box: cfg.Box, Version: version, Started: processStart, Zone: cfg.Location(),
		Insecure: cfg.Web.InsecureHTTP, Hosts: cfg.Web.Hosts, Origins: cfg.Web.CORSOrigins,
		Healthy: a.healthy, Backups: backupDir, BackupMeta: meta, Restart: a.requestRestart, SettingChanged: a.settingChanged, Readiness: a.readiness,
		Logger: log.With("component", "web"),
	}
	if a.link != nil {
		deps.Link = func() web.LinkStatus {
			s := a.link.State()
			return web.LinkStatus{Configured: true, Connected: s.Connected, Since: s.Since, Broker: s.Broker, Session: s.Session, LastError: s.LastError, Batches: s.Batches}
		}
	}
	a.panel = web.NewPanel(deps)
	if err := a.panel.Prepare(ctx); err != nil {
		return err
	}
	a.srv = web.New(web.Options{
		Listen:       cfg.Web.Listen,
		InsecureHTTP: cfg.Web.InsecureHTTP,
		CertFile:     cfg.Web.CertFile,
		KeyFile:      cfg.Web.KeyFile,
		CertDir:      a.dir.Join("tls"),
		Plain:        a.panel.PlainHandler(),
	}, a.panel.Handler(), log.With("component", "web"))
	if err := a.srv.Listen(); err != nil {
		return err
	}
	if cfg.Web.InsecureHTTP {
		log.Warn("web.insecure_http is on: the panel is served without TLS; use it only for the demo and tests")
	}
	a.components = append(a.components, component{"web", a.srv.Run}, component{"panel", a.panel.Run})
	return nil
}

// settingChanged applies a setting the panel changed to what runs now.
// Retention and the backup schedule read theirs each round.
func (a *app) settingChanged(key string, value any) {
	switch key {
	case "uplink.backfill_rate":
		if rate, ok := value.(float64); ok && a.link != nil {
			if err := a.link.SetBackfillRate(rate); err != nil {
				a.log.Warn("back-fill rate not changed", "err", err)
				return
			}
			a.log.Info("back-fill rate changed", "punches_per_s", rate)
		}
	}
}

// requestRestart asks run to stop everything and return errRestart, so
// that the box reopens with a restore the panel staged.
func (a *app) requestRestart() {
	select {
	case a.restart <- struct{}{}:
	default:
	}
}

func (a *app) awaitRestart(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-a.restart:
		a.restarting.Store(true)
		return errRestart
	}
}

// openCentral builds the link to the broker, when one is configured.
func (a *app) openCentral(ctx context.Context) error {
	m := a.cfg.MQTT
	if m.URL == "" {
		a.log.Warn("no mqtt.url: punches are kept on the box and not forwarded to central")
		return nil
	}
	rate := m.BackfillRate
	var stored any
	if ok, err := a.db.Setting(ctx, "uplink.backfill_rate", &stored); err == nil && ok {
		// Set in the panel or by central; a stored value out of bounds
		// was reported at start and gives the default.
		if v, err := a.db.SettingValue(ctx, "uplink.backfill_rate"); err == nil {
			rate, _ = v.(float64)
		}
	}
	var err error
	a.link, err = central.New(central.Options{
		URL: m.URL, Username: m.Username, Password: m.Password, CAFile: m.CAFile, CertFile: m.CertFile, KeyFile: m.KeyFile,
		ServerName: m.ServerName, ClientID: m.ClientID, Site: a.cfg.Site, Box: a.cfg.Box, Version: version, Started: processStart,
		DataDir: a.cfg.DataDir, KeepAlive: m.KeepAliveDuration(), BatchSize: m.BatchSize, Window: m.Window, BackfillRate: rate,
		CentralAck: m.CentralAck,
	}, a.db, a.sup, a.log.With("component", "central"))
	if err != nil {
		return err
	}
	watcher := &central.Watcher{Link: a.link, Terminals: a.sup, Store: a.db, DataDir: a.cfg.DataDir, Logger: a.log.With("component", "events")}
	a.components = append(a.components, component{"central", a.link.Run}, component{"events", watcher.Run})
	return nil
}

// healthy is /healthz's check, which the dashboard shows: the data
// directory is there, the store is sound and can write, and the panel
// serves. A damaged store's error says how to restore it.
func (a *app) healthy(ctx context.Context) error {
	serr := a.db.Healthy(ctx)
	if errors.Is(serr, store.ErrDamaged) {
		// Worked out once: no backup is taken of a damaged store, and
		// /healthz may be asked often.
		a.adviceOnce.Do(func() { a.advice = readiness.RestoreAdvice(a.cfg.DataDir) })
		serr = fmt.Errorf("%w; %s", serr, a.advice)
	}
	return errors.Join(a.dir.Healthy(ctx), serr, a.srv.Healthy(ctx))
}

// alive is the watchdog's check: the process is not wedged. The data
// directory is there, the store answers a query and the panel serves. A
// damaged store or a full disk makes the box unhealthy, not dead: a restart
// would not mend either.
func (a *app) alive(ctx context.Context) error {
	return errors.Join(a.dir.Healthy(ctx), a.db.Answers(ctx), a.srv.Healthy(ctx))
}

// run tells systemd it is ready, runs every component until ctx ends or one
// fails, and reports stopping.
func (a *app) run(ctx context.Context) error {
	notify := sdnotify.New(a.e.lookup)
	interval, _ := sdnotify.WatchdogInterval(a.e.lookup)
	wd := &sdnotify.Watchdog{Notifier: notify, Interval: interval, Healthy: a.alive, Logger: a.log.With("component", "watchdog")}
	components := append(a.components, component{"watchdog", wd.Run})
	if err := notify.Ready(fmt.Sprintf("serving %s", a.srv.URL())); err != nil {
		a.log.Warn("tell systemd we are ready", "err", err)
	}
	a.log.Info("ready", "panel", a.srv.URL(), "terminals", len(a.sup.Healths()), "startup", time.Since(processStart).Round(time.Millisecond), "watchdog", interval)
	err := runComponents(ctx, stopBudget, func() {
		if a.restarting.Load() {
			a.log.Info("restarting")
			return
		}
		if err := notify.Stopping(); err != nil {
			a.log.Debug("tell systemd we are stopping", "err", err)
		}
		a.log.Info("stopping")
	}, components)
	if err == nil {
		a.log.Info("stopped")
	}
	return err
}

// close releases what openApp opened: the store last but for the lock.
func (a *app) close() {
	if a.db != nil {
		if err := a.db.Close(); err != nil {
			a.log.Warn("close store", "err", err)
		}
	}
	if a.dir != nil {
		a.dir.Close()
	}
}
