package central

import (
	"context"
	"fmt"
	"math"

	"golang.org/x/time/rate"
)

// bucket paces the back-fill and resends: wait(n) returns once n punches
// may go at rate() per second, with bursts of up to one second's worth or
// n, whichever is more. A rate of 0 never waits. The rate is read on every
// call, so a settings change takes effect from the next batch on.
//
// The arithmetic is golang.org/x/time/rate's, which saturates rather than
// overflows: a rate too small to ever let n punches through makes wait
// fail at once when ctx has a deadline, and sleep (not spin) when it has
// none. The settings registry keeps such rates out in the first place.
type bucket struct {
	rate func() float64
	lim  *rate.Limiter
}

func newBucket(r func() float64) *bucket {
	return &bucket{rate: r, lim: rate.NewLimiter(rate.Inf, 0)}
}

func (b *bucket) wait(ctx context.Context, n int) error {
	r := b.rate()
	if !(r > 0) || math.IsInf(r, 0) { // 0, negative, NaN: unlimited
		b.lim.SetLimit(rate.Inf)
		return nil
	}
	if b.lim.Limit() != rate.Limit(r) {
		b.lim.SetLimit(rate.Limit(r))
	}
	burst := n
	if r > float64(n) {
		burst = int(min(r, math.MaxInt32))
	}
	if b.lim.Burst() < burst {
		b.lim.SetBurst(burst)
	}
	if err := b.lim.WaitN(ctx, n); err != nil {
		return fmt.Errorf("pace %d punches at %g/s: %w", n, r, err)
	}
	return nil
}
