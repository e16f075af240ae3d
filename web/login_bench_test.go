package web

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// BenchmarkLoginDuringFlood times a clean address's sign-in (real argon2
// checks) while 150 wrong passwords arrive at once from 15 addresses that
// have failed before: the flood of issue 9. It reports the clean sign-in's
// latency as ns/op, and the guesses whose password was checked.
func BenchmarkLoginDuringFlood(b *testing.B) {
	h := newHarness(b)
	h.admin()
	const addrs, each = 15, 10
	var checked int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var attackers []*client
		for a := range addrs {
			c := h.from(fmt.Sprintf("127.0.%d.%d", 1+i%200, 2+a))
			if r, err := c.send("POST", "/api/v1/login", LoginRequest{Name: fmt.Sprintf("first%d", a), Password: "wrong"}); err != nil || r.code != http.StatusUnauthorized {
				b.Fatalf("first failure: %v %v", r, err)
			}
			attackers = append(attackers, c)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for a, c := range attackers {
			for j := range each {
				wg.Go(func() {
					r, err := c.send("POST", "/api/v1/login", LoginRequest{Name: fmt.Sprintf("user%d-%d", a, j), Password: "wrong"})
					if err == nil && r.code == http.StatusUnauthorized {
						mu.Lock()
						checked++
						mu.Unlock()
					}
				})
			}
		}
		time.Sleep(500 * time.Millisecond) // a benchmark: let the flood arrive first
		b.StartTimer()
		r, err := h.from(fmt.Sprintf("127.0.%d.250", 1+i%200)).send("POST", "/api/v1/login", LoginRequest{Name: "admin", Password: testPassword})
		b.StopTimer()
		if err != nil || r.code != http.StatusOK {
			b.Fatalf("clean sign-in: %v %v", r, err)
		}
		wg.Wait()
	}
	b.ReportMetric(float64(checked)/float64(b.N), "guesses-checked/op")
}
