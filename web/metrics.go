package web

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/drivers"
)

// /metrics serves Prometheus text format (version 0.0.4), written by hand:
// the handful of series the box has do not need a client library. It is
// open to loopback (a local agent) and to API tokens and sessions.

// latencyBuckets are the upper bounds of the request latency histogram, in
// seconds.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type routeKey struct{ method, route string }

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	sum    float64
	n      uint64
}

type metrics struct {
	mu       sync.Mutex
	latency  map[routeKey]*histogram
	requests map[routeKey]map[int]uint64 // by status
}

func newMetrics() *metrics {
	return &metrics{latency: map[routeKey]*histogram{}, requests: map[routeKey]map[int]uint64{}}
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	k := routeKey{method, route}
	s := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.latency[k]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets))}
		m.latency[k] = h
		m.requests[k] = map[int]uint64{}
	}
	if i, _ := slices.BinarySearch(latencyBuckets, s); i < len(latencyBuckets) {
		h.counts[i]++
	}
	h.sum += s
	h.n++
	m.requests[k][status]++
}

func (p *Panel) metricsRoutes() []route {
	return []route{{method: "GET", path: "/metrics", access: public, kind: raw, h: p.serveMetrics}}
}

// serveMetrics answers loopback clients and signed-in ones.
func (p *Panel) serveMetrics(c *gin.Context) {
	if ip := net.ParseIP(c.ClientIP()); (ip == nil || !ip.IsLoopback()) && who(c) == nil {
		p.fail(c, fmt.Errorf("%w: /metrics needs an API token (Authorization: Bearer) or a client on the box itself", ErrUnauthenticated))
		return
	}
	c.Header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w := bufio.NewWriter(c.Writer)
	if err := p.writeMetrics(c, w); err != nil {
		p.log.Warn("metrics", "err", err)
	}
	w.Flush()
}

// mw writes one metric family.
type mw struct {
	w io.Writer
}

func (m mw) family(name, typ, help string) {
	fmt.Fprintf(m.w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func (m mw) sample(name string, v float64, labels ...string) {
	io.WriteString(m.w, name)
	if len(labels) > 0 {
		io.WriteString(m.w, "{")
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				io.WriteString(m.w, ",")
			}
			fmt.Fprintf(m.w, "%s=\"%s\"", labels[i], escapeLabel(labels[i+1]))
		}
		io.WriteString(m.w, "}")
	}
	fmt.Fprintf(m.w, " %s\n", strconv.FormatFloat(v, 'g', -1, 64))
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }

