package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/internal/ratelog"
)

func init() {
	// Gin's debug mode prints every route and warnings to stdout; the box
	// never runs in it.
	gin.SetMode(gin.ReleaseMode)
}

// Panel is the admin panel and its API: everything served behind the
// listener. NewPanel does no I/O; Prepare does the first-start work, Run
// owns the panel's goroutines (live feed, jobs) and Handler serves.
type Panel struct {
	d   Deps
	log *slog.Logger

	sessionKey []byte // signs session cookies
	csrfKey    []byte // derives CSRF tokens from sessions
	deviceKey  []byte // signs known-device cookies

	limits  *limits    // sign-in attempts per client address and per account
	lanes   *hashLanes // password checks at once, clean and failing clients apart
	lockLog *ratelog.Limiter
	setup   setupState

	cop     *http.CrossOriginProtection
	hosts   *hostList
	metrics *metrics
	jobs    *jobs
	live    *hub
	ui      *ui
	dash    dashCache

	engine *gin.Engine
	routes []route
}

// Sign-in attempts allowed without a wait, per client address and per
// account.
const (
	clientFree  = 10
	accountFree = 5
)

// Session lifetime: fixed from login; it does not slide with use.
const sessionTTL = 12 * time.Hour

// NewPanel returns the panel for d. It panics when a required dependency
// is missing, since that is a programming error.
func NewPanel(d Deps) *Panel {
	if d.Store == nil || d.Terminals == nil || len(d.Secret) < secretLen || d.DataDir == "" {
		panic("web: NewPanel needs Store, Terminals, Secret and DataDir")
	}
	d.defaults()
	p := &Panel{
		d:          d,
		log:        d.Logger,
		sessionKey: mac(d.Secret, "punchbox session v1"),
		csrfKey:    mac(d.Secret, "punchbox csrf v1"),
		deviceKey:  mac(d.Secret, "punchbox device v1"),
		limits:     newLimits(d.Now),
		lanes:      newHashLanes(),
		lockLog:    ratelog.New(d.Logger, 0, d.Now),
		hosts:      newHostList(d.Hosts),
		metrics:    newMetrics(),
	}
	p.cop = http.NewCrossOriginProtection()
	for _, o := range d.Origins {
		// Checked by config validation; a bad one here is a bug.
		if err := p.cop.AddTrustedOrigin(o); err != nil {
			panic("web: origin " + o + ": " + err.Error())
		}
	}
	p.jobs = newJobs(p)
	p.live = newHub(p)
	p.ui = newUI()
	p.routes = p.table()
	p.engine = p.build(p.routes)
	return p
}

// Handler returns the handler for the panel's HTTPS listener.
func (p *Panel) Handler() http.Handler { return p.engine }

// PlainHandler serves plain-HTTP requests to the HTTPS port: push
// terminals (which rarely speak TLS) and health checks are served, and
// everything else is redirected to HTTPS on the same host and path.
func (p *Panel) PlainHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/healthz" || strings.HasPrefix(r.URL.Path, "/iclock/"):
			p.engine.ServeHTTP(w, r)
		case !p.hosts.allowed(r.Host):
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusMisdirectedRequest)
			w.Write([]byte("this box does not answer to that name; an admin can add it to web.hosts\n"))
		default:
			redirectToHTTPS(w, r)
		}
	})
}

// Run owns the panel's background work until ctx ends: the live feed, the
// jobs started from the panel, and pruning of expired sessions and stale
// rate-limit entries. It waits for all of it before returning.
func (p *Panel) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { p.live.run(ctx) })
	wg.Go(func() { p.housekeep(ctx) })
	err := p.jobs.run(ctx)
	wg.Wait()
	return err
}

// housekeep prunes expired sessions and forgotten rate-limit entries every
// hour.
func (p *Panel) housekeep(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.limits.prune()
		if n, err := p.d.Store.PruneSessions(ctx); err != nil && !errors.Is(err, context.Canceled) {
			p.log.Debug("prune sessions", "err", err)
		} else if n > 0 {
			p.log.Debug("pruned expired sessions", "sessions", n)
		}
	}
}
