package drivers

import (
	"math/rand/v2"
	"time"
)

// Backoff is a jittered exponential backoff: attempt n waits a random time
// between half and all of min(Base·2ⁿ, Max).
type Backoff struct {
	Base, Max time.Duration
}

// DefaultBackoff goes from 1 s to 5 min.
var DefaultBackoff = Backoff{Base: time.Second, Max: 5 * time.Minute}

// Delay returns the wait before attempt n (0-based).
func (b Backoff) Delay(n int) time.Duration {
	d := b.Max
	if n < 32 {
		if e := b.Base << n; e > 0 && e < b.Max {
			d = e
		}
	}
	half := d / 2
	return half + rand.N(d-half+1)
}
