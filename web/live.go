package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"
)

// The live feed, /api/v1/live: a WebSocket on which the box sends, as JSON
// text messages, every punch as it commits, every change of a terminal's
// health, and the progress of jobs. It only sends; whatever a client sends
// is read and dropped. A client too slow to keep up is disconnected and
// reconnects.

// LiveMessage is one message of the live feed.
type LiveMessage struct {
	Type     string      `json:"type"`               // punch, skipped, terminal, job
	Punch    *PunchView  `json:"punch,omitempty"`    // type punch
	Skipped  int64       `json:"skipped,omitempty"`  // type skipped: punches committed too fast to send one by one (a bulk log pull)
	Terminal *HealthLive `json:"terminal,omitempty"` // type terminal
	Job      *Job        `json:"job,omitempty"`      // type job
}

// HealthLive is a terminal's health with its id.
type HealthLive struct {
	ID string `json:"id"`
	HealthView
}

// Live feed limits.
const (
	liveBurst     = 100              // punches sent one by one per commit; the rest are counted
	liveQueue     = 256              // messages queued per client before it counts as too slow
	liveWriteWait = 10 * time.Second // per message
	livePing      = 30 * time.Second
)

// hub fans live messages out to the connected clients.
type hub struct {
	p *Panel

	mu      sync.Mutex
	clients map[*liveClient]bool
	closed  bool           // the panel is stopping: no new clients
	serving sync.WaitGroup // the clients' handlers, waited for by run
}

type liveClient struct {
	send chan []byte
	gone chan struct{} // closed when the hub drops the client
	once sync.Once
}

func (lc *liveClient) drop() { lc.once.Do(func() { close(lc.gone) }) }

func newHub(p *Panel) *hub { return &hub{p: p, clients: map[*liveClient]bool{}} }

// run follows the store and the terminals until ctx ends.
func (h *hub) run(ctx context.Context) {
	db := h.p.d.Store
	watch, stop := h.p.d.Terminals.Watch()
	defer stop()
	last := int64(-1)
	if b, err := db.Backlog(ctx); err == nil {
		last = b.LastSeq
	}
	healths := map[string]HealthView{}
	for _, hl := range h.p.d.Terminals.Healths() {
		healths[hl.ID] = healthView(hl)
	}
	for {
		changed := db.Changed()
		if last >= 0 {
			last = h.punches(ctx, last)
		} else if b, err := db.Backlog(ctx); err == nil {
			last = b.LastSeq
		}
		select {
		case <-ctx.Done():
			h.closeAll()
			h.serving.Wait()
			return
		case <-changed:
		case <-watch:
			h.terminals(healths)
		}
	}
}

// punches sends the punches committed after seq and returns the newest
// sequence seen.
func (h *hub) punches(ctx context.Context, after int64) int64 {
	b, err := h.p.d.Store.Backlog(ctx)
	if err != nil || b.LastSeq <= after {
		return after
	}
	if !h.listening() {
		return b.LastSeq
	}
	from := after
	if b.LastSeq-after > liveBurst {
		from = b.LastSeq - liveBurst
		h.broadcast(LiveMessage{Type: "skipped", Skipped: from - after})
	}
	ps, err := h.p.d.Store.Outbox(ctx, from, liveBurst)
	if err != nil {
		h.p.log.Debug("live feed: read punches", "err", err)
		return after
	}
	for _, v := range h.p.punchViews(ctx, ps) {
		h.broadcast(LiveMessage{Type: "punch", Punch: &v})
	}
	if len(ps) > 0 {
		return ps[len(ps)-1].Seq
	}
	return b.LastSeq
}

