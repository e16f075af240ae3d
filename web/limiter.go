package web

import (
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/punchbox/punchbox/store"
)

// limits slow down password guessing, per client address and per account.
// The rules (docs/panel.md has them for people):
//
//   - An attempt counts before its password is checked, under one lock, so
//     parallel attempts cannot all slip past the count; a success clears
//     the count of the client and of the account.
//   - One client has one attempt in flight at a time; the others are
//     refused at once.
//   - A key may make its free attempts without waiting; after them each
//     attempt must wait out a lockout that doubles, up to a ceiling.
//   - An account's lockout binds only clients that have failed themselves:
//     a client with a clean record gets one try at a locked account, which
//     makes it a failing client when it fails. So strangers' failures never
//     stop the right password from a client that has not failed.
//   - A known device (device.go) is a client of its own, counted instead of
//     its address and apart from the account: only its own failures lock
//     it out.
//
// It keeps only failures and forgets them after a quiet day, so memory
// stays bounded by the guessing actually seen.
type limits struct {
	now func() time.Time

	mu       sync.Mutex
	clients  map[string]*strike
	accounts map[string]*strike
}

// policy is how many attempts a kind of key makes freely and how long it
// waits after them.
type policy struct {
	free      int
	base, max time.Duration
}

var (
	clientPolicy  = policy{free: clientFree, base: time.Second, max: 15 * time.Minute}
	accountPolicy = policy{free: accountFree, base: time.Second, max: 15 * time.Minute}
	devicePolicy  = accountPolicy
)

// lockout is the wait after the n-th attempt without a success: none for
// the free ones, then base, doubling up to max.
func (p policy) lockout(n int) time.Duration {
	over := n - p.free
	if over < 0 {
		return 0
	}
	d := p.base
	for i := 0; i < over && d < p.max; i++ {
		d *= 2
	}
	return min(d, p.max)
}

// strike is what is remembered of a key.
type strike struct {
	attempts int       // attempts since the last success, the one in flight included
	until    time.Time // no attempt before then
	last     time.Time // the latest attempt
	inFlight bool      // clients: an attempt is being checked
	names    []string  // clients: the accounts tried, up to maxNames
	many     bool      // clients: more than maxNames accounts tried
}

// maxNames bounds the accounts remembered per client; a client that tried
// more is freed only by an unlock of every account.
const maxNames = 8

// forgetAfter is how long a key's failures are remembered after its last.
const forgetAfter = 24 * time.Hour

// maxStrikes bounds the keys remembered of each kind; past it the oldest
// are dropped.
const maxStrikes = 50_000

func newLimits(now func() time.Time) *limits {
	return &limits{now: now, clients: map[string]*strike{}, accounts: map[string]*strike{}}
}

// attempt is one sign-in attempt, counted. Exactly one of succeed, fail and
// end should follow; end is safe to defer after either of the others.
type attempt struct {
	l               *limits
	client, account string
	clean           bool // the client had no failures, or is a known device: the clean lane
	device          bool // the client is a known device, not counted at the account
	done            bool
}

// refusal says why an attempt was not allowed.
type refusal struct {
	wait time.Duration // how long to wait; 0 while another is in flight
	busy bool          // the client has an attempt in flight
}

// begin counts an attempt of client at account ("" for none) and returns
// it, or why it may not be made now. A device client (a known device's
// key) is limited by its own record alone.
func (l *limits) begin(client, account string, device bool) (*attempt, *refusal) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	c := fresh(l.clients, client, now)
	if c != nil && c.inFlight {
		return nil, &refusal{busy: true}
	}
	if c != nil && now.Before(c.until) {
		return nil, &refusal{wait: c.until.Sub(now)}
	}
	clean := device || c == nil || c.attempts == 0
	var a *strike
	if account != "" && !device {
		a = fresh(l.accounts, account, now)
		if a != nil && now.Before(a.until) && !clean {
			return nil, &refusal{wait: a.until.Sub(now)}
		}
	}
	if c == nil {
		c = add(l.clients, client, now)
	}
	p := clientPolicy
	if device {
		p = devicePolicy
	}
	c.count(now, p)
	c.inFlight = true
	c.tried(account)
	if account != "" && !device {
		if a == nil {
			a = add(l.accounts, account, now)
		}
		a.count(now, accountPolicy)
	}
	return &attempt{l: l, client: client, account: account, clean: clean, device: device}, nil
}

