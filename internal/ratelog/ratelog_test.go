package ratelog

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func lines(buf *bytes.Buffer, level string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if strings.Contains(l, "level="+level) {
			out = append(out, l)
		}
	}
	return out
}

func TestLimiter(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := New(log, time.Minute, c.now)

	for range 1234 {
		l.Log(ctx, slog.LevelWarn, "malformed", "malformed live punch", "bytes", 3)
		c.add(10 * time.Millisecond)
	}
	if got := lines(&buf, "WARN"); len(got) != 1 {
		t.Fatalf("%d warn lines in the first 12 s, want 1: %q", len(got), got)
	}
	if got := lines(&buf, "DEBUG"); len(got) != 1233 {
		t.Fatalf("%d debug lines, want 1233", len(got))
	}
	c.add(time.Minute)
	l.Log(ctx, slog.LevelWarn, "malformed", "malformed live punch", "bytes", 3)
	warns := lines(&buf, "WARN")
	if len(warns) != 2 || !strings.Contains(warns[1], "malformed live punch: 1,233 more in the last minute") || !strings.Contains(warns[1], "repeats=1233") {
		t.Fatalf("summary: %q", warns)
	}

	// Another kind is news of its own.
	l.Log(ctx, slog.LevelWarn, "alarm", "terminal alarm", "alarm", "tamper")
	if got := lines(&buf, "WARN"); len(got) != 3 {
		t.Fatalf("another kind: %d warn lines", len(got))
	}

	// Flush reports the repeat counted in the new interval, once.
	buf.Reset()
	l.Flush(ctx)
	l.Flush(ctx)
	if got := lines(&buf, "WARN"); len(got) != 1 || !strings.Contains(got[0], ": 1 more in the last") {
		t.Fatalf("flush: %q", got)
	}

	// After a quiet interval, the next event is logged in full again.
	buf.Reset()
	l.Log(ctx, slog.LevelWarn, "malformed", "malformed live punch")
	c.add(2 * time.Minute)
	l.Log(ctx, slog.LevelWarn, "malformed", "malformed live punch")
	if got := lines(&buf, "WARN"); len(got) != 2 || strings.Contains(got[1], "more in the last") {
		t.Fatalf("after quiet: %q", got)
	}
}

func TestLimiterKindsBounded(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	l := New(slog.New(slog.NewTextHandler(&buf, nil)), time.Minute, nil)
	for i := range 10_000 {
		l.Log(ctx, slog.LevelWarn, strings.Repeat("k", i%5000+1), "event")
	}
	if got := len(l.kinds); got > maxKinds {
		t.Fatalf("%d kinds kept, bound %d", got, maxKinds)
	}
	if got := len(lines(&buf, "WARN")); got > maxKinds {
		t.Fatalf("%d warn lines for unbounded kinds, want at most %d", got, maxKinds)
	}
}

func TestLimiterConcurrent(t *testing.T) {
	ctx := context.Background()
	var buf safeBuffer
	l := New(slog.New(slog.NewTextHandler(&buf, nil)), time.Hour, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				l.Log(ctx, slog.LevelWarn, "k", "event")
			}
		})
	}
	wg.Wait()
	l.Flush(ctx)
	s := buf.String()
	if n := strings.Count(s, "\n"); n != 2 || !strings.Contains(s, "7,999 more") {
		t.Fatalf("concurrent: %q", s)
	}
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *safeBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1234567, "1,234,567"}, {-1234, "-1,234"}} {
		if got := Count(tc.n); got != tc.want {
			t.Errorf("Count(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{0, "second"}, {300 * time.Millisecond, "second"}, {2 * time.Second, "2 s"}, {45 * time.Second, "45 s"}, {time.Minute, "minute"}, {5 * time.Minute, "5 minutes"}, {3 * time.Hour, "3 hours"}} {
		if got := Span(tc.d); got != tc.want {
			t.Errorf("Span(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
