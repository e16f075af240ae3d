package web

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
)

// ImportResult says what a roster import did, or with dry_run would do.
type ImportResult struct {
	DryRun    bool `json:"dry_run"`
	Replace   bool `json:"replace"`
	Lines     int  `json:"lines"` // employees in the file
	Added     int  `json:"added"`
	Updated   int  `json:"updated"`
	Unchanged int  `json:"unchanged"`
	Removed   int  `json:"removed"` // with replace: stored employees the file does not list
}

// ImportReport answers a roster file with bad lines: the API's error
// (code "invalid") and every problem found, each with its line. Nothing
// was written.
type ImportReport struct {
	Error ErrorBody   `json:"error"`
	Lines []LineError `json:"lines"`
}

func (p *Panel) exportEmployees(c *gin.Context) {
	// One read: a roster exported while it changes is still a roster that
	// was, which matters when it is imported again with replace.
	es, _, err := p.d.Store.Employees(c.Request.Context(), store.EmployeeFilter{})
	if err != nil {
		p.fail(c, err)
		return
	}
	p.startCSV(c, "employees")
	if err := encodeRoster(c.Writer, es); err != nil {
		// The status line is gone; a short body shows the download broke.
		p.log.Warn("roster export stopped", "err", err)
		panic(http.ErrAbortHandler)
	}
	p.log.Debug("roster export", "employees", len(es))
}

// csvBody checks that the request sends CSV in UTF-8.
func csvBody(c *gin.Context) error {
	ct := c.GetHeader("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "text/csv" {
		return fmt.Errorf("%w: %q: send text/csv", ErrMediaType, ct)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		return fmt.Errorf("%w: charset %q: send UTF-8", ErrMediaType, cs)
	}
	return nil
}

// queryFlag reads a true/false query parameter; absent is false.
func queryFlag(c *gin.Context, name string) (bool, error) {
	s := c.Query(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, badField(name, "want true or false")
	}
	return b, nil
}

func (p *Panel) importEmployees(c *gin.Context) {
	if err := csvBody(c); err != nil {
		p.fail(c, err)
		return
	}
	dry, err := queryFlag(c, "dry_run")
	if err != nil {
		p.fail(c, err)
		return
	}
	replace, err := queryFlag(c, "replace")
	if err != nil {
		p.fail(c, err)
		return
	}
	start := time.Now()
	f, err := parseRoster(c.Request.Body)
	if err != nil {
		p.fail(c, fmt.Errorf("read the roster: %w", bodyError(err)))
		return
	}
	if f.bad > 0 {
		msg := fmt.Sprintf("%d lines are bad", f.bad)
		if f.bad == 1 {
			msg = "1 line is bad"
		}
		if len(f.problems) < f.bad {
			msg += fmt.Sprintf("; the first %d problems are listed", len(f.problems))
		}
		p.log.Debug("roster import refused", "bad_lines", f.bad)
		c.AbortWithStatusJSON(http.StatusBadRequest, ImportReport{Error: ErrorBody{Code: "invalid", Message: msg}, Lines: f.problems})
		return
	}
	ctx := c.Request.Context()
	es := f.employees()
	var rr store.RosterResult
	if dry {
		rr, err = p.rosterDiff(ctx, es, replace)
	} else {
		rr, err = p.d.Store.PutEmployees(ctx, es, replace)
	}
	if err != nil {
		p.fail(c, err)
		return
	}
	res := ImportResult{DryRun: dry, Replace: replace, Lines: len(es),
		Added: rr.Added, Updated: rr.Updated, Unchanged: rr.Unchanged, Removed: rr.Removed}
	if !dry {
		detail := fmt.Sprintf("%d lines: %d added, %d updated, %d unchanged", res.Lines, res.Added, res.Updated, res.Unchanged)
		if replace {
			detail += fmt.Sprintf(", %d removed", res.Removed)
		}
		p.audit(c, "employee.import", "roster", detail)
	}
	p.log.Debug("roster import", "lines", res.Lines, "dry_run", dry, "took", time.Since(start))
	c.JSON(http.StatusOK, res)
}

// rosterDiff counts what PutEmployees(es, replace) would do, writing
// nothing. es has distinct PINs.
func (p *Panel) rosterDiff(ctx context.Context, es []punchbox.Employee, replace bool) (store.RosterResult, error) {
	var r store.RosterResult
	stored, _, err := p.d.Store.Employees(ctx, store.EmployeeFilter{})
	if err != nil {
		return r, err
	}
	old := make(map[string]punchbox.Employee, len(stored))
	for _, e := range stored {
		old[e.PIN] = e
	}
	for _, e := range es {
		prev, ok := old[e.PIN]
		switch {
		case !ok:
			r.Added++
		case prev != e:
			r.Updated++
		default:
			r.Unchanged++
		}
		delete(old, e.PIN)
	}
	if replace {
		r.Removed = len(old)
	}
	return r, nil
}
