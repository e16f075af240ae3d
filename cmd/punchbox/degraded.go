package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/cmd/punchbox/internal/datadir"
	"github.com/punchbox/punchbox/cmd/punchbox/internal/readiness"
	"github.com/punchbox/punchbox/cmd/punchbox/internal/sdnotify"
	"github.com/punchbox/punchbox/web"
)

// A store found damaged at start cannot be opened, and starting again only
// finds it damaged again: exiting would have systemd restart the box every
// few seconds, forever, logging the same error each time. Instead the box
// stays up degraded: it says once, in the log, what is wrong and the
// command that restores it, tells systemd (READY with the reason as its
// status, and watchdog pings while it serves), and serves on the panel's
// address only /healthz, unhealthy with its reason, and for everything
// else a page saying that the store is damaged. No terminal is read and
// nothing is written until an admin stops the service and restores a
// backup.

// degradedPage is what the panel's address serves while the box is
// degraded. It holds no path or detail: it is served to anyone.
const degradedPage = `punchbox: the store is damaged.

The box keeps no punches until it is restored: the terminals keep them
meanwhile. On the box, the log says what was found and which backup to
restore:

    journalctl -u punchbox

then:

    systemctl stop punchbox
    punchbox restore BACKUP-FILE
    systemctl start punchbox
`

// runDegraded keeps the box up without its store until ctx ends, as
// described above. damage is why the store could not be opened.
func runDegraded(ctx context.Context, e *env, cfg *config.Config, log *slog.Logger, damage error) error {
	dir, err := datadir.Open(cfg.DataDir)
	if err != nil {
		return errors.Join(damage, err)
	}
	defer dir.Close()
	advice := readiness.RestoreAdvice(cfg.DataDir)
	log.Error("the store is damaged: the box serves only /healthz (unhealthy) and keeps no punches until a backup is restored",
		"err", damage, "what_to_do", advice)

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		plain(w, http.StatusServiceUnavailable, "unhealthy: store damaged\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		plain(w, http.StatusServiceUnavailable, degradedPage)
	})
	srv := web.New(web.Options{
		Listen: cfg.Web.Listen, InsecureHTTP: cfg.Web.InsecureHTTP, CertFile: cfg.Web.CertFile, KeyFile: cfg.Web.KeyFile,
		CertDir: dir.Join("tls"), Plain: mux,
	}, mux, log.With("component", "web"))
	if err := srv.Listen(); err != nil {
		return errors.Join(damage, err)
	}

	notify := sdnotify.New(e.lookup)
	interval, _ := sdnotify.WatchdogInterval(e.lookup)
	wd := &sdnotify.Watchdog{Notifier: notify, Interval: interval, Healthy: func(ctx context.Context) error {
		return errors.Join(dir.Healthy(ctx), srv.Healthy(ctx))
	}, Logger: log.With("component", "watchdog")}
	if err := notify.Ready(fmt.Sprintf("store damaged: restore a backup (journalctl -u punchbox says how); serving %s/healthz", srv.URL())); err != nil {
		log.Warn("tell systemd we are ready", "err", err)
	}
	err = runComponents(ctx, stopBudget, func() {
		if err := notify.Stopping(); err != nil {
			log.Debug("tell systemd we are stopping", "err", err)
		}
		log.Info("stopping")
	}, []component{{"web", srv.Run}, {"watchdog", wd.Run}})
	if err == nil {
		log.Info("stopped")
	}
	return err
}

func plain(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(body))
}
