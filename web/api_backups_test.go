package web

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// awaitJob polls the job until it ends and returns it.
func awaitJob(t *testing.T, c *client, j Job) Job {
	t.Helper()
	eventually.OK(t, func() string {
		c.do("GET", "/api/v1/jobs/"+j.ID, nil).want(t, 200).decode(t, &j)
		if j.State == JobRunning {
			return fmt.Sprintf("job %+v still running", j)
		}
		return ""
	})
	return j
}

// dbHashInBackup returns the SHA-256 of the database inside a backup.
func dbHashInBackup(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("no database in the backup: %v", err)
		}
		if hdr.Name == store.FileName {
			h := sha256.New()
			if _, err := io.Copy(h, tr); err != nil {
				t.Fatal(err)
			}
			return hex.EncodeToString(h.Sum(nil))
		}
	}
}

func TestBackupCreateListDownload(t *testing.T) {
	h := newHarness(t, func(d *Deps) { d.BackupMeta = store.BackupMeta{Version: "test", Site: "test-site", Box: "box-01"} })
	if err := h.db.Put(context.Background(), storetest.Punches(25, 5)); err != nil {
		t.Fatal(err)
	}
	a, vw := h.admin(), h.viewer()
	var j Job
	a.do("POST", "/api/v1/backups", nil).want(t, http.StatusAccepted).decode(t, &j)
	if j.Kind != "backup.create" {
		t.Errorf("job kind %q", j.Kind)
	}
	j = awaitJob(t, a, j)
	if j.State != JobDone {
		t.Fatalf("backup job %+v, want done", j)
	}
	var made BackupView
	b, _ := json.Marshal(j.Result)
	json.Unmarshal(b, &made)

	var list []BackupView
	vw.do("GET", "/api/v1/backups", nil).want(t, 200).decode(t, &list)
	if len(list) != 1 || list[0] != made {
		t.Fatalf("list = %+v, want the one made: %+v", list, made)
	}
	v := list[0]
	if !strings.HasPrefix(v.Name, "punchbox-test-site-box-01-") || !v.Scheduled || v.Punches != 25 || v.Schema != store.SchemaVersion() || len(v.SHA256) != 64 || v.Size <= 0 {
		t.Errorf("backup = %+v, want this box's name, 25 punches, the schema and a hash", v)
	}

	r := a.do("GET", "/api/v1/backups/"+v.Name+"/download", nil).want(t, 200)
	if ct := r.header.Get("Content-Type"); ct != "application/gzip" {
		t.Errorf("content type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="`+v.Name+`"` {
		t.Errorf("content disposition %q", cd)
	}
	if int64(len(r.body)) != v.Size {
		t.Errorf("downloaded %d bytes, want %d", len(r.body), v.Size)
	}
	if got := dbHashInBackup(t, r.body); got != v.SHA256 {
		t.Errorf("database in the download hashes to %s, the manifest says %s", got, v.SHA256)
	}

	// A second backup in the same second gets a name of its own.
	a.do("POST", "/api/v1/backups", nil).want(t, http.StatusAccepted).decode(t, &j)
	if j = awaitJob(t, a, j); j.State != JobDone {
		t.Fatalf("second backup %+v", j)
	}
	vw.do("GET", "/api/v1/backups", nil).want(t, 200).decode(t, &list)
	if len(list) != 2 || list[0].Name == list[1].Name {
		t.Fatalf("after a second backup: %+v", list)
	}

	vw.do("DELETE", "/api/v1/backups/"+v.Name, nil).want(t, 403)
	a.do("DELETE", "/api/v1/backups/"+v.Name, nil).want(t, http.StatusNoContent)
	a.do("GET", "/api/v1/backups/"+v.Name+"/download", nil).want(t, 404)
	vw.do("GET", "/api/v1/backups", nil).want(t, 200).decode(t, &list)
	if len(list) != 1 || list[0].Name == v.Name {
		t.Errorf("after delete: %+v", list)
	}
	assertAudit(t, h, "backup.create", "backup.download", "backup.delete")
}

// assertAudit checks that the audit log holds each action.
func assertAudit(t *testing.T, h *harness, actions ...string) {
	t.Helper()
	log, err := h.db.AuditLog(context.Background(), store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, e := range log {
		have[e.Action] = true
	}
	for _, a := range actions {
		if !have[a] {
			t.Errorf("no %s in the audit log", a)
		}
	}
}

func TestBackupNamesOutsideTheDirectory(t *testing.T) {
	h := newHarness(t)
	a := h.admin()
	if err := os.MkdirAll(h.dir+"/backups", 0o700); err != nil {
		t.Fatal(err)
	}
	// A file beside the backups, and one inside that is not named as a backup.
	os.WriteFile(h.dir+"/punchbox-x-box-20260101T000000Z.tar.gz", []byte("secret"), 0o600)
	os.WriteFile(h.dir+"/backups/notes.tar.gz", []byte("x"), 0o600)
	for _, name := range []string{
		"..", "%2e%2e", "..%2Fsecret.key", "%2E%2E%2Fpunchbox-x-box-20260101T000000Z.tar.gz",
		"notes.tar.gz", "punchbox-x-box-20260101T000000Z.tar.gz", "punchbox-..-20260101T000000Z.tar.gz",
		".punchbox-x-box-20260101T000000Z.tar.gz", "punchbox-x%2F..-20260101T000000Z.tar.gz",
	} {
		t.Run(name, func(t *testing.T) {
			a.do("GET", "/api/v1/backups/"+name+"/download", nil).want(t, 404).apiErr(t)
			a.do("DELETE", "/api/v1/backups/"+name, nil).want(t, 404).apiErr(t)
		})
	}
	if _, err := os.Stat(h.dir + "/punchbox-x-box-20260101T000000Z.tar.gz"); err != nil {
		t.Error("a file outside the backups was deleted")
	}
}

func FuzzBackupName(f *testing.F) {
	for _, s := range []string{"punchbox-a-b-20260101T000000Z.tar.gz", "punchbox-a-b-20260101T000000Z-2.tar.gz", "../x", "punchbox-/..-20260101T000000Z.tar.gz", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if !validBackupName(name) {
			return
		}
		dir := "/data/backups"
		if p := filepath.Join(dir, name); filepath.Dir(p) != dir || filepath.Base(p) != name {
			t.Errorf("valid name %q leaves the directory: %s", name, p)
		}
	})
}

// backupBytes returns a backup of a new store of n punches.
func backupBytes(t *testing.T, n int, site, box string) []byte {
	t.Helper()
	db := storetest.Open(t)
	if err := db.Put(context.Background(), storetest.Punches(n, 3)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := db.Backup(context.Background(), &buf, store.BackupMeta{Version: "test", Site: site, Box: box}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// restartRecorder is a Deps.Restart that counts its calls.
type restartRecorder struct{ n atomic.Int32 }

func (r *restartRecorder) edit(d *Deps) { d.Restart = func() { r.n.Add(1) } }

func TestRestoreUpload(t *testing.T) {
	var rr restartRecorder
	h := newHarness(t, rr.edit)
	a := h.admin()
	a.header.Set("Content-Type", "application/gzip")
	b := backupBytes(t, 12, "test-site", "box-01")
	var j Job
	a.do("POST", "/api/v1/backups/restore", b).want(t, http.StatusAccepted).decode(t, &j)
	if j = awaitJob(t, a, j); j.State != JobDone || j.Unit != "bytes" || j.Done != int64(len(b)) {
		t.Fatalf("restore job %+v, want done with all bytes verified", j)
	}
	var res RestoreResult
	raw, _ := json.Marshal(j.Result)
	json.Unmarshal(raw, &res)
	if res.Backup.Punches != 12 || !strings.Contains(res.Message, "restarts") || res.Warning != "" {
		t.Errorf("result %+v, want 12 punches, a restart and no warning", res)
	}
	eventually.OK(t, func() string {
		if rr.n.Load() != 1 {
			return fmt.Sprintf("restart called %d times, want 1", rr.n.Load())
		}
		return ""
	})
	staged, err := os.ReadFile(filepath.Join(h.dir, PendingRestoreFile))
	if err != nil || !bytes.Equal(staged, b) {
		t.Fatalf("staged restore: %v (%d bytes of %d)", err, len(staged), len(b))
	}
	assertNoLeftovers(t, h.dir)
	assertAudit(t, h, "backup.restore")
}

// assertNoLeftovers checks that no upload or extracted database is left
// in dir.
func assertNoLeftovers(t *testing.T, dir string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if strings.HasPrefix(e.Name(), uploadPrefix) || strings.HasPrefix(e.Name(), ".punchbox-") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// newerSchemaBackup is a well-formed backup whose manifest claims a schema
// this punchbox does not know.
func newerSchemaBackup(t *testing.T) []byte {
	t.Helper()
	db := []byte("SQLite format 3\x00 not really")
	sum := sha256.Sum256(db)
	m, _ := json.Marshal(store.Manifest{Format: store.BackupFormat, Created: time.Now(), Site: "test-site", Box: "box-01",
		SchemaVersion: store.SchemaVersion() + 1, Size: int64(len(db)), SHA256: hex.EncodeToString(sum[:])})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range []struct {
		name string
		b    []byte
	}{{"manifest.json", m}, {store.FileName, db}} {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Size: int64(len(e.b)), Mode: 0o600})
		tw.Write(e.b)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestRestoreUploadRefused(t *testing.T) {
	good := backupBytes(t, 5, "test-site", "box-01")
	junk := make([]byte, 4096)
	rand.Read(junk)
	// A corrupted byte in the middle of the compressed database.
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0xff
	tests := []struct {
		name string
		body []byte
		want string // in the job's error
	}{
		{"random bytes", junk, "not gzip"},
		{"truncated", good[:len(good)/2], "backup"},
		{"corrupted", flipped, "backup"},
		{"newer schema", newerSchemaBackup(t), "newer punchbox"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rr restartRecorder
			h := newHarness(t, rr.edit)
			a := h.admin()
			a.header.Set("Content-Type", "application/octet-stream")
			var j Job
			a.do("POST", "/api/v1/backups/restore", tt.body).want(t, http.StatusAccepted).decode(t, &j)
			if j = awaitJob(t, a, j); j.State != JobFailed || !strings.Contains(j.Error, tt.want) {
				t.Errorf("job %+v, want failed with %q", j, tt.want)
			}
			if _, err := os.Stat(filepath.Join(h.dir, PendingRestoreFile)); err == nil {
				t.Error("a bad backup was staged")
			}
			if rr.n.Load() != 0 {
				t.Error("restart called for a bad backup")
			}
			assertNoLeftovers(t, h.dir)
		})
	}
}

func TestRestoreUploadRequest(t *testing.T) {
	var rr restartRecorder
	h := newHarness(t, rr.edit)
	a := h.admin()
	a.header.Set("Content-Type", "text/plain")
	a.do("POST", "/api/v1/backups/restore", "hello").want(t, http.StatusUnsupportedMediaType).apiErr(t)
	a.header.Set("Content-Type", "application/gzip")
	a.do("POST", "/api/v1/backups/restore", "").want(t, 400).apiErr(t)
	assertNoLeftovers(t, h.dir)

	// Without a way to restart, the panel says to use the console.
	h2 := newHarness(t)
	a2 := h2.admin()
	a2.header.Set("Content-Type", "application/gzip")
	e := a2.do("POST", "/api/v1/backups/restore", backupBytes(t, 1, "s", "b")).want(t, 503).apiErr(t)
	if !strings.Contains(e.Message, "punchbox restore") {
		t.Errorf("message %q, want a pointer to punchbox restore", e.Message)
	}
}
