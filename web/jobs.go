package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Long operations started from the panel (a big log pull, a backup, a
// restore, a CSV import) run as jobs: the request answers 202 with the job
// at once, and the job reports its progress to GET /api/v1/jobs/:id and to
// the live feed. Jobs are owned by Panel.Run, which waits for them.

// Job is a long operation and how far it got.
type Job struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"`   // e.g. "terminal.pull", "backup.create"
	Target   string    `json:"target"` // what it works on, e.g. a terminal id
	Actor    string    `json:"actor"`  // who started it
	State    string    `json:"state"`  // running, done or failed
	Done     int64     `json:"done"`   // units of work done ...
	Total    int64     `json:"total"`  // ... of this many; 0 while unknown
	Unit     string    `json:"unit,omitempty"`
	Message  string    `json:"message,omitempty"` // what it is doing now
	Error    string    `json:"error,omitempty"`   // why it failed
	Result   any       `json:"result,omitempty"`  // what it produced, when done
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
}

// Job states.
const (
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// keptJobs is how many finished jobs are remembered.
const keptJobs = 50

// jobs runs and remembers jobs.
type jobs struct {
	p *Panel

	mu      sync.Mutex
	ctx     context.Context // Run's; nil while not running
	wg      sync.WaitGroup
	list    []*Job          // oldest first
	running map[string]bool // kind+target of running jobs: one at a time each
}

func newJobs(p *Panel) *jobs { return &jobs{p: p, running: map[string]bool{}} }

// run accepts jobs until ctx ends, then waits for the running ones, which
// see ctx end too.
func (js *jobs) run(ctx context.Context) error {
	js.mu.Lock()
	js.ctx = ctx
	js.mu.Unlock()
	<-ctx.Done()
	js.mu.Lock()
	js.ctx = nil
	js.mu.Unlock()
	js.wg.Wait()
	return nil
}

// Progress is how a job reports.
type Progress struct {
	js *jobs
	j  *Job

	last time.Time // the latest report published
	then func()    // runs after the job is recorded done; see Then
}

// Then arranges for fn to run once the job has been recorded and reported
// done, in the job's goroutine; it does not run when the job fails.
func (pg *Progress) Then(fn func()) { pg.then = fn }

// Set reports done of total units and what the job is doing.
func (pg *Progress) Set(done, total int64, message string) {
	pg.js.mu.Lock()
	pg.j.Done, pg.j.Total, pg.j.Message = done, total, message
	now := time.Now()
	publish := now.Sub(pg.last) >= 200*time.Millisecond || (total > 0 && done >= total)
	if publish {
		pg.last = now
	}
	snap := *pg.j
	pg.js.mu.Unlock()
	if publish {
		pg.js.p.live.publishJob(snap)
	}
}

// SetUnit names what Done and Total count, e.g. "records" or "bytes".
func (pg *Progress) SetUnit(unit string) {
	pg.js.mu.Lock()
	pg.j.Unit = unit
	pg.js.mu.Unlock()
}

// errBusy is a job of the same kind already running on the same target.
var errBusy = &statusError{http.StatusConflict, "busy", "the same operation is already running"}

// start runs fn as a job. At most one job of a kind runs per target.
func (js *jobs) start(kind, target, actor string, fn func(ctx context.Context, pg *Progress) (any, error)) (Job, error) {
	id := make([]byte, 8)
	rand.Read(id)
	j := &Job{ID: hex.EncodeToString(id), Kind: kind, Target: target, Actor: actor, State: JobRunning, Started: time.Now().UTC()}
	key := kind + "\x00" + target
	js.mu.Lock()
	ctx := js.ctx
	switch {
	case ctx == nil:
		js.mu.Unlock()
		return Job{}, fmt.Errorf("%w: the panel is shutting down", ErrUnavailable)
	case js.running[key]:
		js.mu.Unlock()
		return Job{}, errBusy
	}
	js.running[key] = true
	js.list = append(js.list, j)
	js.trimLocked()
	snap := *j
	js.wg.Add(1)
	js.mu.Unlock()
	js.p.live.publishJob(snap)
	go func() {
		defer js.wg.Done()
		pg := &Progress{js: js, j: j}
		res, err := fn(ctx, pg)
		js.mu.Lock()
		delete(js.running, key)
		j.Finished = time.Now().UTC()
		if err != nil {
			j.State = JobFailed
			_, code := statusOf(err)
			if code == "internal" {
				j.Error = "internal error; the box's log has the details"
			} else {
				j.Error = err.Error()
			}
		} else {
			j.State, j.Result = JobDone, res
			if j.Total > 0 {
				j.Done = j.Total
			}
		}
		snap := *j
		js.mu.Unlock()
		if err != nil && !errors.Is(err, context.Canceled) {
			js.p.log.Warn("job failed", "job", kind, "target", target, "err", err)
		} else if err == nil {
			js.p.log.Info("job done", "job", kind, "target", target, "took", snap.Finished.Sub(snap.Started).Round(time.Millisecond))
		}
		js.p.live.publishJob(snap)
		if err == nil && pg.then != nil {
			pg.then()
		}
	}()
	return snap, nil
}

// trimLocked forgets the oldest finished jobs beyond keptJobs.
func (js *jobs) trimLocked() {
	for len(js.list) > keptJobs {
		i := 0
		for i < len(js.list) && js.list[i].State == JobRunning {
			i++
		}
		if i == len(js.list) {
			return
		}
		js.list = append(js.list[:i], js.list[i+1:]...)
	}
}

// get returns the job with id.
func (js *jobs) get(id string) (Job, bool) {
	js.mu.Lock()
	defer js.mu.Unlock()
	for _, j := range js.list {
		if j.ID == id {
			return *j, true
		}
	}
	return Job{}, false
}

// all returns the remembered jobs, newest first.
func (js *jobs) all() []Job {
	js.mu.Lock()
	defer js.mu.Unlock()
	out := make([]Job, 0, len(js.list))
	for i := len(js.list) - 1; i >= 0; i-- {
		out = append(out, *js.list[i])
	}
	return out
}

func (p *Panel) jobRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/jobs", access: viewer, tag: "jobs", summary: "Recent long operations, newest first", out: []Job{}, h: p.listJobs},
		{method: "GET", path: "/api/v1/jobs/:id", access: viewer, tag: "jobs", summary: "One long operation and its progress", out: Job{}, h: p.getJob},
	}
}

func (p *Panel) listJobs(c *gin.Context) { c.JSON(http.StatusOK, p.jobs.all()) }

func (p *Panel) getJob(c *gin.Context) {
	j, ok := p.jobs.get(c.Param("id"))
	if !ok {
		p.fail(c, fmt.Errorf("job %q: %w", c.Param("id"), ErrNotFound))
		return
	}
	c.JSON(http.StatusOK, j)
}

// startJob starts a job for the request's principal and answers 202 with
// it, or the error.
func (p *Panel) startJob(c *gin.Context, kind, target string, fn func(ctx context.Context, pg *Progress) (any, error)) {
	j, err := p.jobs.start(kind, target, who(c).name(), fn)
	if err != nil {
		p.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/jobs/"+j.ID)
	c.JSON(http.StatusAccepted, j)
}
