package web

import (
	"context"
	"hash/fnv"
	"strconv"
	"sync"
	"time"
)

// The dashboard is the same for every user and is what every open panel
// asks for, so it is computed once for all of them: a request arriving
// while another computes it waits for that result, and a result is reused
// for up to dashboardTTL while nothing it shows has changed (no punch
// stored, no terminal's state changed). The live feed carries what happens
// in between.

// dashboardTTL bounds how old a reused dashboard may be.
const dashboardTTL = time.Second

type dashCache struct {
	mu       sync.Mutex
	d        Dashboard
	key      uint64
	at       time.Time
	inflight chan struct{} // closed when the computation in flight ends
	err      error         // of the last computation
}

// dashboardKey sums up what the dashboard shows that can change between
// two requests: the punches stored and each terminal's state.
func (p *Panel) dashboardKey() uint64 {
	h := fnv.New64a()
	h.Write(strconv.AppendInt(nil, p.d.Store.Counters().Stored, 10))
	for _, t := range p.d.Terminals.Healths() {
		h.Write([]byte(t.ID))
		h.Write([]byte(t.State))
		for _, ts := range []time.Time{t.Since, t.LastContact, t.LastErrorAt, t.Info.ClockRead} {
			h.Write(strconv.AppendInt(nil, ts.UnixNano(), 10))
		}
	}
	return h.Sum64()
}

// cachedDashboard returns a dashboard no older than dashboardTTL that
// reflects every stored punch and terminal state change.
func (p *Panel) cachedDashboard(ctx context.Context) (Dashboard, error) {
	c := &p.dash
	for {
		key := p.dashboardKey()
		now := time.Now()
		c.mu.Lock()
		if c.err == nil && !c.at.IsZero() && c.key == key && now.Sub(c.at) < dashboardTTL {
			d := c.d
			c.mu.Unlock()
			return d, nil
		}
		if wait := c.inflight; wait != nil {
			c.mu.Unlock()
			select {
			case <-wait:
				continue // use its result if it is still current
			case <-ctx.Done():
				return Dashboard{}, ctx.Err()
			}
		}
		done := make(chan struct{})
		c.inflight = done
		c.mu.Unlock()

		d, err := p.dashboard(ctx)
		c.mu.Lock()
		c.d, c.key, c.at, c.err, c.inflight = d, key, now, err, nil
		c.mu.Unlock()
		close(done)
		return d, err
	}
}
