package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Brute force against one account: after the free attempts every attempt
// waits out a lockout that grows, answered with 429 and Retry-After, and
// even the right password waits it out from a client that has failed.
func TestLoginBruteForce(t *testing.T) {
	clk := newTestClock()
	h := newHarness(t, func(d *Deps) { d.Now = clk.now })
	h.admin()
	c := h.anon()
	var locked *response
	for i := 0; i < 20; i++ {
		r := c.do("POST", "/api/v1/login", LoginRequest{Name: "admin", Password: "guess number " + strconv.Itoa(i)})
		if r.code == http.StatusTooManyRequests {
			locked = r
			break
		}
		if r.code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s", i, r.code, r.body)
		}
	}
	if locked == nil {
		t.Fatal("20 wrong passwords and no 429")
	}
	if e := locked.apiErr(t); e.Code != "rate_limited" {
		t.Errorf("429 code %q", e.Code)
	}
	secs, err := strconv.Atoi(locked.header.Get("Retry-After"))
	if err != nil || secs < 1 {
		t.Errorf("Retry-After %q", locked.header.Get("Retry-After"))
	}
	if r := c.do("POST", "/api/v1/login", LoginRequest{Name: "admin", Password: testPassword}); r.code != http.StatusTooManyRequests {
		t.Errorf("right password during lockout = %d, want 429", r.code)
	}
	// The lockout grows with every further attempt, and ends.
	first := h.p.limits.until(h.p.limits.accounts, "admin").Sub(clk.now())
	clk.advance(first)
	c.do("POST", "/api/v1/login", LoginRequest{Name: "admin", Password: "after the wait"}).want(t, http.StatusUnauthorized)
	if next := h.p.limits.until(h.p.limits.accounts, "admin").Sub(clk.now()); next <= first {
		t.Errorf("lockout did not grow: %v then %v", first, next)
	}
	if !strings.Contains(h.log.String(), "locked out") {
		t.Error("lockout not logged")
	}
}

// until reads when key's lockout in m ends.
func (l *limits) until(m map[string]*strike, key string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := m[key]; s != nil {
		return s.until
	}
	return time.Time{}
}

func TestLimits(t *testing.T) {
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	l := newLimits(func() time.Time { return now })
	t.Run("Lockouts", func(t *testing.T) {
		var got []time.Duration
		for i := range clientFree + 4 {
			if i > 0 {
				now = now.Add(got[i-1]) // the lockout waited out
			}
			a, no := l.begin("ip:a", "", false)
			if no != nil {
				t.Fatalf("refused %+v after %v", no, got)
			}
			got = append(got, a.fail())
		}
		want := make([]time.Duration, clientFree-1)
		want = append(want, time.Second, 2*time.Second, 4*time.Second, 8*time.Second, 16*time.Second)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("lockouts %v, want %v", got, want)
		}
		if _, no := l.begin("ip:a", "", false); no == nil || no.wait != 16*time.Second {
			t.Errorf("during a lockout: %+v, want a wait of 16s", no)
		}
		now = now.Add(16 * time.Second)
		a, no := l.begin("ip:a", "", false)
		if no != nil {
			t.Fatalf("after the lockout: %+v", no)
		}
		a.succeed()
		a.fail() // after succeed: nothing
		if a, no := l.begin("ip:a", "", false); no != nil || !a.clean {
			t.Errorf("after a success: %+v, clean %v; want a clean client", no, a != nil && a.clean)
		} else {
			a.succeed()
		}
	})
	t.Run("OneInFlight", func(t *testing.T) {
		a, _ := l.begin("ip:b", "alice", false)
		if _, no := l.begin("ip:b", "bob", false); no == nil || !no.busy {
			t.Errorf("second attempt in flight: %+v, want busy", no)
		}
		a.end()
		a.end()
		b, no := l.begin("ip:b", "bob", false)
		if no != nil || b.clean {
			t.Errorf("after end: %+v, clean %v; want allowed, counted", no, b != nil && b.clean)
		}
		b.fail()
	})
	t.Run("LockedAccount", func(t *testing.T) {
		for range accountFree {
			a, no := l.begin("ip:c", "carol", false)
			if no != nil {
				t.Fatal(no)
			}
			a.fail()
		}
		if _, no := l.begin("ip:c", "carol", false); no == nil || no.wait != time.Second {
			t.Errorf("failing client at a locked account: %+v, want a wait", no)
		}
		a, no := l.begin("ip:d", "carol", false)
		if no != nil || !a.clean {
			t.Fatalf("clean client at a locked account: %+v, want one try", no)
		}
		a.fail()
		if _, no := l.begin("ip:d", "carol", false); no == nil {
			t.Error("a clean client that failed is not bound by the account's lockout")
		}
		e, no := l.begin("ip:e", "carol", false)
		if no != nil {
			t.Fatal(no)
		}
		e.succeed()
		if a, no := l.begin("ip:c", "carol", false); no != nil {
			t.Errorf("after the account's success: %+v", no)
		} else {
			a.end()
		}
	})
	t.Run("Device", func(t *testing.T) {
		for range accountFree {
			a, _ := l.begin("ip:g", "gina", false)
			a.fail()
		}
		a, no := l.begin("dev:1", "gina", true)
		if no != nil || !a.clean {
			t.Fatalf("known device at a locked account: %+v", no)
		}
		a.fail()
		for range devicePolicy.free - 1 {
			a, no := l.begin("dev:1", "gina", true)
			if no != nil {
				t.Fatalf("known device within its allowance: %+v", no)
			}
			a.fail()
		}
		if _, no := l.begin("dev:1", "gina", true); no == nil {
			t.Error("a device past its own allowance is not locked out")
		}
	})
	t.Run("Lift", func(t *testing.T) {
		for range accountFree {
			a, _ := l.begin("ip:f", "frank", false)
			a.fail()
		}
		if _, no := l.begin("ip:f", "frank", false); no == nil {
			t.Fatal("not locked")
		}
		if l.lift("ip:f", "frank", time.Time{}, now.Add(-time.Second)) {
			t.Error("an unlock older than the lockout lifted it")
		}
		if l.lift("ip:f", "grace", time.Time{}, now) {
			t.Error("an unlock of another account lifted the client")
		}
		if !l.lift("ip:f", "frank", time.Time{}, now) {
			t.Fatal("the account's unlock did not lift")
		}
		a, no := l.begin("ip:f", "frank", false)
		if no != nil || !a.clean {
			t.Fatalf("after the unlock: %+v", no)
		}
		a.fail()
		if !l.lift("ip:f", "", now, time.Time{}) {
			t.Error("unlock of all did not lift the client")
		}
	})
	t.Run("Forget", func(t *testing.T) {
		now = now.Add(forgetAfter + time.Hour)
		l.prune()
		if len(l.clients)+len(l.accounts) != 0 {
			t.Errorf("prune kept %d clients and %d accounts", len(l.clients), len(l.accounts))
		}
	})
}
