package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbox/punchbox/drivers"
	_ "github.com/punchbox/punchbox/drivers/zkpull" // kind "zk"
	"github.com/punchbox/punchbox/drivers/zksim"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// harness runs a whole panel for a test: a real store in a temporary
// directory, the real supervisor, the panel's Run, and an HTTPS test server
// on a loopback socket.
type harness struct {
	t   testing.TB
	dir string
	db  *store.DB
	sup *drivers.Supervisor
	p   *Panel
	srv *httptest.Server
	log *logBuffer

	restarts atomic.Int32 // calls of Deps.Restart, where a test sets it to count them
}

// testPassword is every test user's password.
const testPassword = "correct horse battery"

// newHarness starts a panel; edit may change its Deps first.
func newHarness(t testing.TB, edit ...func(*Deps)) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), db: storetest.Open(t), log: &logBuffer{}}
	logger := slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(io.MultiWriter(h.log, os.Stderr), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	h.sup = drivers.NewSupervisor(drivers.Deps{Sink: h.db, State: h.db, Logger: logger}, logger)
	secret, _, err := LoadOrCreateSecret(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	d := Deps{
		Store: h.db, Terminals: h.sup, Secret: secret, DataDir: h.dir,
		Site: "test-site", Box: "box-01", Version: "test", Zone: time.UTC,
		Backups: h.dir + "/backups", Logger: logger,
	}
	for _, e := range edit {
		e(&d)
	}
	h.p = NewPanel(d)
	if err := h.p.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := h.sup.Run(ctx); err != nil {
			t.Errorf("supervisor: %v", err)
		}
	})
	wg.Go(func() {
		if err := h.p.Run(ctx); err != nil {
			t.Errorf("panel: %v", err)
		}
	})
	if d.Insecure {
		h.srv = httptest.NewServer(h.p.Handler())
	} else {
		h.srv = httptest.NewTLSServer(h.p.Handler())
	}
	t.Cleanup(func() {
		h.srv.CloseClientConnections()
		cancel()
		wg.Wait()
		h.srv.Close()
	})
	return h
}

// client is a browser or a script talking to the panel.
type client struct {
	h      *harness
	hc     *http.Client
	csrf   string // sent as X-CSRF-Token on changes
	bearer string // sent as Authorization: Bearer
	header http.Header
}

// anon returns a client that is not signed in, with its own cookie jar.
func (h *harness) anon() *client {
	jar, _ := cookiejar.New(nil)
	hc := h.srv.Client()
	hc = &http.Client{Transport: hc.Transport, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &client{h: h, hc: hc, header: http.Header{}}
}

// from returns a client that is not signed in and connects from the
// loopback address ip (127.0.0.2, …), as another machine on the LAN would.
func (h *harness) from(ip string) *client {
	h.t.Helper()
	c := h.anon()
	tr := h.srv.Client().Transport.(*http.Transport).Clone()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr.DialContext = d.DialContext
	c.hc.Transport = tr
	h.t.Cleanup(tr.CloseIdleConnections)
	return c
}

// user creates a user with role and returns a client signed in as them.
func (h *harness) user(name string, role store.Role) *client {
	h.t.Helper()
	if _, err := h.db.CreateUser(context.Background(), name, role, testPassword); err != nil {
		h.t.Fatal(err)
	}
	c := h.anon()
	c.login(name, testPassword)
	return c
}

// admin returns a client signed in as a new admin "admin".
func (h *harness) admin() *client { return h.user("admin", store.RoleAdmin) }

// viewer returns a client signed in as a new viewer "viewer".
func (h *harness) viewer() *client { return h.user("viewer", store.RoleViewer) }

// tokenClient creates an API token with role, owned by a user of that
// role, and returns a client using it.
func (h *harness) tokenClient(name string, role store.Role) *client {
	h.t.Helper()
	secret, _, err := h.db.CreateToken(context.Background(), name, role, h.scriptUser(role).ID, "")
	if err != nil {
		h.t.Fatal(err)
	}
	c := h.anon()
	c.bearer = secret
	return c
}

// scriptUser returns the user, made on first use, who owns the test's
// tokens of role: "scripts-viewer" or "scripts-admin".
func (h *harness) scriptUser(role store.Role) store.User {
	h.t.Helper()
	ctx := context.Background()
	name := "scripts-" + string(role)
	if u, err := h.db.UserByName(ctx, name); err == nil {
		return u
	}
	u, err := h.db.CreateUser(ctx, name, role, testPassword)
	if err != nil {
		h.t.Fatal(err)
	}
	return u
}

// login signs in and keeps the CSRF token.
func (c *client) login(name, password string) {
	c.h.t.Helper()
	r := c.do("POST", "/api/v1/login", LoginRequest{Name: name, Password: password})
	if r.code != http.StatusOK {
		c.h.t.Fatalf("login %s: %d %s", name, r.code, r.body)
	}
	var s SessionInfo
	r.decode(c.h.t, &s)
	c.csrf = s.CSRFToken
}

// response is an answer, read whole.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// decode decodes the JSON body into v.
func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// apiErr returns the body's error; it fails the test if the body is not in
// the API's error shape.
func (r *response) apiErr(t testing.TB) ErrorBody {
	t.Helper()
	var e APIError
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("want the API's error shape, got %d %s (%v)", r.code, r.body, err)
	}
	return e.Error
}

// do sends a request. A body that is a string or []byte is sent as is
// with the content type in c.header (JSON when unset); anything else is
// encoded as JSON.
func (c *client) do(method, path string, body any) *response {
	c.h.t.Helper()
	r, err := c.send(method, path, body)
	if err != nil {
		c.h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// send is do for goroutines other than the test's: it returns what went
// wrong instead of ending the test.
func (c *client) send(method, path string, body any) (*response, error) {
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, c.h.srv.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.csrf != "" && !safeMethod(method) {
		req.Header.Set(csrfHeader, c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return &response{code: resp.StatusCode, header: resp.Header, body: b}, nil
}

// want checks the status of a response and returns it.
func (r *response) want(t testing.TB, code int) *response {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d: %s", r.code, code, r.body)
	}
	return r
}

// sim starts a simulated ZK terminal on a loopback port with users and
// records; it stops when the test ends.
func (h *harness) sim(cfg zksim.Config, users, records int) *zksim.Sim {
	h.t.Helper()
	sim := zksim.New(cfg)
	u := zksim.GenerateUsers(users)
	sim.SetUsers(u)
	sim.AddRecords(zksim.GenerateRecords(u, records, time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC), 1)...)
	if err := sim.Listen("127.0.0.1:0"); err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx) }()
	h.t.Cleanup(func() { cancel(); <-done })
	return sim
}

// logBuffer collects the panel's log for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
