package web

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// dialRaw opens a TLS connection to the server at url from a socket with a
// small receive buffer, so that a client that stops reading soon stops the
// server's writes.
func dialRaw(t *testing.T, url string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	addr := strings.TrimPrefix(strings.TrimPrefix(url, "https://"), "http://")
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if strings.HasPrefix(url, "http://") {
		return conn
	}
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	return tc
}

// walSize returns the size of the store's write-ahead log.
func walSize(t *testing.T, db *store.DB) int64 {
	t.Helper()
	fi, err := os.Stat(db.Path() + "-wal")
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// checkpoint runs a truncating checkpoint of the store from a connection of
// its own and reports whether a reader kept it from completing.
func checkpoint(t *testing.T, db *store.DB) (busy bool) {
	t.Helper()
	raw, err := sql.Open("sqlite", db.Path()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var b, frames, done int
	if err := raw.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&b, &frames, &done); err != nil {
		t.Fatal(err)
	}
	return b != 0
}

// seedFatPunches stores n punches whose export rows are as long as the
// store allows (about 450 bytes), so that an export outgrows the kernel's
// buffers (at most 4 MiB a connection on Linux) in few rows.
func seedFatPunches(t *testing.T, h *harness, n int) {
	t.Helper()
	ctx := context.Background()
	term, serial := strings.Repeat("t", 63), strings.Repeat("S", punchbox.MaxIdentLen)
	pins := make([]string, 20)
	for i := range pins {
		pins[i] = fmt.Sprintf("%024d", i) // the longest PIN a terminal keeps
		if err := h.db.PutEmployee(ctx, punchbox.Employee{PIN: pins[i], Name: strings.Repeat("N", store.MaxEmployeeNameLen)}); err != nil {
			t.Fatal(err)
		}
	}
	ps := make([]punchbox.Punch, n)
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for i := range ps {
		local := punchbox.LocalTimeOf(start.Add(time.Duration(i) * time.Minute))
		ps[i] = punchbox.NewPunch(term, serial, pins[i%len(pins)], local, time.UTC, punchbox.StateCheckIn,
			punchbox.VerifyFingerprint, strings.Repeat("w", punchbox.MaxIdentLen), punchbox.SourcePull, time.Now())
	}
	if err := h.db.Put(ctx, ps); err != nil {
		t.Fatal(err)
	}
}

// exportRows is the size of the exports that stall: about 8 MB of CSV.
const exportRows = 16_000

// A client that reads 200 bytes of a big CSV export and stops is cut once
// a write has blocked for the bound; the export ends, and with it its read
// snapshot, so the WAL written meanwhile can be checkpointed away. A slow
// reader that keeps reading gets the whole export, though it takes longer
// than the bound: the bound is on one write, and each write that completes
// starts it again.
func TestExportStall(t *testing.T) {
	h := newHarness(t)
	seedFatPunches(t, h, exportRows)
	token := h.tokenClient("export", store.RoleViewer)
	request := "GET /api/v1/punches.csv HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token.bearer + "\r\nConnection: close\r\n\r\n"

	t.Run("StalledReaderIsCut", func(t *testing.T) {
		srv := start(t, Options{CertDir: t.TempDir(), WriteIdle: 200 * time.Millisecond}, h.p.Handler())
		conn := dialRaw(t, srv.URL())
		io.WriteString(conn, request)
		head := make([]byte, 200)
		if _, err := io.ReadFull(conn, head); err != nil || !bytes.HasPrefix(head, []byte("HTTP/1.1 200")) {
			t.Fatalf("first 200 bytes %q, %v", head, err)
		}
		// The client reads no more. The box goes on writing meanwhile.
		for i := range 200 {
			if err := h.db.Audit(context.Background(), store.AuditEntry{Actor: "test", Action: "write", Detail: strings.Repeat("x", 1000) + fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
		eventually.True(t, "the stalled export ends", func() bool { return strings.Contains(h.log.String(), "punch export stopped") })
		if checkpoint(t, h.db) {
			t.Error("a checkpoint is still blocked by a reader after the stalled export ended")
		}
		if n := walSize(t, h.db); n != 0 {
			t.Errorf("WAL of %d bytes after the checkpoint, want 0", n)
		}
		rest, _ := io.ReadAll(conn)
		if bytes.HasSuffix(rest, []byte("\r\n0\r\n\r\n")) {
			t.Error("the cut export ends like a complete one")
		}
	})

	t.Run("SlowReaderGetsAll", func(t *testing.T) {
		const idle = 3 * time.Second
		srv := start(t, Options{CertDir: t.TempDir(), WriteIdle: idle}, h.p.Handler())
		conn := dialRaw(t, srv.URL())
		io.WriteString(conn, request)
		// 512 bytes a read, and a pause of a tenth of the bound every
		// fifteenth of the rows: the pauses alone add up to more than the
		// bound.
		var got bytes.Buffer
		buf := make([]byte, 512)
		lines, next := 0, exportRows/15
		for {
			n, err := conn.Read(buf)
			got.Write(buf[:n])
			lines += bytes.Count(buf[:n], []byte("\n"))
			if err != nil {
				break
			}
			if lines >= next {
				time.Sleep(idle / 10)
				next += exportRows / 15
			}
		}
		resp, err := http.ReadResponse(bufio.NewReader(&got), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("the slow reader's export is cut after %d bytes: %v", len(body), err)
		}
		if lines := bytes.Count(body, []byte("\n")); resp.StatusCode != 200 || lines != exportRows+1 {
			t.Errorf("export %d with %d lines, want 200 with %d", resp.StatusCode, lines, exportRows+1)
		}
	})
}

// trickle writes b to conn a byte at a time, a pause between, until all
// is written or the connection fails; the test waits for it.
func trickle(t *testing.T, conn net.Conn, b []byte, pause time.Duration) {
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range b {
			if _, err := conn.Write(b[i : i+1]); err != nil {
				return
			}
			time.Sleep(pause)
		}
	})
	t.Cleanup(func() { conn.Close(); wg.Wait() })
}

// Bodies trickled in slowly, from many connections at once, are cut after
// the bound with 408, before anything is done with them; so are headers.
func TestTrickledRequestsAreCut(t *testing.T) {
	h := newHarness(t)
	h.admin()
	srv := start(t, Options{CertDir: t.TempDir(), HeaderTimeout: 300 * time.Millisecond, BodyGrace: 300 * time.Millisecond, BodyRate: 1 << 10}, h.p.Handler())
	const conns = 20
	type answer struct {
		status int
		body   string
		err    error
	}
	answers := make(chan answer, conns)
	login := `{"name": "admin", "password": "` + testPassword + `"}`
	for range conns {
		conn := dialRaw(t, srv.URL())
		fmt.Fprintf(conn, "POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(login))
		trickle(t, conn, []byte(login), 100*time.Millisecond)
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				answers <- answer{err: err}
				return
			}
			b, _ := io.ReadAll(resp.Body)
			answers <- answer{status: resp.StatusCode, body: string(b)}
		}()
	}
	for range conns {
		a := eventually.Recv(t, "the answer to a trickled body", answers)
		if a.err != nil || a.status != http.StatusRequestTimeout || !strings.Contains(a.body, `"too_slow"`) {
			t.Errorf("trickled body: %d %s %v, want 408 too_slow", a.status, a.body, a.err)
		}
	}
	if entries, _ := h.db.AuditLog(context.Background(), store.AuditFilter{Action: "login"}); len(entries) != 1 {
		t.Errorf("%d logins in the audit log, want only the harness's own", len(entries))
	}

	// Headers: the connection is closed without an answer.
	conn := dialRaw(t, srv.URL())
	trickle(t, conn, []byte("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "+strings.Repeat("x", 100)+"\r\n\r\n"), 50*time.Millisecond)
	closed := make(chan error, 1)
	go func() { _, err := io.ReadAll(conn); closed <- err }()
	eventually.Recv(t, "the trickled headers' connection closes", closed)
}

// An honest client on a slow link uploads a backup for restore at well
// above the minimum rate, for longer than the grace: it is received whole.
func TestSlowUploadIsReceived(t *testing.T) {
	var rr restartRecorder
	h := newHarness(t, rr.edit)
	token := h.tokenClient("restore", store.RoleAdmin)
	b := backupBytes(t, 2000, "test-site", "box-01")
	// 20 parts, a tenth of the grace apart: twice the grace in all, at a
	// hundred times the minimum rate.
	const grace = 500 * time.Millisecond
	part, pause := max(len(b)/20, 1), grace/10
	rate := int64(float64(part) / pause.Seconds())
	srv := start(t, Options{CertDir: t.TempDir(), BodyGrace: grace, BodyRate: max(rate/100, 1)}, h.p.Handler())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	req, err := http.NewRequest("POST", srv.URL()+"/api/v1/backups/restore", &pacedReader{b: b, part: part, pause: pause})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(b))
	req.Header.Set("Content-Type", "application/gzip")
	req.Header.Set("Authorization", "Bearer "+token.bearer)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("slow upload: %d %s", resp.StatusCode, body)
	}
}

