package web

import (
	"net"
	"sync"
	"time"
)

// limiter slows down password guessing. Each key (a client address or an
// account) may fail a few times freely; after that every failure locks the
// key for twice as long as the one before, up to a ceiling. A success clears
// the key. It keeps only failures, and forgets them after a quiet day, so
// memory stays bounded by the guessing actually seen.
type limiter struct {
	free int           // failures allowed before the first lockout
	base time.Duration // the first lockout
	max  time.Duration // the longest lockout
	now  func() time.Time

	mu      sync.Mutex
	strikes map[string]*strike
}

type strike struct {
	failures int
	until    time.Time // locked until then
	last     time.Time // the latest failure
}

// forgetAfter is how long a key's failures are remembered after its last.
const forgetAfter = 24 * time.Hour

// maxStrikes bounds the keys remembered; past it the oldest are dropped.
const maxStrikes = 50_000

func newLimiter(free int, base, max time.Duration, now func() time.Time) *limiter {
	return &limiter{free: free, base: base, max: max, now: now, strikes: map[string]*strike{}}
}

// wait returns how long key stays locked; 0 when it may try now.
func (l *limiter) wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.strikes[key]
	if !ok {
		return 0
	}
	return max(0, s.until.Sub(l.now()))
}

// fail records a failure of key and returns the lockout it caused, 0 while
// the key has free failures left.
func (l *limiter) fail(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	s, ok := l.strikes[key]
	if !ok || now.Sub(s.last) > forgetAfter {
		if len(l.strikes) >= maxStrikes {
			l.pruneLocked(now)
		}
		s = &strike{}
		l.strikes[key] = s
	}
	s.failures++
	s.last = now
	over := s.failures - l.free
	if over <= 0 {
		return 0
	}
	d := l.base
	for i := 1; i < over && d < l.max; i++ {
		d *= 2
	}
	d = min(d, l.max)
	s.until = now.Add(d)
	return d
}

// succeed clears key.
func (l *limiter) succeed(key string) {
	l.mu.Lock()
	delete(l.strikes, key)
	l.mu.Unlock()
}

// prune forgets keys quiet for a day.
func (l *limiter) prune() {
	l.mu.Lock()
	l.pruneLocked(l.now())
	l.mu.Unlock()
}

func (l *limiter) pruneLocked(now time.Time) {
	var oldest string
	var oldestAt time.Time
	for k, s := range l.strikes {
		if now.Sub(s.last) > forgetAfter && now.After(s.until) {
			delete(l.strikes, k)
			continue
		}
		if oldest == "" || s.last.Before(oldestAt) {
			oldest, oldestAt = k, s.last
		}
	}
	if len(l.strikes) >= maxStrikes {
		delete(l.strikes, oldest)
	}
}

// clientKey is the limiter key of a client address: the address itself for
// IPv4, its /64 for IPv6 (a single host usually owns a whole /64).
func clientKey(ip string) string {
	a := net.ParseIP(ip)
	if a == nil {
		return "ip:" + ip
	}
	if a.To4() == nil {
		return "ip:" + a.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return "ip:" + a.String()
}
