// Package brokertest runs a real MQTT broker for tests: an embedded one
// (mochi-mqtt, in-process) by default, or a real mosquitto process when
// $PUNCHBOX_TEST_BROKER names its binary (e.g. "mosquitto"), as CI does.
// Either can be stopped and started again on the same port, to test what
// the box does when its broker goes away.
package brokertest

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/punchbox/punchbox/internal/eventually"
)

// Broker is a broker on a loopback port.
type Broker struct {
	tb   testing.TB
	addr string
	Kind string // "embedded" or "mosquitto"

	mu    sync.Mutex
	mochi *mochi.Server
	proc  *exec.Cmd
	log   *syncBuffer
}

// Start starts a broker for the test; it stops when the test ends.
func Start(tb testing.TB) *Broker {
	tb.Helper()
	b := &Broker{tb: tb, addr: freePort(tb), Kind: "embedded"}
	if os.Getenv("PUNCHBOX_TEST_BROKER") != "" {
		b.Kind = "mosquitto"
	}
	b.Restart()
	tb.Cleanup(b.Stop)
	return b
}

// URL returns the broker's address as tcp://host:port.
func (b *Broker) URL() string { return "tcp://" + b.addr }

// Addr returns host:port.
func (b *Broker) Addr() string { return b.addr }

// Stop stops the broker, dropping every connection. Retained messages are
// lost (neither broker persists in tests).
func (b *Broker) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mochi != nil {
		b.mochi.Close()
		b.mochi = nil
	}
	if b.proc != nil {
		b.proc.Process.Kill()
		b.proc.Wait()
		b.proc = nil
	}
}

// Restart starts the broker (again) on the same port.
func (b *Broker) Restart() {
	b.tb.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mochi != nil || b.proc != nil {
		return
	}
	if b.Kind == "mosquitto" {
		b.startMosquitto()
	} else {
		b.startMochi()
	}
	// Wait until it accepts connections.
	eventually.OK(b.tb, func() string {
		c, err := net.DialTimeout("tcp", b.addr, time.Second)
		if err != nil {
			return fmt.Sprintf("broker on %s did not start: %v\n%s", b.addr, err, b.logText())
		}
		c.Close()
		return ""
	})
}

func (b *Broker) startMochi() {
	s := mochi.New(&mochi.Options{InlineClient: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := s.AddHook(new(auth.AllowHook), nil); err != nil {
		b.tb.Fatal(err)
	}
	if err := s.AddListener(listeners.NewTCP(listeners.Config{ID: "t", Address: b.addr})); err != nil {
		b.tb.Fatal(err)
	}
	if err := s.Serve(); err != nil {
		b.tb.Fatalf("embedded broker: %v", err)
	}
	b.mochi = s
}

func (b *Broker) startMosquitto() {
	bin := os.Getenv("PUNCHBOX_TEST_BROKER")
	host, port, _ := net.SplitHostPort(b.addr)
	dir := b.tb.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	body := fmt.Sprintf("listener %s %s\nallow_anonymous true\npersistence false\nmax_inflight_messages 0\nmax_queued_messages 100000\nmessage_size_limit 0\n", port, host)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		b.tb.Fatal(err)
	}
	b.log = &syncBuffer{}
	cmd := exec.Command(bin, "-c", conf)
	cmd.Stdout, cmd.Stderr = b.log, b.log
	if err := cmd.Start(); err != nil {
		b.tb.Fatalf("start %s: %v", bin, err)
	}
	b.proc = cmd
}

func (b *Broker) logText() string {
	if b.log == nil {
		return ""
	}
	return b.log.String()
}

// syncBuffer is mosquitto's output: written by the process's copier,
// read by a test that reports a failure.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func freePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
