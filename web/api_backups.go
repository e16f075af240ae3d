package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/store"
)

// restoreBodyLimit bounds an uploaded backup: far beyond a box's store.
const restoreBodyLimit = 4 << 30

// backupRoutes serves backups: create, list, download, restore.
func (p *Panel) backupRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/backups", access: viewer, tag: "backups", summary: "The backups kept on the box, newest first", out: []BackupView{}, h: p.listBackups},
		{method: "POST", path: "/api/v1/backups", access: admin, tag: "backups", summary: "Take a backup now, as a job", out: Job{}, status: http.StatusAccepted, h: p.createBackup},
		{method: "GET", path: "/api/v1/backups/:name/download", access: admin, tag: "backups", summary: "Download a backup", outMime: "application/gzip", h: p.downloadBackup},
		{method: "DELETE", path: "/api/v1/backups/:name", access: admin, tag: "backups", summary: "Delete a backup", status: http.StatusNoContent, h: p.deleteBackup},
		{method: "POST", path: "/api/v1/backups/restore", access: admin, tag: "backups",
			summary: "Upload a backup to restore: verified as a job, then the box restarts into it",
			mime:    "application/gzip", limit: restoreBodyLimit, out: Job{}, status: http.StatusAccepted, h: p.restoreBackup},
	}
}

// BackupView is a backup kept on the box.
type BackupView struct {
	Name    string    `json:"name"`
	Size    int64     `json:"size"` // bytes of the file
	Created time.Time `json:"created"`
	Site    string    `json:"site,omitempty"`
	Box     string    `json:"box,omitempty"`
	Version string    `json:"version,omitempty"` // of the punchbox that took it
	Punches int64     `json:"punches"`
	Schema  int       `json:"schema"`
	SHA256  string    `json:"sha256,omitempty"` // of the database inside
	// Scheduled says the name follows the scheduler's pattern for this
	// box, punchbox-<site>-<box>-<UTC time>.tar.gz, so that rotation
	// (backup.keep) counts it.
	Scheduled bool   `json:"scheduled"`
	Error     string `json:"error,omitempty"` // why its manifest cannot be read
}

// RestoreResult is what a verified restore upload says.
type RestoreResult struct {
	Backup  BackupView `json:"backup"`
	Message string     `json:"message"`
	Warning string     `json:"warning,omitempty"` // e.g. the backup is of another box
}

// backupNameRE is a backup's file name as the box writes it: the
// scheduler's, with a counter when two are taken in the same second.
var backupNameRE = regexp.MustCompile(`^punchbox-[A-Za-z0-9._-]{1,200}-[0-9]{8}T[0-9]{6}Z(-[0-9]{1,3})?\.tar\.gz$`)

// validBackupName reports whether name is a backup's file name and nothing
// else: no directories, no tricks.
func validBackupName(name string) bool {
	return backupNameRE.MatchString(name) && filepath.Base(name) == name && !strings.Contains(name, "..")
}

// backupDir returns the backup directory, or ErrUnavailable when the box
// keeps none.
func (p *Panel) backupDir() (string, error) {
	if p.d.Backups == "" {
		return "", fmt.Errorf("%w: this box keeps no backups", ErrUnavailable)
	}
	return p.d.Backups, nil
}

func (p *Panel) backupView(b store.BackupFile) BackupView {
	name := filepath.Base(b.Path)
	v := BackupView{Name: name, Size: b.Size, Created: b.ModTime.UTC(),
		Scheduled: strings.HasPrefix(name, store.BackupNamePrefix(p.d.Site, p.d.Box))}
	if b.Err != nil {
		v.Error = b.Err.Error()
		return v
	}
	m := b.Manifest
	v.Created, v.Site, v.Box, v.Version = m.Created.UTC(), m.Site, m.Box, m.Punchbox
	v.Punches, v.Schema, v.SHA256 = m.Punches, m.SchemaVersion, m.SHA256
	return v
}

// backupViews lists the backups kept on the box, newest first.
func (p *Panel) backupViews() ([]BackupView, error) {
	out := []BackupView{}
	if p.d.Backups == "" {
		return out, nil
	}
	list, err := store.ListBackups(p.d.Backups)
	if err != nil {
		return nil, err
	}
	for _, b := range list {
		if validBackupName(filepath.Base(b.Path)) {
			out = append(out, p.backupView(b))
		}
	}
	return out, nil
}

func (p *Panel) listBackups(c *gin.Context) {
	vs, err := p.backupViews()
	if err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, vs)
}

func (p *Panel) createBackup(c *gin.Context) {
	dir, err := p.backupDir()
	if err != nil {
		p.fail(c, err)
		return
	}
	p.audit(c, "backup.create", dir, "")
	p.startJob(c, "backup.create", "", func(ctx context.Context, pg *Progress) (any, error) {
		pg.Set(0, 2, "snapshotting and compressing the store")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("backup dir: %w", err)
		}
		path, err := freeBackupPath(dir, p.d.BackupMeta, p.d.Now())
		if err != nil {
			return nil, err
		}
		if _, err := p.d.Store.BackupFile(ctx, path, p.d.BackupMeta); err != nil {
			return nil, err
		}
		pg.Set(1, 2, "reading the backup back")
		fi, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		m, err := store.ReadManifest(path)
		v := p.backupView(store.BackupFile{Path: path, Manifest: m, Size: fi.Size(), ModTime: fi.ModTime(), Err: err})
		pg.Set(2, 2, "backup taken: "+v.Name)
		return v, nil
	})
}

// freeBackupPath returns a path for a new backup in dir named as the
// scheduler names them, with a counter when that name is taken.
func freeBackupPath(dir string, meta store.BackupMeta, now time.Time) (string, error) {
	name := store.BackupName(meta.Site, meta.Box, now)
	path := filepath.Join(dir, name)
	for i := 2; i < 100; i++ {
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		path = filepath.Join(dir, strings.TrimSuffix(name, ".tar.gz")+"-"+strconv.Itoa(i)+".tar.gz")
	}
	return "", fmt.Errorf("%w: too many backups named %s", store.ErrConflict, name)
}

// backupPath returns the path of the backup named by the request, or
// ErrNotFound for any name that is not a backup's.
func (p *Panel) backupPath(c *gin.Context) (string, error) {
	name := c.Param("name")
	dir, err := p.backupDir()
	if err != nil {
		return "", err
	}
	if !validBackupName(name) {
		return "", fmt.Errorf("backup: %w", ErrNotFound)
	}
	path := filepath.Join(dir, name)
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("backup %q: %w", name, ErrNotFound)
	}
	return path, nil
}

func (p *Panel) downloadBackup(c *gin.Context) {
	path, err := p.backupPath(c)
	if err != nil {
		p.fail(c, err)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		p.fail(c, fmt.Errorf("backup: %w", ErrNotFound))
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		p.fail(c, err)
		return
	}
	name := filepath.Base(path)
	p.audit(c, "backup.download", name, "")
	c.Header("Content-Type", "application/gzip")
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Header("Content-Length", strconv.FormatInt(fi.Size(), 10))
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	if _, err := io.Copy(c.Writer, f); err != nil {
		p.log.Warn("backup download stopped", "backup", name, "err", err)
		panic(http.ErrAbortHandler)
	}
}

func (p *Panel) deleteBackup(c *gin.Context) {
	path, err := p.backupPath(c)
	if err != nil {
		p.fail(c, err)
		return
	}
	if err := os.Remove(path); err != nil {
		p.fail(c, err)
		return
	}
	p.audit(c, "backup.delete", filepath.Base(path), "")
	c.Status(http.StatusNoContent)
}
