package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store"
)

// testClock is a clock that moves only when told: lockouts last until the
// test says time has passed, however slow the machine.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now()} }

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// login signs in from c and returns the answer, without judging it.
func (c *client) tryLogin(name, password string) *response {
	c.h.t.Helper()
	return c.do("POST", "/api/v1/login", LoginRequest{Name: name, Password: password})
}

// parallel sends n requests at once from c and counts the answers by
// status.
func (c *client) parallel(t *testing.T, n int, req func(i int) (string, string, any)) map[int]int {
	t.Helper()
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			method, path, body := req(i)
			r, err := c.send(method, path, body)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("%s %s: %v", method, path, err)
				return
			}
			codes[r.code]++
		})
	}
	wg.Wait()
	return codes
}

// 40 wrong passwords sent at once from one address: each attempt counts
// before its password is checked, and one address has one attempt in
// flight at a time, so the burst costs at most the free allowance in
// password hashes; the rest are refused at once.
func TestLoginParallelGuessesFromOneAddress(t *testing.T) {
	clk := newTestClock()
	h := newHarness(t, func(d *Deps) { d.Now = clk.now })
	h.admin()
	for name, account := range map[string]func(int) string{
		"OneAccount":   func(int) string { return "admin" },
		"ManyAccounts": func(i int) string { return "user" + strconv.Itoa(i) },
	} {
		t.Run(name, func(t *testing.T) {
			c := h.from(map[string]string{"OneAccount": "127.0.0.2", "ManyAccounts": "127.0.0.3"}[name])
			codes := c.parallel(t, 40, func(i int) (string, string, any) {
				return "POST", "/api/v1/login", LoginRequest{Name: account(i), Password: "wrong guess " + strconv.Itoa(i)}
			})
			if codes[http.StatusUnauthorized]+codes[http.StatusTooManyRequests] != 40 {
				t.Fatalf("answers %v, want only 401 and 429", codes)
			}
			if checked := codes[http.StatusUnauthorized]; checked < 1 || checked > clientFree {
				t.Errorf("40 parallel guesses: %d passwords checked, want 1 to %d (answers %v)", checked, clientFree, codes)
			}
		})
	}
}

// A stranger's failures lock an account only for clients that have failed
// themselves: the right password from an address with a clean record is
// let in. A clean address gets one try at a locked account; a wrong one
// makes it a failing client, bound by the lock.
func TestLoginStrangerCannotLockOutAdmin(t *testing.T) {
	clk := newTestClock()
	h := newHarness(t, func(d *Deps) { d.Now = clk.now })
	h.admin()
	attacker := h.from("127.0.0.2")
	for i := range accountFree {
		attacker.tryLogin("admin", "guess "+strconv.Itoa(i)).want(t, http.StatusUnauthorized)
	}
	r := attacker.tryLogin("admin", "one guess too many")
	if r.code != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("guess past the account's allowance: %d (Retry-After %q), want 429 with Retry-After", r.code, r.header.Get("Retry-After"))
	}

	second := h.from("127.0.0.4")
	second.tryLogin("admin", "its one try").want(t, http.StatusUnauthorized)
	second.tryLogin("admin", testPassword).want(t, http.StatusTooManyRequests)

	admin := h.from("127.0.0.3")
	admin.tryLogin("admin", testPassword).want(t, http.StatusOK)
	if !strings.Contains(h.log.String(), "locked out") {
		t.Error("the lockout is not logged")
	}
}

