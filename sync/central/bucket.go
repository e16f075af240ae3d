package central

import (
	"context"
	"time"
)

// bucket is a token bucket: wait(n) returns once n tokens are available,
// refilled at rate() per second. A rate of 0 never waits. The rate is read
// on every call, so a settings change takes effect at once.
type bucket struct {
	rate   func() float64
	now    func() time.Time
	tokens float64
	last   time.Time
}

func newBucket(rate func() float64, now func() time.Time) *bucket {
	return &bucket{rate: rate, now: now, last: now()}
}

func (b *bucket) wait(ctx context.Context, n int) error {
	for {
		r := b.rate()
		now := b.now()
		if r <= 0 {
			b.last = now
			return nil
		}
		// Bursts up to one second's worth, or n, whichever is more.
		b.tokens = min(b.tokens+now.Sub(b.last).Seconds()*r, max(r, float64(n)))
		b.last = now
		if b.tokens >= float64(n) {
			b.tokens -= float64(n)
			return nil
		}
		wait := time.Duration((float64(n) - b.tokens) / r * float64(time.Second))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
