// Package ratelog keeps a repeated event from flooding the log and the SD
// card. The first event of a kind is logged at its own level with its
// details; repeats within the interval go to Debug and are counted; the next
// event after the interval (or Flush) logs one summary at the first's level:
//
//	malformed live punch: 1,234 more in the last minute
//
// So a terminal sending garbage as fast as it can costs at most one line per
// kind per interval at Info or above, however fast it sends.
package ratelog

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// DefaultInterval is the summary interval the box uses.
const DefaultInterval = time.Minute

// maxKinds bounds the kinds one Limiter tracks, the shared kind of those
// past the bound included.
const maxKinds = 256

const overflowKind = "\x00other"

// Limiter rate-limits the log lines of repeated events, by kind. It is safe
// for concurrent use.
type Limiter struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu    sync.Mutex
	kinds map[string]*window
}

// window is one kind's state: when its last line at its level was written
// and how many events went to Debug since.
type window struct {
	level slog.Level
	msg   string
	start time.Time
	n     int
}

// New returns a Limiter writing to log, summarising every interval (0:
// DefaultInterval). now is the clock (nil: time.Now).
func New(log *slog.Logger, every time.Duration, now func() time.Time) *Limiter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if every <= 0 {
		every = DefaultInterval
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{log: log, every: every, now: now, kinds: map[string]*window{}}
}

// Log logs an event of kind: at level when it is the first of its kind in
// an interval, else at Debug, counted for the next summary. args are slog
// attributes, as for slog.Logger.Log.
func (l *Limiter) Log(ctx context.Context, level slog.Level, kind, msg string, args ...any) {
	now := l.now()
	l.mu.Lock()
	w, ok := l.kinds[kind]
	if !ok && len(l.kinds) >= maxKinds-1 {
		kind, msg = overflowKind, "other repeated events"
		w, ok = l.kinds[kind]
	}
	if !ok {
		l.kinds[kind] = &window{level: level, msg: msg, start: now}
		l.mu.Unlock()
		l.log.Log(ctx, level, msg, args...)
		return
	}
	if now.Sub(w.start) < l.every {
		w.n++
		l.mu.Unlock()
		l.log.Log(ctx, slog.LevelDebug, msg, args...)
		return
	}
	n, since := w.n, now.Sub(w.start)
	w.level, w.msg, w.start, w.n = level, msg, now, 0
	if n == 0 {
		// Quiet for a whole interval: this is news again.
		l.mu.Unlock()
		l.log.Log(ctx, level, msg, args...)
		return
	}
	// Still repeating: one summary line, and this event joins the new
	// interval's count.
	w.n = 1
	l.mu.Unlock()
	l.summary(ctx, level, msg, n, since)
	l.log.Log(ctx, slog.LevelDebug, msg, args...)
}

// Flush logs the summary of every kind with uncounted repeats, and starts
// their intervals over. Owners call it when the source of the events goes
// away (a session ends), so no count is lost.
func (l *Limiter) Flush(ctx context.Context) {
	now := l.now()
	type pending struct {
		level slog.Level
		msg   string
		n     int
		since time.Duration
	}
	var out []pending
	l.mu.Lock()
	for k, w := range l.kinds {
		if w.n > 0 {
			out = append(out, pending{w.level, w.msg, w.n, now.Sub(w.start)})
		}
		delete(l.kinds, k)
	}
	l.mu.Unlock()
	for _, p := range out {
		l.summary(ctx, p.level, p.msg, p.n, p.since)
	}
}

func (l *Limiter) summary(ctx context.Context, level slog.Level, msg string, n int, since time.Duration) {
	l.log.Log(ctx, level, fmt.Sprintf("%s: %s more in the last %s", msg, Count(n), Span(since)), "repeats", n)
}

// Count formats n with thousands separators: 1,234,567.
func Count(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Span names a duration for a person: "second", "45 s", "minute", "2 minutes".
func Span(d time.Duration) string {
	switch m := d.Round(time.Minute) / time.Minute; {
	case d < 90*time.Second:
		if d >= 50*time.Second {
			return "minute"
		}
		if d < 1500*time.Millisecond {
			return "second"
		}
		return strconv.Itoa(int(d.Round(time.Second)/time.Second)) + " s"
	case m < 120:
		return strconv.Itoa(int(m)) + " minutes"
	default:
		return strconv.Itoa(int(d.Round(time.Hour)/time.Hour)) + " hours"
	}
}
