package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox/drivers/zksim/hostile"
)

// hostileDefault is how long BenchmarkHostileTerminal lets the terminal do
// its worst when PUNCHBOX_HOSTILE_FOR (a Go duration) does not say.
const hostileDefault = 5 * time.Second

// BenchmarkHostileTerminal is the daemon's peak RSS and log lines while a
// hostile terminal does its worst: the release binary serves one terminal
// of kind zk at the rotation of hostile.Worst (a terminal announcing 4 GiB
// datasets, negative counts and an 18 KB platform of ESC and BEL, a log of
// garbage records, megabyte and 60 KiB event frames before CONNECT,
// floods of malformed punches and alarms, a serial of control characters),
// one attack per connection, for PUNCHBOX_HOSTILE_FOR (5 s by default, so
// that make bench stays quick; 60s for the figure of issue 9), writing the
// daemon's log to PUNCHBOX_HOSTILE_LOG when it names a file. It reports
// the daemon's VmHWM and the lines it logged at level info, in all and at
// warn or above (goal: a few dozen lines a minute, RSS that of an idle
// daemon).
func BenchmarkHostileTerminal(b *testing.B) {
	bin := releaseBinary(b)
	dur := hostileDefault
	if v := os.Getenv("PUNCHBOX_HOSTILE_FOR"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			b.Fatalf("PUNCHBOX_HOSTILE_FOR=%q: want a positive duration such as 60s", v)
		}
		dur = d
	}
	var rss int64
	var lines, warn int
	var st hostile.Stats
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h := hostile.New(nil, hostile.Worst(time.Now().UTC())...)
		if err := h.Listen("127.0.0.1:0"); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.Run(ctx) }()
		dir := b.TempDir()
		cfg := filepath.Join(dir, "punchbox.yaml")
		body := fmt.Sprintf("site: bench\nbox: box-01\ndata_dir: %s\nlog: {level: info}\nweb: {listen: %q, insecure_http: true}\n"+
			"terminals:\n  - {id: gate-a, kind: zk, address: %q}\n", filepath.Join(dir, "data"), freePort(b), h.Addr())
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		d := startRelease(b, bin, cfg)
		time.Sleep(dur) // the measurement: the terminal does its worst meanwhile
		rss = max(rss, d.peakRSS())
		d.stop(b)
		b.StopTimer()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		st = h.Stats()
		lines, warn = countLines(d.stderr.String())
		if path := os.Getenv("PUNCHBOX_HOSTILE_LOG"); path != "" {
			if err := os.WriteFile(path, []byte(d.stderr.String()), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		if b.N == 1 || i == b.N-1 {
			b.Logf("%s: %d connections, %d events sent, %d acknowledged; log lines %d, at warn or above %d",
				dur, st.Connections, st.EventsSent, st.Acks, lines, warn)
		}
	}
	b.ReportMetric(float64(rss)/1024, "daemon-peak-rss-MiB")
	b.ReportMetric(float64(lines), "log-lines")
	b.ReportMetric(float64(warn), "warn-lines")
	b.ReportMetric(float64(st.Connections), "connections")
	b.ReportMetric(float64(st.EventsSent), "events-sent")
	b.ReportMetric(dur.Seconds(), "seconds")
	b.ReportMetric(0, "ns/op")
}

// countLines counts the daemon's log lines (text format), in all and at
// warn or above.
func countLines(log string) (all, warn int) {
	for _, l := range strings.Split(log, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		all++
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			warn++
		}
	}
	return all, warn
}