// pacedReader reads b a part at a time, pausing before each part after
// the first.
type pacedReader struct {
	b     []byte
	part  int
	pause time.Duration
	n     int
}

func (r *pacedReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if r.n > 0 {
		time.Sleep(r.pause)
	}
	r.n++
	n := copy(p[:min(len(p), r.part)], r.b)
	r.b = r.b[n:]
	return n, nil
}

// The live feed's WebSocket takes its connection over from the stall
// guard: no deadline of the guard's is left on it.
func TestLiveFeedThroughGuard(t *testing.T) {
	h := newHarness(t)
	token := h.tokenClient("feed", store.RoleViewer)
	srv := start(t, Options{CertDir: t.TempDir(), WriteIdle: time.Millisecond, BodyGrace: time.Millisecond}, h.p.Handler())
	d := websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	conn, resp, err := d.Dial(strings.Replace(srv.URL(), "https", "wss", 1)+"/api/v1/live", http.Header{"Authorization": {"Bearer " + token.bearer}})
	if err != nil {
		t.Fatalf("dial the live feed: %v (%+v)", err, resp)
	}
	defer conn.Close()
	eventually.True(t, "the feed has its client", h.p.live.listening)
	for i := range 3 {
		if err := h.db.Put(context.Background(), []punchbox.Punch{storetest.Punch("7", i)}); err != nil {
			t.Fatal(err)
		}
		var m LiveMessage
		if err := conn.ReadJSON(&m); err != nil || m.Type != "punch" {
			t.Fatalf("message %d: %+v, %v; want a punch", i, m, err)
		}
	}
}
