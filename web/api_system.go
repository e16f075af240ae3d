package web

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/internal/sysinfo"
)

// systemRoutes serves system status and the production-readiness report.
func (p *Panel) systemRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/system", access: viewer, tag: "system", summary: "The box: version, uptime, machine, store and health", out: SystemStatus{}, h: p.getSystem},
		{method: "GET", path: "/api/v1/readiness", access: viewer, tag: "system", summary: "Is the box ready for production: each check and what to do", out: []Check{}, h: p.getReadiness},
	}
}

// SystemStatus is the box at a glance.
type SystemStatus struct {
	Version    string       `json:"version"`
	Site       string       `json:"site"`
	Box        string       `json:"box"`
	Started    time.Time    `json:"started"`
	UptimeS    int64        `json:"uptime_s"` // seconds since the process started
	Machine    sysinfo.Info `json:"machine"`
	StoreBytes int64        `json:"store_bytes"` // the database file and its write-ahead log
	Punches    int64        `json:"punches"`     // stored now
	Received   int64        `json:"received"`    // punches handed to the store since start, repeats included
	Stored     int64        `json:"stored"`      // of those, the new ones
	Healthy    bool         `json:"healthy"`
	Problem    string       `json:"problem,omitempty"` // why not healthy
}

// systemStatus reads the box's status.
func (p *Panel) systemStatus(ctx context.Context) (SystemStatus, error) {
	now := p.d.Now()
	s := SystemStatus{
		Version: p.d.Version, Site: p.d.Site, Box: p.d.Box, Started: p.d.Started.UTC(),
		UptimeS: int64(now.Sub(p.d.Started) / time.Second), Machine: sysinfo.Read(p.d.DataDir),
	}
	// Health first: a damaged store may fail the count, and then the
	// status still says why.
	herr := p.healthy(ctx)
	if herr != nil {
		s.Problem = herr.Error()
	} else {
		s.Healthy = true
	}
	cs := p.d.Store.Counters()
	s.Received, s.Stored = cs.Received, cs.Stored
	var err error
	if s.StoreBytes, err = storeSize(p.d.Store.Path()); err != nil {
		return s, err
	}
	if s.Punches, err = p.d.Store.CountPunches(ctx); err != nil && herr == nil {
		return s, err
	}
	return s, nil
}

// storeSize is the bytes of the database file and its write-ahead log.
func storeSize(path string) (int64, error) {
	var n int64
	for _, f := range []string{path, path + "-wal"} {
		fi, err := os.Stat(f)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return 0, err
		default:
			n += fi.Size()
		}
	}
	return n, nil
}

func (p *Panel) getSystem(c *gin.Context) {
	s, err := p.systemStatus(c.Request.Context())
	if err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s)
}

// readiness runs the production-readiness report; without one, it is empty.
func (p *Panel) readiness(ctx context.Context) []Check {
	if p.d.Readiness == nil {
		return []Check{}
	}
	cs := p.d.Readiness(ctx)
	if cs == nil {
		cs = []Check{}
	}
	return cs
}

func (p *Panel) getReadiness(c *gin.Context) {
	c.JSON(http.StatusOK, p.readiness(c.Request.Context()))
}