// The client's address is the socket's: headers a proxy would set are not
// believed, so a locked-out address cannot pass as another.
func TestLoginAddressNotSpoofable(t *testing.T) {
	clk := newTestClock()
	h := newHarness(t, func(d *Deps) { d.Now = clk.now })
	h.admin()
	c := h.from("127.0.0.2")
	for i := range clientFree {
		c.tryLogin("nobody"+strconv.Itoa(i), "wrong").want(t, http.StatusUnauthorized)
	}
	c.tryLogin("nobody", "wrong").want(t, http.StatusTooManyRequests)
	for _, hdr := range []string{"X-Forwarded-For", "X-Real-IP", "True-Client-IP", "CF-Connecting-IP", "X-Client-IP"} {
		c.header = http.Header{hdr: {"127.0.0.77"}}
		if r := c.tryLogin("admin", testPassword); r.code != http.StatusTooManyRequests {
			t.Errorf("%s: 127.0.0.77 from a locked-out address: %d, want 429", hdr, r.code)
		}
	}
	c.header = http.Header{"Forwarded": {"for=127.0.0.77"}}
	c.tryLogin("admin", testPassword).want(t, http.StatusTooManyRequests)
	entries, err := h.db.AuditLog(context.Background(), store.AuditFilter{Action: "login"})
	if err != nil || len(entries) != 1 || entries[0].Remote != "127.0.0.1" {
		t.Errorf("login audit %+v (%v), want only the harness's own login from 127.0.0.1", entries, err)
	}
}

// A flood of wrong passwords from several addresses never makes a clean
// client's login wait for their password checks. The attackers' checks are
// held for as long as the test likes, under the store's bound of two hashes
// at once; the clean login must complete while they are held, and the
// attackers must have been checked one at a time.
func TestLoginCleanClientDoesNotQueueBehindGuesses(t *testing.T) {
	hashes := make(chan struct{}, 2) // the store's bound on hashes at once
	release := make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	var hold atomic.Bool
	var held, heldMax, checked atomic.Int32
	h := newHarness(t, func(d *Deps) {
		real := d.Store.Authenticate
		d.verify = func(ctx context.Context, name, password string) (store.User, error) {
			hashes <- struct{}{}
			defer func() { <-hashes }()
			if password == testPassword || !hold.Load() {
				return real(ctx, name, password)
			}
			checked.Add(1)
			n := held.Add(1)
			for m := heldMax.Load(); n > m && !heldMax.CompareAndSwap(m, n); m = heldMax.Load() {
			}
			<-release
			held.Add(-1)
			return store.User{}, store.ErrBadCredentials
		}
	})
	t.Cleanup(free) // before the harness stops, also when the test fails early
	if _, err := h.db.CreateUser(context.Background(), "admin", store.RoleAdmin, testPassword); err != nil {
		t.Fatal(err)
	}
	const addrs, each = 8, 5
	var attackers []*client
	for i := range addrs {
		c := h.from(fmt.Sprintf("127.0.0.%d", 2+i))
		// One failure first: from now on a failing client.
		c.tryLogin(fmt.Sprintf("guesser%d", i), "first wrong").want(t, http.StatusUnauthorized)
		attackers = append(attackers, c)
	}
	hold.Store(true)
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	t.Cleanup(func() { free(); wg.Wait() }) // a failed test ends no attacker early
	for i, c := range attackers {
		for j := range each {
			wg.Go(func() {
				r, err := c.send("POST", "/api/v1/login", LoginRequest{Name: fmt.Sprintf("user%d-%d", i, j), Password: "wrong"})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("attacker: %v", err)
					return
				}
				codes[r.code]++
			})
		}
	}
	// The flood is under way once the hashes are full, or once every
	// address has one guess in flight and the rest were refused.
	eventually.True(t, "the guesses reach the password check", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return held.Load() >= 2 || held.Load() >= 1 && codes[http.StatusTooManyRequests] == addrs*(each-1)
	})
	done := make(chan *response, 1)
	go func() {
		r, err := h.from("127.0.0.20").send("POST", "/api/v1/login", LoginRequest{Name: "admin", Password: testPassword})
		if err != nil {
			t.Errorf("clean login: %v", err)
			r = &response{}
		}
		done <- r
	}()
	if r := eventually.Recv(t, "the clean login, while the guesses are held", done); r.code != http.StatusOK {
		t.Errorf("clean login during the flood: %d %s", r.code, r.body)
	}
	free()
	wg.Wait()
	if heldMax.Load() != 1 {
		t.Errorf("%d guesses were checked at once, want 1: failing clients share one lane", heldMax.Load())
	}
	if codes[http.StatusUnauthorized] != addrs || codes[http.StatusTooManyRequests] != addrs*(each-1) || checked.Load() != addrs {
		t.Errorf("answers %v after %d checks, want %d checked (one per address) and the rest refused at once", codes, checked.Load(), addrs)
	}
}

