package zkpull

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/drivers/driverstest"
	"github.com/punchbox/punchbox/drivers/zksim/hostile"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/protocol/zk"
)

// The tests of the hostile_*test.go files meet a terminal that lies
// (drivers/zksim/hostile) over real TCP and UDP sockets. This one: sizes it
// announces.

var transports = []string{"tcp", "udp"}

// startHostile runs a hostile terminal until the test ends.
func startHostile(t testing.TB, cfgs ...hostile.Config) *hostile.Server {
	t.Helper()
	h := hostile.New(testLogger(), cfgs...)
	if err := h.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := eventually.Recv(t, "the hostile terminal stops", done); err != nil {
			t.Error(err)
		}
	})
	return h
}

// hostileTerminal is a driver for the terminal at addr, with its fakes.
func hostileTerminal(t testing.TB, addr string, opts map[string]any, deps drivers.Deps) *Terminal {
	t.Helper()
	if deps.Sink == nil {
		deps.Sink = &driverstest.Sink{}
	}
	if deps.State == nil {
		deps.State = &driverstest.State{}
	}
	if deps.Report == nil {
		deps.Report = &driverstest.Reporter{}
	}
	if deps.Logger == nil {
		deps.Logger = testLogger()
	}
	deps.Zone = time.UTC
	term, err := New(punchbox.Terminal{ID: "gate-a", Kind: punchbox.KindZK, Address: addr, Options: opts, Enabled: true}, deps)
	if err != nil {
		t.Fatal(err)
	}
	return term
}

func dialHostile(t testing.TB, addr, transport string) *Client {
	t.Helper()
	ctx := context.Background()
	c, err := Dial(ctx, transport, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Connect(ctx, 0); err != nil {
		t.Fatal(err)
	}
	return c
}

// allocated runs f and returns how many bytes the process allocated
// meanwhile.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// maxAlloc bounds what reading a lying terminal may allocate: far below
// the 4 GiB it announces, far above what a 1,000-record table needs.
const maxAlloc = 64 << 20

// A terminal that announces a 4 GiB dataset gets a clear error naming the
// size and the bound, and nothing near that size is allocated, however it
// is read: attendance, users, the tail of the log.
func TestHostile_AnnouncedSize(t *testing.T) {
	now := time.Now().UTC()
	h := startHostile(t, hostile.Config{
		Sizes: zk.Sizes{Records: 10, RecordCap: 1000, Users: 2, UserCap: 500},
		Log:   hostile.Log40(10, now.AddDate(0, 0, -1)), Users: hostile.User72(1, "1001", "Ada"),
		AnnounceLog: 0xFFFFFFF0, AnnounceUsers: 0xFFFFFFF0,
	})
	ctx := context.Background()
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			c := dialHostile(t, h.Addr(), tr)
			if _, err := c.Sizes(ctx); err != nil {
				t.Fatal(err)
			}
			for _, read := range []struct {
				name  string
				bound string
				f     func() error
			}{
				{"attendance", "40004", func() error { _, _, err := c.ReadAttendance(ctx, 10); return err }},
				{"users", "36004", func() error { _, _, err := c.ReadUsers(ctx, 2); return err }},
				{"tail of the log", "40004", func() error { _, err := c.ReadAttendanceFrom(ctx, 5, zk.AttSize40); return err }},
			} {
				var err error
				if n := allocated(func() { err = read.f() }); n > maxAlloc {
					t.Errorf("%s: allocated %d bytes", read.name, n)
				}
				if err == nil || !strings.Contains(err.Error(), "4294967280") || !strings.Contains(err.Error(), read.bound) {
					t.Errorf("%s: %v; want an error naming 4294967280 and the bound %s", read.name, err, read.bound)
				}
			}
		})
	}
	t.Run("no capacities reported", func(t *testing.T) {
		h := startHostile(t, hostile.Config{AnnounceLog: 0xFFFFFFF0})
		c := dialHostile(t, h.Addr(), "tcp")
		var err error
		if n := allocated(func() { _, _, err = c.ReadAttendance(ctx, 0) }); n > maxAlloc {
			t.Errorf("allocated %d bytes", n)
		}
		if err == nil || !strings.Contains(err.Error(), "4294967280") {
			t.Errorf("err = %v", err)
		}
	})
}

// The driver meets the same terminal: it refuses the log, says so once,
// and stays online on the same connection; the panel's "read users",
// asked for by several viewers at once, gets the error each time.
func TestHostile_AnnouncedSizeStaysOnline(t *testing.T) {
	now := time.Now().UTC()
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			h := startHostile(t, hostile.Config{
				Sizes: zk.Sizes{Records: 10, RecordCap: 1000, Users: 2, UserCap: 500},
				Log:   hostile.Log40(10, now.AddDate(0, 0, -1)), AnnounceLog: 0xFFFFFFF0, AnnounceUsers: 0xFFFFFFF0,
			})
			logged := newLines()
			r := run(t, hostileTerminal(t, h.Addr(), map[string]any{"transport": tr, "poll_interval": "1s"}, drivers.Deps{Logger: slog.New(logged)}))
			eventually.True(t, "three reads of the log refused", func() bool { return h.Stats().Commands[zk.CmdDataWRRQ] >= 3 })
			eventually.True(t, "the refusal reported", func() bool {
				return strings.Contains(r.report.LastInfo().LogError, "4294967280 bytes announced, over the bound of 40004 bytes")
			})
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = r.term.ReadUsers(context.Background())
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err == nil || !strings.Contains(err.Error(), "4294967280") {
					t.Errorf("ReadUsers %d: %v", i, err)
				}
			}
			if st := h.Stats(); st.Connections != 1 {
				t.Errorf("%d connections: the refused log dropped the link", st.Connections)
			}
			if !r.term.online() {
				t.Error("the terminal is not online")
			}
			if n := logged.count(slog.LevelWarn, "refusing"); n != 1 {
				t.Errorf("the refusal was logged %d times at Warn, want once", n)
			}
		})
	}
}
