package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// benchClients is how many clients load the panel at once.
const benchClients = 50

// BenchmarkPanel1M loads the panel's API with benchClients concurrent
// clients on a store of 1,000,000 punches (50 terminals, 500 employees, a
// year) and reports the latency percentiles (goal: p99 of 50 ms or less).
// Each client has its own keep-alive HTTPS connection; each op is one
// request.
func BenchmarkPanel1M(b *testing.B) {
	path := filepath.Join(b.TempDir(), store.FileName)
	storetest.CopyMillion(b, path)
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	now := func() time.Time { return time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC) } // the last day of the data
	h := newHarness(b, func(d *Deps) { d.Store, d.Now = db, now })
	owner, err := db.CreateUser(context.Background(), "bench", store.RoleViewer, "bench password")
	if err != nil {
		b.Fatal(err)
	}
	secret, _, err := db.CreateToken(context.Background(), "bench", store.RoleViewer, owner.ID, "")
	if err != nil {
		b.Fatal(err)
	}
	tr := h.srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = benchClients
	hc := &http.Client{Transport: tr, Timeout: time.Minute}

	loads := []struct {
		name  string
		paths func(i int) string // the i-th request of a client
	}{
		{"dashboard", func(int) string { return "/api/v1/dashboard" }},
		{"punch-search", func(i int) string {
			switch i % 5 {
			case 0: // the punches page as it opens: newest first
				return "/api/v1/punches?limit=50"
			case 1: // one employee's month
				return fmt.Sprintf("/api/v1/punches?pin=%d&from=2026-10-27&to=2026-11-26&limit=100", 1000+i%500)
			case 2: // one terminal's day
				return fmt.Sprintf("/api/v1/punches?terminal=term-%02d&from=2026-11-26&to=2026-11-26&limit=100", i%50)
			case 3: // a week, oldest first
				return "/api/v1/punches?from=2026-11-20&to=2026-11-26&order=oldest&limit=100"
			default: // an employee on a terminal
				return fmt.Sprintf("/api/v1/punches?pin=%d&terminal=term-%02d&limit=50", 1000+i%500, i%50)
			}
		}},
	}
	// Each load runs twice: "busy", every client sending its next request
	// as soon as the last is answered (the box's capacity), and "paced",
	// every client sending one request every 200 ms (250 requests/s in
	// all: far more than 50 open panels, which refresh every 30 s and
	// get the rest from the live feed).
	for _, l := range loads {
		for _, mode := range []struct {
			name  string
			every time.Duration
		}{{"busy", 0}, {"paced", 200 * time.Millisecond}} {
			b.Run(l.name+"/"+mode.name, func(b *testing.B) { loadPanel(b, hc, h.srv.URL, secret, l.paths, mode.every) })
		}
	}
}

// loadPanel sends b.N requests from benchClients clients, each waiting
// every between the starts of its requests (0: none), and reports the
// latency percentiles and the rate.
func loadPanel(b *testing.B, hc *http.Client, base, secret string, paths func(int) string, every time.Duration) {
	// Warm up: one request of each kind, checked.
	for i := range 5 {
		if code, err := benchGet(hc, base+paths(i), secret); err != nil || code != http.StatusOK {
			b.Fatalf("%s: %d %v", paths(i), code, err)
		}
	}
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	for c := range benchClients {
		wg.Go(func() {
			tick := time.Now().Add(every * time.Duration(c) / benchClients) // spread the clients out
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if every > 0 {
					time.Sleep(time.Until(tick))
					tick = tick.Add(every)
				}
				start := time.Now()
				code, err := benchGet(hc, base+paths(int(i)), secret)
				lat[i] = time.Since(start)
				if err != nil || code != http.StatusOK {
					failed.Store(fmt.Sprintf("%s: %d %v", paths(int(i)), code, err))
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if f := failed.Load(); f != nil {
		b.Fatal(f)
	}
	slices.Sort(lat)
	pct := func(p int) float64 { return float64(lat[(len(lat)-1)*p/100].Microseconds()) / 1000 }
	b.ReportMetric(pct(50), "p50-ms")
	b.ReportMetric(pct(99), "p99-ms")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// benchGet requests url with a bearer token and reads the body whole.
func benchGet(hc *http.Client, url, token string) (int, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}