// A browser in which the admin signed in before is a known device: its
// sign-ins count against the device alone, so neither strangers at the
// account nor another client at the same address lock it out. Its own
// failures do, and a cookie that does not verify is no device at all.
func TestLoginKnownDevice(t *testing.T) {
	clk := newTestClock()
	h := newHarness(t, func(d *Deps) { d.Now = clk.now })
	h.admin()
	browser := h.from("127.0.0.5")
	browser.login("admin", testPassword)
	browser.do("POST", "/api/v1/logout", nil).want(t, http.StatusNoContent)
	u, _ := url.Parse(h.srv.URL)
	var device *http.Cookie
	for _, ck := range browser.hc.Jar.Cookies(u) {
		if ck.Name == "__Host-punchbox_device" {
			device = ck
		}
	}
	if device == nil {
		t.Fatal("no known-device cookie after a sign-in")
	}

	// Another client at the same address fails, strangers lock the account.
	neighbour := h.from("127.0.0.5")
	neighbour.tryLogin("admin", "not the password").want(t, http.StatusUnauthorized)
	attacker := h.from("127.0.0.2")
	for i := range accountFree - 1 { // the neighbour's failure was the first
		attacker.tryLogin("admin", "guess "+strconv.Itoa(i)).want(t, http.StatusUnauthorized)
	}
	attacker.tryLogin("admin", "one more").want(t, http.StatusTooManyRequests)
	neighbour.tryLogin("admin", testPassword).want(t, http.StatusTooManyRequests)

	forged := h.from("127.0.0.5")
	forged.hc.Jar.SetCookies(u, []*http.Cookie{{Name: device.Name, Value: strings.Replace(device.Value, ".", "A.", 2), Path: "/"}})
	forged.tryLogin("admin", testPassword).want(t, http.StatusTooManyRequests)

	browser.login("admin", testPassword) // 200, or the test ends
	browser.do("POST", "/api/v1/logout", nil).want(t, http.StatusNoContent)

	// The device's own failures lock it out, and only it.
	for i := range accountFree {
		browser.tryLogin("admin", "typo "+strconv.Itoa(i)).want(t, http.StatusUnauthorized)
	}
	browser.tryLogin("admin", testPassword).want(t, http.StatusTooManyRequests)
	h.from("127.0.0.6").tryLogin("admin", testPassword).want(t, http.StatusOK)
}

// Guesses at the setup code sent at once are limited like sign-ins: each
// counts before the code is compared, one at a time per address.
func TestSetupCodeParallelGuesses(t *testing.T) {
	clk := newTestClock()
	h := newHarness(t, func(d *Deps) { d.Now = clk.now })
	c := h.from("127.0.0.2")
	codes := c.parallel(t, 40, func(i int) (string, string, any) {
		return "POST", "/api/v1/setup", SetupRequest{Code: fmt.Sprintf("AAAA-BBBB-%04d", i), Name: "root", Password: testPassword}
	})
	if codes[http.StatusBadRequest]+codes[http.StatusTooManyRequests] != 40 {
		t.Fatalf("answers %v, want only 400 and 429", codes)
	}
	if compared := codes[http.StatusBadRequest]; compared < 1 || compared > clientFree {
		t.Errorf("40 parallel guesses: %d codes compared, want 1 to %d (answers %v)", compared, clientFree, codes)
	}
}
