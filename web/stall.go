package web

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// Bounds on clients that stall, so that a client cannot hold a connection,
// a goroutine or the store's read snapshot for as long as it likes
// (docs/panel.md, Limits). Options may change them; zero keeps these.
const (
	// DefaultHeaderTimeout is how long a request's headers (and the TLS
	// handshake) may take.
	DefaultHeaderTimeout = 10 * time.Second
	// DefaultBodyGrace and DefaultBodyRate bound a request body: after
	// the grace it must have come at DefaultBodyRate on average, counting
	// only the time spent waiting for it. A 4 GiB restore at that rate
	// takes three days, a trickle of a byte a second is cut after the
	// grace.
	DefaultBodyGrace = 10 * time.Second
	DefaultBodyRate  = 16 << 10 // bytes a second
	// DefaultWriteIdle is how long one write of a response may block on
	// a client that does not read. Each write that completes starts the
	// clock again, so a slow reader that keeps reading gets everything,
	// while one that stops is cut after this and its request ends (with
	// any read snapshot of the store it held).
	DefaultWriteIdle = 30 * time.Second
)

// ErrTooSlow is a request body that came more slowly than the server
// accepts.
var ErrTooSlow = errors.New("the request body came too slowly")

// stallBounds are the bounds a stallGuard enforces.
type stallBounds struct {
	bodyGrace time.Duration
	bodyRate  int64
	writeIdle time.Duration
}

func (o Options) stallBounds() stallBounds {
	b := stallBounds{bodyGrace: o.BodyGrace, bodyRate: o.BodyRate, writeIdle: o.WriteIdle}
	if b.bodyGrace <= 0 {
		b.bodyGrace = DefaultBodyGrace
	}
	if b.bodyRate <= 0 {
		b.bodyRate = DefaultBodyRate
	}
	if b.writeIdle <= 0 {
		b.writeIdle = DefaultWriteIdle
	}
	return b
}

// stallGuard bounds how long a request's body may take to arrive and how
// long a write of its response may block, with the connection's deadlines.
type stallGuard struct {
	h http.Handler
	b stallBounds
}

func (g stallGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// No deadline of the connection's previous response applies to this
	// one until it writes.
	_ = rc.SetWriteDeadline(time.Time{})
	gw := &guardedWriter{ResponseWriter: w, rc: rc, idle: g.b.writeIdle}
	var body *guardedBody
	if r.Body != nil && r.Body != http.NoBody {
		body = &guardedBody{r: r.Body, rc: rc, b: g.b}
		r.Body = body
	}
	g.h.ServeHTTP(gw, r)
	if gw.hijacked {
		return
	}
	if body != nil && !body.eof {
		// The server reads what the handler left of the body, to reuse
		// the connection: under the same bound.
		_ = rc.SetReadDeadline(time.Now().Add(max(body.left(), 0)))
	}
	// The server writes what is buffered once the handler returns.
	_ = rc.SetWriteDeadline(time.Now().Add(g.b.writeIdle))
}

// guardedBody is a request body that must keep up the bounds' rate.
type guardedBody struct {
	r     io.ReadCloser
	rc    *http.ResponseController
	b     stallBounds
	n     int64         // bytes read
	spent time.Duration // time spent waiting in Read
	eof   bool
}

// left is how much longer the body may take: the grace and the time its
// bytes so far have earned at the rate, less the time spent waiting.
func (g *guardedBody) left() time.Duration {
	earned := time.Duration(float64(g.n) / float64(g.b.bodyRate) * float64(time.Second))
	return g.b.bodyGrace + earned - g.spent
}

func (g *guardedBody) Read(p []byte) (int, error) {
	if g.eof {
		return 0, io.EOF
	}
	left := g.left()
	if left <= 0 {
		return 0, g.tooSlow()
	}
	start := time.Now()
	_ = g.rc.SetReadDeadline(start.Add(left))
	n, err := g.r.Read(p)
	g.spent += time.Since(start)
	g.n += int64(n)
	switch {
	case errors.Is(err, io.EOF):
		g.eof = true
		// The server reads on in the background to see the client go
		// away; that read must not time out while the handler works.
		_ = g.rc.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, g.tooSlow()
	}
	return n, err
}

func (g *guardedBody) tooSlow() error {
	return fmt.Errorf("%w: %d bytes in %s, want %s a second after the first %s", ErrTooSlow, g.n, g.spent.Round(time.Millisecond), sizeString(g.b.bodyRate), g.b.bodyGrace)
}

func (g *guardedBody) Close() error { return g.r.Close() }

// guardedWriter sets the write deadline before each write of the response.
type guardedWriter struct {
	http.ResponseWriter
	rc       *http.ResponseController
	idle     time.Duration
	hijacked bool
}

func (w *guardedWriter) Write(b []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	return w.ResponseWriter.Write(b)
}

// Flush sends what is buffered, under the same deadline.
func (w *guardedWriter) Flush() {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	_ = w.rc.Flush()
}

// Hijack hands the connection over (the live feed's WebSocket) without the
// deadlines: its new owner sets its own.
func (w *guardedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := w.rc.Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.hijacked = true
	_ = c.SetDeadline(time.Time{})
	return c, brw, nil
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *guardedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
