package central

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// The bucket paces by the clock: n punches at r/s take n/r seconds.
func TestBucketPaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rate := 100.0
		b := newBucket(func() float64 { return rate })
		ctx := context.Background()
		start := time.Now()
		for range 4 {
			if err := b.wait(ctx, 500); err != nil {
				t.Fatal(err)
			}
		}
		// The first 500 wait for their tokens too: 4 × 500 at 100/s.
		if got := time.Since(start); got != 20*time.Second {
			t.Errorf("2000 punches at 100/s took %s, want 20s", got)
		}
		rate = 0 // unlimited: no wait at all
		start = time.Now()
		for range 100 {
			if err := b.wait(ctx, 500); err != nil {
				t.Fatal(err)
			}
		}
		if got := time.Since(start); got != 0 {
			t.Errorf("unlimited took %s", got)
		}
	})
}

// A rate so small that its wait would overflow a time.Duration neither
// spins nor lets punches through: with a deadline the wait fails at once.
// (The hand-written bucket computed a negative wait and looped on it.)
func TestBucketTinyRateDoesNotSpin(t *testing.T) {
	for _, r := range []float64{1e-9, 1e-300, 5e-324} {
		var reads atomic.Int32
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		b := newBucket(func() float64 {
			if reads.Add(1) > 100 {
				cancel() // a spinning bucket reads the rate over and over
			}
			return r
		})
		err := b.wait(ctx, 500)
		cancel()
		if err == nil {
			t.Errorf("rate %g: 500 punches passed", r)
		}
		if n := reads.Load(); n > 1 {
			t.Errorf("rate %g: the rate was read %d times for one wait: the bucket spins", r, n)
		}
	}
}

// Any rate, however odd, is handled: NaN and negative mean unlimited,
// a huge rate passes at once.
func TestBucketOddRates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, r := range []float64{-1, 1e308, 1e12} {
			b := newBucket(func() float64 { return r })
			start := time.Now()
			if err := b.wait(context.Background(), 500); err != nil {
				t.Errorf("rate %g: %v", r, err)
			}
			if r > 1e6 && time.Since(start) > time.Millisecond {
				t.Errorf("rate %g: waited %s", r, time.Since(start))
			}
		}
	})
}