func (p *Panel) writeMetrics(c *gin.Context, w io.Writer) error {
	ctx := c.Request.Context()
	m := mw{w}
	m.family("punchbox_build_info", "gauge", "The running punchbox.")
	m.sample("punchbox_build_info", 1, "version", p.d.Version, "site", p.d.Site, "box", p.d.Box)
	m.family("punchbox_uptime_seconds", "gauge", "Seconds since the process started.")
	m.sample("punchbox_uptime_seconds", p.d.Now().Sub(p.d.Started).Seconds())

	cnt := p.d.Store.Counters()
	m.family("punchbox_punches_received_total", "counter", "Punches committed from terminals since start, including ones already stored.")
	m.sample("punchbox_punches_received_total", float64(cnt.Received))
	m.family("punchbox_punches_stored_total", "counter", "New punches stored since start.")
	m.sample("punchbox_punches_stored_total", float64(cnt.Stored))
	b, err := p.d.Store.Backlog(ctx)
	if err != nil {
		return err
	}
	m.family("punchbox_punches_delivered_total", "counter", "Punches acknowledged by central over the store's life (the delivered outbox sequence).")
	m.sample("punchbox_punches_delivered_total", float64(b.DeliveredSeq))
	m.family("punchbox_outbox_sequence", "counter", "Punches stored over the store's life (the newest outbox sequence).")
	m.sample("punchbox_outbox_sequence", float64(b.LastSeq))
	m.family("punchbox_backlog_punches", "gauge", "Punches waiting for delivery to central.")
	m.sample("punchbox_backlog_punches", float64(b.Pending))
	m.family("punchbox_backlog_age_seconds", "gauge", "How long the oldest undelivered punch has waited.")
	m.sample("punchbox_backlog_age_seconds", b.Age(p.d.Now()).Seconds())
	writeErr := 0.0
	if p.d.Store.LastWrite().Err != nil {
		writeErr = 1
	}
	m.family("punchbox_store_write_failing", "gauge", "1 while the latest write to the store failed (disk full, read-only media).")
	m.sample("punchbox_store_write_failing", writeErr)

	if p.d.Link != nil {
		ls := p.d.Link()
		up := 0.0
		if ls.Connected {
			up = 1
		}
		m.family("punchbox_central_connected", "gauge", "1 while the link to the central broker is up.")
		m.sample("punchbox_central_connected", up)
	}

	hs := p.d.Terminals.Healths()
	states := []drivers.State{drivers.StateConnecting, drivers.StateOnline, drivers.StateOffline, drivers.StateError, drivers.StateDisabled}
	m.family("punchbox_terminal_state", "gauge", "1 for the state each terminal's link is in.")
	for _, h := range hs {
		for _, s := range states {
			v := 0.0
			if h.State == s {
				v = 1
			}
			m.sample("punchbox_terminal_state", v, "terminal", h.ID, "state", string(s))
		}
	}
	m.family("punchbox_terminal_last_contact_timestamp_seconds", "gauge", "When each terminal last answered, as a Unix time.")
	for _, h := range hs {
		if !h.LastContact.IsZero() {
			m.sample("punchbox_terminal_last_contact_timestamp_seconds", float64(h.LastContact.UnixMilli())/1000, "terminal", h.ID)
		}
	}
	m.family("punchbox_terminal_clock_offset_seconds", "gauge", "Each terminal's clock minus the box's.")
	for _, h := range hs {
		if !h.Info.ClockRead.IsZero() {
			m.sample("punchbox_terminal_clock_offset_seconds", h.Info.ClockOffset.Seconds(), "terminal", h.ID)
		}
	}

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.family("punchbox_memory_heap_bytes", "gauge", "Go heap in use.")
	m.sample("punchbox_memory_heap_bytes", float64(ms.HeapInuse))
	m.family("punchbox_goroutines", "gauge", "Goroutines running.")
	m.sample("punchbox_goroutines", float64(runtime.NumGoroutine()))

	p.metrics.write(m)
	return nil
}

// write writes the request series, sorted for stable output.
func (mt *metrics) write(m mw) {
	mt.mu.Lock()
	defer mt.mu.Unlock()
	keys := make([]routeKey, 0, len(mt.latency))
	for k := range mt.latency {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b routeKey) int { return strings.Compare(a.route+" "+a.method, b.route+" "+b.method) })
	m.family("punchbox_http_requests_total", "counter", "Requests to the panel and API by route and status.")
	for _, k := range keys {
		codes := make([]int, 0, len(mt.requests[k]))
		for code := range mt.requests[k] {
			codes = append(codes, code)
		}
		slices.Sort(codes)
		for _, code := range codes {
			m.sample("punchbox_http_requests_total", float64(mt.requests[k][code]), "method", k.method, "route", k.route, "code", strconv.Itoa(code))
		}
	}
	m.family("punchbox_http_request_duration_seconds", "histogram", "Latency of requests to the panel and API by route.")
	for _, k := range keys {
		h := mt.latency[k]
		var cum uint64
		for i, le := range latencyBuckets {
			cum += h.counts[i]
			m.sample("punchbox_http_request_duration_seconds_bucket", float64(cum), "method", k.method, "route", k.route, "le", strconv.FormatFloat(le, 'g', -1, 64))
		}
		m.sample("punchbox_http_request_duration_seconds_bucket", float64(h.n), "method", k.method, "route", k.route, "le", "+Inf")
		m.sample("punchbox_http_request_duration_seconds_sum", h.sum, "method", k.method, "route", k.route)
		m.sample("punchbox_http_request_duration_seconds_count", float64(h.n), "method", k.method, "route", k.route)
	}
}
