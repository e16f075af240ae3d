package web

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbox/punchbox/internal/eventually"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// start binds and runs a server on a free loopback port and stops it when the
// test ends, checking that Run returned nil.
func start(t *testing.T, opts Options, h http.Handler) *Server {
	t.Helper()
	opts.Listen = "127.0.0.1:0"
	s := New(opts, h, quiet())
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil after cancel", err)
			}
		case <-time.After(ShutdownBudget + 2*time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return s
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServerHTTPS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	s := start(t, Options{CertDir: dir}, healthHandler(nil))
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL = %s", s.URL())
	}
	// Trust exactly the generated certificate, as an admin who pinned it would.
	cert, _, err := LoadOrCreateCert(dir, Names{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
	if code, body := get(t, c, s.URL()+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, _ := get(t, c, s.URL()+"/nothing-here"); code != 404 {
		t.Errorf("unknown path = %d, want 404", code)
	}
	// A client that does not trust the certificate is refused.
	if _, err := (&http.Client{Timeout: 5 * time.Second}).Get(s.URL() + "/healthz"); err == nil {
		t.Error("an untrusting client completed a TLS handshake")
	}
	// Plain HTTP to the TLS port is redirected to HTTPS, same host and path.
	noFollow := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(strings.Replace(s.URL(), "https", "http", 1) + "/healthz?x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := s.URL() + "/healthz?x=1"; resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != want {
		t.Errorf("plain HTTP = %d to %q, want 307 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}

// A connection that never speaks holds up neither the connections after it
// nor the shutdown (start's cleanup checks Run returns in time).
func TestServerSilentConnection(t *testing.T) {
	s := start(t, Options{CertDir: t.TempDir()}, healthHandler(nil))
	silent, err := net.Dial("tcp", strings.TrimPrefix(s.URL(), "https://"))
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 5 * time.Second}
	if code, _ := get(t, c, s.URL()+"/healthz"); code != 200 {
		t.Fatalf("/healthz beside a silent connection = %d", code)
	}
}

// healthHandler serves /healthz like the panel: ok, or 503 with no details.
func healthHandler(healthy HealthFunc) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if healthy != nil && healthy(r.Context()) != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("unhealthy\n"))
			return
		}
		w.Write([]byte("ok\n"))
	})
	return mux
}

func TestServerHealth(t *testing.T) {
	var sick atomic.Bool
	s := start(t, Options{InsecureHTTP: true}, healthHandler(func(context.Context) error {
		if sick.Load() {
			return errors.New("disk full at /var/lib/punchbox")
		}
		return nil
	}))
	c := &http.Client{Timeout: 5 * time.Second}
	if code, _ := get(t, c, s.URL()+"/healthz"); code != 200 {
		t.Fatalf("healthy = %d", code)
	}
	if err := s.Healthy(context.Background()); err != nil {
		t.Fatalf("Healthy while serving = %v", err)
	}
	sick.Store(true)
	code, body := get(t, c, s.URL()+"/healthz")
	if code != 503 || strings.Contains(body, "disk") {
		t.Fatalf("unhealthy = %d %q: want 503 with no details", code, body)
	}
}

func TestServerListenError(t *testing.T) {
	s := New(Options{Listen: "127.0.0.1:99999", InsecureHTTP: true}, healthHandler(nil), quiet())
	if err := s.Listen(); err == nil || !strings.Contains(err.Error(), "listen 127.0.0.1:99999") {
		t.Fatalf("Listen = %v", err)
	}
	if err := s.Run(context.Background()); err == nil {
		t.Fatal("Run without Listen succeeded")
	}
}

func TestServerShutdownWaitsForRequests(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		w.Write([]byte("done"))
	})
	s := New(Options{Listen: "127.0.0.1:0", InsecureHTTP: true}, h, quiet())
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(s.URL() + "/")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-entered
	cancel()
	// Shutdown closes the listener first, then waits for the request in
	// flight: once a new connection is refused, it is waiting.
	addr := strings.TrimPrefix(s.URL(), "http://")
	eventually.True(t, "shutdown closes the listener", func() bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	select {
	case body := <-got:
		t.Fatalf("the request in flight was answered %q before it was released", body)
	default:
	}
	close(release)
	if body := <-got; body != "done" {
		t.Errorf("request in flight at shutdown got %q, want it completed", body)
	}
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}
