package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/punchbox/punchbox/drivers/zksim"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
	"github.com/punchbox/punchbox/sync/central/brokertest"
)

// daemonProc is the release binary running serve, for benchmarks.
type daemonProc struct {
	cmd    *exec.Cmd
	stderr strings.Builder
}

func startRelease(b *testing.B, bin, cfg string) *daemonProc {
	b.Helper()
	sock := filepath.Join(b.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	d := &daemonProc{cmd: exec.Command(bin, "serve", "--config", cfg)}
	d.cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	d.cmd.Stderr = &d.stderr
	if err := d.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 4096)
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	for {
		n, err := conn.Read(buf)
		if err != nil {
			d.cmd.Process.Kill()
			b.Fatalf("no READY: %v\n%s", err, d.stderr.String())
		}
		if strings.Contains(string(buf[:n]), "READY=1") {
			return d
		}
	}
}

// peakRSS reads the process's peak resident set (VmHWM) in KiB.
func (d *daemonProc) peakRSS() int64 {
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(s), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

func (d *daemonProc) stop(b *testing.B) {
	d.cmd.Process.Signal(syscall.SIGTERM)
	if err := d.cmd.Wait(); err != nil {
		b.Errorf("daemon: %v\n%s", err, d.stderr.String())
	}
}

// BenchmarkDrain1M is the daemon draining a backlog of 1,000,000 punches
// to the broker at QoS 1 (a real mosquitto with PUNCHBOX_TEST_BROKER, as
// make bench sets when it finds one): punches/s from READY until every
// punch is acknowledged, and the daemon's peak RSS (goals: 50,000/s,
// 40 MB).
func BenchmarkDrain1M(b *testing.B) {
	bin := releaseBinary(b)
	broker := brokertest.Start(b)
	var rate float64
	var rss int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		data := filepath.Join(dir, "data")
		storetest.CopyMillion(b, filepath.Join(data, store.FileName))
		cfg := filepath.Join(dir, "punchbox.yaml")
		body := fmt.Sprintf("site: bench\nbox: box-01\ndata_dir: %s\nlog: {level: warn}\nweb: {listen: %q, insecure_http: true}\nmqtt: {url: %q}\n",
			data, freePort(b), broker.URL())
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		d := startRelease(b, bin, cfg)
		t0 := time.Now()
		db, err := store.Open(context.Background(), filepath.Join(data, store.FileName), store.Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		for {
			bl, err := db.Backlog(context.Background())
			if err == nil && bl.Pending == 0 {
				break
			}
			if time.Since(t0) > 10*time.Minute {
				b.Fatalf("drain did not finish: %+v\n%s", bl, d.stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		took := time.Since(t0)
		db.Close()
		rss = max(rss, d.peakRSS())
		rate = 1_000_000 / took.Seconds()
		d.stop(b)
	}
	b.ReportMetric(rate, "punches/s")
	b.ReportMetric(float64(rss)/1024, "daemon-peak-rss-MiB")
	b.ReportMetric(0, "ns/op")
	b.Logf("broker: %s", broker.Kind)
}

// BenchmarkLiveLatency measures a live punch from the moment a simulated
// terminal makes it (its realtime event) to a central subscriber's receipt,
// through the daemon (zk driver, store commit, uplink) and the broker;
// punches come one at a time (goal: p99 50 ms or less).
func BenchmarkLiveLatency(b *testing.B) {
	bin := releaseBinary(b)
	broker := brokertest.Start(b)
	sim := zksim.New(zksim.Config{Serial: "LAT00001"})
	users := zksim.GenerateUsers(50)
	sim.SetUsers(users)
	if err := sim.Listen("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	simDone := make(chan error, 1)
	go func() { simDone <- sim.Run(ctx) }()
	defer func() { cancel(); <-simDone }()

	dir := b.TempDir()
	cfg := filepath.Join(dir, "punchbox.yaml")
	body := fmt.Sprintf("site: bench\nbox: box-01\ndata_dir: %s\nlog: {level: warn}\nweb: {listen: %q, insecure_http: true}\nmqtt: {url: %q}\nterminals:\n  - {id: gate-a, kind: zk, address: %q, transport: tcp}\n",
		filepath.Join(dir, "data"), freePort(b), broker.URL(), sim.Addr())
	os.WriteFile(cfg, []byte(body), 0o600)
	central := brokertest.Subscribe(b, broker.URL(), "punchbox/v1/bench/box-01/punches")
	d := startRelease(b, bin, cfg)
	defer d.stop(b)
	// Wait until the terminal is online and subscribed: a first punch
	// comes through.
	punch := func(pin string, state uint8) time.Time {
		for {
			t0 := time.Now()
			if _, ok := sim.Punch(pin, state, 1); ok {
				return t0
			}
			time.Sleep(5 * time.Millisecond) // the box is reading the log; the terminal is locked meanwhile
		}
	}
	punch("1050", 5) // not a punch of the loop's first second
	central.Wait(b, "the first punch", time.Minute, func() bool { return len(central.Messages("/punches")) > 0 })

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before := len(central.Messages("/punches"))
		t0 := punch(strconv.Itoa(1001+i%50), uint8(i%6))
		deadline := time.Now().Add(30 * time.Second)
		for len(central.Messages("/punches")) <= before {
			if time.Now().After(deadline) {
				b.Fatalf("punch %d never reached central; sim stats %+v\n%s", i, sim.Stats(), d.stderr.String())
			}
			time.Sleep(time.Millisecond)
		}
		m := central.Messages("/punches")[before]
		lat = append(lat, m.At.Sub(t0))
		var p struct {
			Historical bool `json:"historical"`
		}
		json.Unmarshal(m.Payload, &p)
		if p.Historical {
			b.Fatal("a live punch went out as historical")
		}
		time.Sleep(20 * time.Millisecond) // one at a time, as people punch
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}
