package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// daemon is punchbox running as a child process, as systemd runs it.
type daemon struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	notify chan string // datagrams sent to $NOTIFY_SOCKET
	done   chan error
}

type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written != nil {
		select {
		case s.written <- struct{}{}:
		default:
		}
	}
	return s.b.Write(p)
}

// lines returns a channel signalled (coalesced) after every write.
func (s *syncBuffer) lines() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written == nil {
		s.written = make(chan struct{}, 1)
	}
	return s.written
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDaemon runs "punchbox ARGS" with a notify socket and extra
// environment. It skips the test where the test binary cannot execute itself
// (a foreign architecture under user-mode emulation, with no binfmt handler
// and no $PUNCHBOX_TEST_EMULATOR).
func startDaemon(t *testing.T, env []string, args ...string) *daemon {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{stderr: &syncBuffer{}, notify: make(chan string, 1000), done: make(chan error, 1)}
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
			d.notify <- string(buf[:n])
		}
	}()
	d.cmd = selfCommand(args...)
	d.cmd.Env = append(os.Environ(), append([]string{"PUNCHBOX_TEST_MAIN=1", "NOTIFY_SOCKET=" + sock}, env...)...)
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		conn.Close()
		if errors.Is(err, syscall.ENOEXEC) {
			t.Skipf("cannot run the test binary as a child here: %v", err)
		}
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		conn.Close()
		wg.Wait()
	})
	return d
}

// selfCommand returns a command running this test binary. Under user-mode
// emulation (make test-arm) the child runs under the same emulator, named by
// $PUNCHBOX_TEST_EMULATOR.
func selfCommand(args ...string) *exec.Cmd {
	if emu := os.Getenv("PUNCHBOX_TEST_EMULATOR"); emu != "" {
		return exec.Command(emu, append([]string{os.Args[0]}, args...)...)
	}
	return exec.Command(os.Args[0], args...)
}

// await waits for a datagram containing want, for at most a minute: long
// enough for an emulated or loaded machine, short enough to end a hung test.
func (d *daemon) await(t *testing.T, want string) string {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		select {
		case s := <-d.notify:
			if strings.Contains(s, want) {
				return s
			}
		case err := <-d.done:
			t.Fatalf("punchbox exited (%v) before sending %s; stderr:\n%s", err, want, d.stderr)
		case <-deadline:
			t.Fatalf("no %s from punchbox; stderr:\n%s", want, d.stderr)
		}
	}
}

// wait returns the exit code.
func (d *daemon) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-d.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(time.Minute):
		t.Fatalf("punchbox did not exit; stderr:\n%s", d.stderr)
		return -1
	}
}

// exampleConfig writes examples/punchbox.yaml with its data directory and
// listen address moved into the test's own space.
func exampleConfig(t *testing.T, listen string) (path, dataDir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "punchbox.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dataDir = filepath.Join(dir, "data")
	s := strings.Replace(string(b), "data_dir: /var/lib/punchbox", "data_dir: "+dataDir, 1)
	s = strings.Replace(s, `listen: ":8443"`, `listen: "`+listen+`"`, 1)
	if s == string(b) {
		t.Fatal("example config no longer has the expected data_dir and listen lines")
	}
	path = filepath.Join(dir, "punchbox.yaml")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, dataDir
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestServeLifecycle(t *testing.T) {
	addr := freePort(t)
	cfg, dataDir := exampleConfig(t, addr)
	d := startDaemon(t, []string{"WATCHDOG_USEC=200000"}, "serve", "--config", cfg)

	ready := d.await(t, "READY=1")
	if !strings.Contains(ready, "STATUS=serving https://") {
		t.Errorf("ready datagram %q lacks the status line", ready)
	}
	d.await(t, "WATCHDOG=1")
	d.await(t, "WATCHDOG=1")

	// READY means the panel answers.
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("panel after READY: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/healthz = %d", resp.StatusCode)
	}
	for _, f := range []string{"tls/key.pem", "punchbox.lock"} {
		fi, err := os.Stat(filepath.Join(dataDir, f))
		if err != nil || fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: %v, mode %v; want private", f, err, fi.Mode().Perm())
		}
	}

	// A second daemon on the same data directory is refused.
	d2 := startDaemon(t, nil, "serve", "--config", cfg)
	if code := d2.wait(t); code != exitFailure || !strings.Contains(d2.stderr.String(), "data directory is in use by process") {
		t.Errorf("second daemon: exit %d, stderr %q", code, d2.stderr)
	}

	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	d.await(t, "STOPPING=1")
	// The service enforces its own 5 s stop budget and exits 1 when a
	// component overruns it, so exit code 0 means it stopped in time.
	if code := d.wait(t); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d; stderr:\n%s", code, d.stderr)
	}
	if !strings.Contains(d.stderr.String(), "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", d.stderr)
	}
}

func TestServeListenFailure(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg, _ := exampleConfig(t, busy.Addr().String())
	d := startDaemon(t, nil, "serve", "--config", cfg)
	if code := d.wait(t); code != exitFailure {
		t.Fatalf("exit code = %d, want %d", code, exitFailure)
	}
	out := d.stderr.String()
	if n := strings.Count(out, "address already in use"); n != 1 {
		t.Errorf("the error appears %d times, want once:\n%s", n, out)
	}
	for len(d.notify) > 0 {
		if s := <-d.notify; strings.Contains(s, "READY=1") {
			t.Error("READY sent although the listener could not be bound")
		}
	}
}

func TestServeJournalLogs(t *testing.T) {
	cfg, _ := exampleConfig(t, freePort(t))
	d := startDaemon(t, []string{"JOURNAL_STREAM=8:12345"}, "serve", "--config", cfg)
	d.await(t, "READY=1")
	d.cmd.Process.Signal(syscall.SIGINT)
	if code := d.wait(t); code != 0 {
		t.Fatalf("exit code after SIGINT = %d; stderr:\n%s", code, d.stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(d.stderr.String()), "\n") {
		if strings.HasPrefix(line, "time=") {
			t.Errorf("timestamped line under the journal: %q", line)
		}
		if !strings.HasPrefix(line, "level=") {
			t.Errorf("unexpected line %q", line)
		}
	}
}