// fresh returns key's strike, forgetting it when it is stale.
func fresh(m map[string]*strike, key string, now time.Time) *strike {
	s, ok := m[key]
	if !ok {
		return nil
	}
	if !s.inFlight && now.Sub(s.last) > forgetAfter && !now.Before(s.until) {
		delete(m, key)
		return nil
	}
	return s
}

// add remembers a new key, making room when the map is full.
func add(m map[string]*strike, key string, now time.Time) *strike {
	if len(m) >= maxStrikes {
		prune(m, now)
	}
	s := &strike{}
	m[key] = s
	return s
}

func (s *strike) count(now time.Time, p policy) {
	s.attempts++
	s.last = now
	if d := p.lockout(s.attempts); d > 0 {
		s.until = now.Add(d)
	}
}

func (s *strike) tried(account string) {
	if account == "" || s.many || slices.Contains(s.names, account) {
		return
	}
	if len(s.names) == maxNames {
		s.many, s.names = true, nil
		return
	}
	s.names = append(s.names, account)
}

// succeed clears the client and the account: the right password was
// given.
func (a *attempt) succeed() {
	a.l.mu.Lock()
	defer a.l.mu.Unlock()
	if a.done {
		return
	}
	a.done = true
	delete(a.l.clients, a.client)
	if a.account != "" {
		delete(a.l.accounts, a.account)
	}
}

// fail ends a failed attempt, which stays counted, and returns the
// lockout the client or the account is now under, for the log.
func (a *attempt) fail() time.Duration {
	a.l.mu.Lock()
	defer a.l.mu.Unlock()
	if a.done {
		return 0
	}
	a.done = true
	now := a.l.now()
	var wait time.Duration
	if c := a.l.clients[a.client]; c != nil {
		c.inFlight = false
		wait = max(wait, c.until.Sub(now))
	}
	if s := a.l.accounts[a.account]; a.account != "" && !a.device && s != nil {
		wait = max(wait, s.until.Sub(now))
	}
	return max(wait, 0)
}

// end ends an attempt that neither succeeded nor failed (the store could
// not answer); it stays counted.
func (a *attempt) end() {
	a.l.mu.Lock()
	defer a.l.mu.Unlock()
	if a.done {
		return
	}
	a.done = true
	if c := a.l.clients[a.client]; c != nil {
		c.inFlight = false
	}
}

// lift applies the console's unlocks to a refused attempt: all is when
// every lockout was lifted, one when the account's was (zero: never).
// Records whose last attempt is not after the unlock are forgotten: the
// account's, and the client's when it tried that account. It reports
// whether anything was forgotten, so that the attempt is worth retrying.
func (l *limits) lift(client, account string, all, one time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	since := func(s *strike, t time.Time) bool { return !t.IsZero() && !s.last.After(t) && !s.inFlight }
	lifted := false
	if s := l.accounts[account]; account != "" && s != nil && (since(s, all) || since(s, one)) {
		delete(l.accounts, account)
		lifted = true
	}
	if s := l.clients[client]; s != nil && (since(s, all) || account != "" && slices.Contains(s.names, account) && since(s, one)) {
		delete(l.clients, client)
		lifted = true
	}
	return lifted
}

// prune forgets keys quiet for a day.
func (l *limits) prune() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	prune(l.clients, now)
	prune(l.accounts, now)
}

// prune forgets m's stale keys and, when it is still full, its oldest.
func prune(m map[string]*strike, now time.Time) {
	var oldest string
	var oldestAt time.Time
	for k, s := range m {
		if fresh(m, k, now) == nil {
			continue
		}
		if !s.inFlight && (oldest == "" || s.last.Before(oldestAt)) {
			oldest, oldestAt = k, s.last
		}
	}
	if len(m) >= maxStrikes && oldest != "" {
		delete(m, oldest)
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

// accountKey is the limiter key of the account a sign-in names; "" for a
// name no account can have, which the client's key alone limits (and which
// must not grow the limiter by its length).
func accountKey(name string) string {
	if name == "" || len(name) > store.MaxUserNameLen {
		return ""
	}
	return strings.ToLower(name)
}
