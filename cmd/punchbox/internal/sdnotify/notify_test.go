package sdnotify

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// listen opens a real unixgram socket, as systemd does, and returns its name
// and a channel of the datagrams it receives.
func listen(t *testing.T, name string) <-chan string {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 100)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			ch <- string(buf[:n])
		}
	}()
	t.Cleanup(func() { conn.Close(); wg.Wait() })
	return ch
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func recv(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no datagram within 5 s")
		return ""
	}
}

func TestNotify(t *testing.T) {
	tests := []struct {
		name   string
		socket func(t *testing.T) string
	}{
		{"path socket", func(t *testing.T) string { return filepath.Join(t.TempDir(), "notify.sock") }},
		{"abstract socket", func(t *testing.T) string {
			return "@punchbox-test-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock := tt.socket(t)
			ch := listen(t, sock)
			n := New(envOf(map[string]string{"NOTIFY_SOCKET": sock}))
			if !n.Enabled() {
				t.Fatal("not enabled with NOTIFY_SOCKET set")
			}
			if err := n.Ready("serving 2 terminals"); err != nil {
				t.Fatal(err)
			}
			if got := recv(t, ch); got != "READY=1\nSTATUS=serving 2 terminals" {
				t.Errorf("ready datagram = %q", got)
			}
			if err := n.Stopping(); err != nil {
				t.Fatal(err)
			}
			if got := recv(t, ch); got != "STOPPING=1\nSTATUS=stopping" {
				t.Errorf("stopping datagram = %q", got)
			}
			if err := n.Notify("READY=1\nMAINPID=1"); err == nil {
				t.Error("an assignment with a newline was sent")
			}
		})
	}
}

func TestNotifyUnset(t *testing.T) {
	n := New(envOf(nil))
	if n.Enabled() {
		t.Fatal("enabled without NOTIFY_SOCKET")
	}
	if err := n.Ready("x"); err != nil {
		t.Fatalf("Ready without a socket = %v, want a no-op", err)
	}
}

func TestNotifyNoListener(t *testing.T) {
	n := New(envOf(map[string]string{"NOTIFY_SOCKET": filepath.Join(t.TempDir(), "gone.sock")}))
	if err := n.Ready("x"); err == nil {
		t.Fatal("Ready to a missing socket succeeded")
	}
}

func TestWatchdogInterval(t *testing.T) {
	self := strconv.Itoa(os.Getpid())
	tests := []struct {
		name string
		env  map[string]string
		want time.Duration
		ok   bool
	}{
		{"unset", nil, 0, false},
		{"30 s", map[string]string{"WATCHDOG_USEC": "30000000"}, 15 * time.Second, true},
		{"for this pid", map[string]string{"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": self}, time.Second, true},
		{"for another pid", map[string]string{"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}, 0, false},
		{"garbage", map[string]string{"WATCHDOG_USEC": "soon"}, 0, false},
		{"zero", map[string]string{"WATCHDOG_USEC": "0"}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := WatchdogInterval(envOf(tt.env))
			if d != tt.want || ok != tt.ok {
				t.Errorf("= %v, %v; want %v, %v", d, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestWatchdogPingsOnlyWhileHealthy(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	ch := listen(t, sock)
	n := New(envOf(map[string]string{"NOTIFY_SOCKET": sock}))
	// Each health check hands the test a channel and waits for its verdict,
	// so the test decides every outcome in turn.
	checks := make(chan chan error)
	w := &Watchdog{
		Notifier: n,
		Interval: time.Millisecond,
		Healthy: func(ctx context.Context) error {
			verdict := make(chan error)
			select {
			case checks <- verdict:
				return <-verdict
			case <-ctx.Done():
				return ctx.Err()
			}
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	for i := 0; i < 3; i++ {
		(<-checks) <- nil
		if got := recv(t, ch); got != "WATCHDOG=1" {
			t.Fatalf("healthy ping %d = %q", i, got)
		}
	}
	next := <-checks
	for i := 0; i < 3; i++ {
		next <- errors.New("store does not answer")
		next = <-checks // the loop has finished with the failed check
		// Datagrams keep their order: if a ping had been sent for the
		// failed check, it would arrive before this marker.
		if err := n.Notify("MARK=" + strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, ch); got != "MARK="+strconv.Itoa(i) {
			t.Fatalf("after failed check %d the manager got %q", i, got)
		}
	}
	next <- nil
	if got := recv(t, ch); got != "WATCHDOG=1" {
		t.Fatalf("after recovery = %q", got)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil on cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestWatchdogDisabled(t *testing.T) {
	w := &Watchdog{Notifier: New(envOf(nil)), Interval: time.Millisecond, Logger: slog.Default()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
}
