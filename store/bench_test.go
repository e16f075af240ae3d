package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// Figures of the store (make bench): durable ingest from 16 writers, the
// latency of one live punch's Put, the panel's queries and an in-order read
// of the outbox on a store of 1,000,000 punches, and the reader's peak RSS.

// BenchmarkIngest16Writers measures durable ingest (synchronous=FULL) from
// 16 concurrent writers, each putting batches of the given size, in
// punches/s.
func BenchmarkIngest16Writers(b *testing.B) {
	for _, batch := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			db := storetest.Open(b)
			ctx := context.Background()
			var next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := 0; w < 16; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						start := next.Add(int64(batch)) - int64(batch)
						if start >= int64(b.N) {
							return
						}
						n := min(int64(batch), int64(b.N)-start)
						ps := make([]punchbox.Punch, n)
						for i := range ps {
							ps[i] = storetest.Punch(strconv.Itoa(w), int(start)+i)
						}
						if err := db.Put(ctx, ps); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "punches/s")
		})
	}
}

// BenchmarkPutLatency measures one live punch's Put, from call to durable
// commit, and reports the median and 99th percentile.
func BenchmarkPutLatency(b *testing.B) {
	db := storetest.Open(b)
	ctx := context.Background()
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := []punchbox.Punch{storetest.Punch("1", i)}
		t0 := time.Now()
		if err := db.Put(ctx, p); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(t0)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func million(b *testing.B) string { return storetest.Million(b) }

// BenchmarkQueries1M runs each panel query on a store of 1,000,000 punches
// (goal: 20 ms or less each).
func BenchmarkQueries1M(b *testing.B) {
	db, err := store.Open(context.Background(), million(b), store.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if n, _ := db.CountPunches(ctx); n != 1_000_000 {
		b.Fatalf("bench store holds %d punches", n)
	}
	queries := []struct {
		name string
		run  func() (int, error)
	}{
		{"latest-50", func() (int, error) { r, err := db.Latest(ctx, 50); return len(r), err }},
		{"employee-30-days", func() (int, error) {
			r, err := db.Search(ctx, store.Filter{PIN: "1234", From: "2026-10-28", To: "2026-11-27", Limit: 100})
			return len(r), err
		}},
		{"terminal-1-day", func() (int, error) {
			r, err := db.Search(ctx, store.Filter{Terminal: "term-07", From: "2026-11-26", To: "2026-11-27", Limit: 100})
			return len(r), err
		}},
		{"all-1-day-page", func() (int, error) {
			r, err := db.Search(ctx, store.Filter{From: "2026-11-26", To: "2026-11-27", Limit: 100})
			return len(r), err
		}},
		{"daily-counts-7-days", func() (int, error) { r, err := db.DailyCounts(ctx, "2026-11-20", "2026-11-27"); return len(r), err }},
		{"hourly-counts-1-day", func() (int, error) { r, err := db.HourlyCounts(ctx, "2026-11-26", "2026-11-27"); return len(r), err }},
		{"hourly-counts-7-days", func() (int, error) { r, err := db.HourlyCounts(ctx, "2026-11-20", "2026-11-27"); return len(r), err }},
		{"first-last-1-day", func() (int, error) { r, err := db.FirstLast(ctx, "2026-11-26", "2026-11-27", ""); return len(r), err }},
		{"first-last-employee-30-days", func() (int, error) {
			r, err := db.FirstLast(ctx, "2026-10-28", "2026-11-27", "1234")
			return len(r), err
		}},
		{"backlog", func() (int, error) { _, err := db.Backlog(ctx); return 1, err }},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				n, err := q.run()
				if err != nil || n == 0 {
					b.Fatalf("%d rows, %v", n, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}

// BenchmarkOutboxRead1M reads all 1,000,000 punches of the outbox in order,
// in pages of 500 as the uplink does, in a child process, and reports
// punches/s and the child's peak RSS.
func BenchmarkOutboxRead1M(b *testing.B) {
	path := million(b)
	var rate float64
	var rss int64
	for i := 0; i < b.N; i++ {
		cmd := selfCommand()
		cmd.Env = append(os.Environ(), "PUNCHBOX_OUTBOX_CHILD="+path)
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("child: %v", err)
		}
		f := strings.Fields(string(out))
		if len(f) != 3 || f[0] != "1000000" {
			b.Fatalf("child read %q", out)
		}
		rate, _ = strconv.ParseFloat(f[1], 64)
		hwm, _ := strconv.ParseInt(f[2], 10, 64)
		rss = max(rss, hwm)
	}
	b.ReportMetric(rate, "punches/s")
	b.ReportMetric(float64(rss)/1024, "peak-rss-MiB")
}

func init() {
	if path := os.Getenv("PUNCHBOX_OUTBOX_CHILD"); path != "" {
		outboxChild(path)
		os.Exit(0)
	}
}

// outboxChild reads the whole outbox and prints the count and the rate.
func outboxChild(path string) {
	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	defer db.Close()
	t0 := time.Now()
	var after, n int64
	for {
		page, err := db.Outbox(ctx, after, 500)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		if len(page) == 0 {
			break
		}
		n += int64(len(page))
		after = page[len(page)-1].Seq
	}
	fmt.Println(n, float64(n)/time.Since(t0).Seconds(), peakRSS())
}

// peakRSS returns this process's peak resident set in KiB (VmHWM). The
// rusage a parent gets counts the parent's memory shared before exec, so
// the child reports its own.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkChecks1M times the checks for damage on a store of 1,000,000
// punches (about 300 MB): the quick check made at every start, and the
// full integrity check made in the background.
func BenchmarkChecks1M(b *testing.B) {
	db, err := store.Open(context.Background(), million(b), store.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	b.Run("quick", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if res, err := db.QuickCheck(ctx, time.Hour); err != nil || !res.OK() {
				b.Fatalf("%+v, %v", res, err)
			}
		}
	})
	b.Run("integrity", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if res, err := db.CheckIntegrity(ctx); err != nil || !res.OK() {
				b.Fatalf("%+v, %v", res, err)
			}
		}
	})
}

// BenchmarkPutDuringIntegrityCheck measures a live punch's Put on a store
// of 1,000,000 punches while the full integrity check runs beside it, and
// reports the median and 99th percentile: the check must not starve the
// writer.
func BenchmarkPutDuringIntegrityCheck(b *testing.B) {
	path := filepath.Join(b.TempDir(), store.FileName)
	storetest.CopyMillion(b, path)
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	checks := make(chan error, 1)
	go func() {
		var err error
		for ctx.Err() == nil && err == nil {
			_, err = db.CheckIntegrity(ctx)
		}
		checks <- err
	}()
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := []punchbox.Punch{storetest.Punch("1", i)}
		t0 := time.Now()
		if err := db.Put(ctx, p); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(t0)
	}
	b.StopTimer()
	cancel()
	if err := <-checks; err != nil && !errors.Is(err, context.Canceled) {
		b.Fatal(err)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