// terminals sends the terminals whose health changed since healths, and
// updates it.
func (h *hub) terminals(healths map[string]HealthView) {
	seen := map[string]bool{}
	for _, hl := range h.p.d.Terminals.Healths() {
		seen[hl.ID] = true
		v := healthView(hl)
		if old, ok := healths[hl.ID]; ok && reflect.DeepEqual(old, v) {
			continue
		}
		healths[hl.ID] = v
		h.broadcast(LiveMessage{Type: "terminal", Terminal: &HealthLive{ID: hl.ID, HealthView: v}})
	}
	for id := range healths {
		if !seen[id] {
			delete(healths, id)
			h.broadcast(LiveMessage{Type: "terminal", Terminal: &HealthLive{ID: id, HealthView: HealthView{State: "removed"}}})
		}
	}
}

func (h *hub) publishJob(j Job) { h.broadcast(LiveMessage{Type: "job", Job: &j}) }

func (h *hub) listening() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients) > 0
}

// broadcast queues m for every client, dropping those whose queue is full.
func (h *hub) broadcast(m LiveMessage) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.clients) == 0 {
		return
	}
	b, err := json.Marshal(m)
	if err != nil {
		h.p.log.Error("live feed: encode", "err", err)
		return
	}
	for lc := range h.clients {
		select {
		case lc.send <- b:
		default:
			delete(h.clients, lc)
			lc.drop()
		}
	}
}

// add registers a client; false once the panel is stopping. A client
// added must be removed.
func (h *hub) add(lc *liveClient) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.clients[lc] = true
	h.serving.Add(1)
	return true
}

func (h *hub) remove(lc *liveClient) {
	h.mu.Lock()
	delete(h.clients, lc)
	h.mu.Unlock()
	lc.drop()
	h.serving.Done()
}

func (h *hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for lc := range h.clients {
		delete(h.clients, lc)
		lc.drop()
	}
}

func (p *Panel) liveRoutes() []route {
	return []route{{method: "GET", path: "/api/v1/live", access: viewer, tag: "live",
		summary: "WebSocket: punches as they commit, terminal health changes and job progress, as JSON text messages", h: p.serveLive}}
}

// upgrader checks that a browser's Origin is the box itself (or one of
// web.cors_origins); clients without an Origin (scripts) pass, and need an
// API token anyway.
func (p *Panel) upgrader() *websocket.Upgrader {
	return &websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   1024,
		WriteBufferSize:  4096,
		CheckOrigin: func(r *http.Request) bool {
			origin := r.Header.Get("Origin")
			if origin == "" {
				return true
			}
			return p.cop.Check(&http.Request{Method: http.MethodPost, Host: r.Host, Header: http.Header{"Origin": {origin}}}) == nil
		},
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(APIError{ErrorBody{Code: "websocket", Message: reason.Error()}})
		},
	}
}

// serveLive upgrades to a WebSocket and sends the feed until the client
// leaves, falls behind, or the panel stops.
func (p *Panel) serveLive(c *gin.Context) {
	lc := &liveClient{send: make(chan []byte, liveQueue), gone: make(chan struct{})}
	if !p.live.add(lc) {
		p.fail(c, fmt.Errorf("%w: the box is stopping", ErrUnavailable))
		return
	}
	defer p.live.remove(lc)
	conn, err := p.upgrader().Upgrade(c.Writer, c.Request, nil)
	if err != nil {
		p.log.Debug("live feed: upgrade", "err", err)
		return // the upgrader answered
	}

	// The reader only notices the client leaving (and answers pings).
	conn.SetReadLimit(4096)
	left := make(chan struct{})
	go func() {
		defer close(left)
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()
	defer func() { conn.Close(); <-left }()

	ping := time.NewTicker(livePing)
	defer ping.Stop()
	for {
		select {
		case b := <-lc.send:
			conn.SetWriteDeadline(time.Now().Add(liveWriteWait))
			if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
				return
			}
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(liveWriteWait)); err != nil {
				return
			}
		case <-lc.gone:
			msg := websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "too slow, or the box is stopping")
			_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			return
		case <-left:
			return
		case <-c.Request.Context().Done():
			return
		}
	}
}
