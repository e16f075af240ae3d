package web

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/internal/sysinfo"
	"github.com/punchbox/punchbox/store"
)

// A restore from the panel: the upload is streamed to a temporary file in
// the data directory, verified whole as a job, staged as
// PendingRestoreFile, and the box restarts in-process, restoring it before
// the store reopens. A backup that fails verification leaves nothing.

// uploadPrefix starts the names of uploads in the data directory.
const uploadPrefix = ".restore-upload-"

// errNoSpace is an upload the data directory's disk cannot hold.
var errNoSpace = &statusError{http.StatusInsufficientStorage, "insufficient_storage", ""}

// restoreTypes are the content types a backup upload may have.
var restoreTypes = map[string]bool{"application/gzip": true, "application/x-gzip": true, "application/octet-stream": true}

func (p *Panel) restoreBackup(c *gin.Context) {
	if p.d.Restart == nil {
		p.fail(c, fmt.Errorf("%w: this box cannot restart itself from the panel; copy the backup to the box and run `punchbox restore FILE` on its console", ErrUnavailable))
		return
	}
	if ct := c.ContentType(); !restoreTypes[ct] {
		p.fail(c, fmt.Errorf("%w: %q: send the backup file as application/gzip", ErrMediaType, ct))
		return
	}
	if n := c.Request.ContentLength; n > 0 {
		if d := sysinfo.ReadDisk(p.d.DataDir); d.Known && uint64(n) > d.Free {
			p.fail(c, &statusError{errNoSpace.status, errNoSpace.code,
				fmt.Sprintf("the upload is %s but the data directory's disk has %s free", sizeString(n), sizeString(int64(d.Free)))})
			return
		}
	}
	path, size, err := p.receiveUpload(c)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.audit(c, "backup.restore", "upload", fmt.Sprintf("%d bytes uploaded for restore", size))
	j, err := p.jobs.start("backup.restore", "", who(c).name(), func(ctx context.Context, pg *Progress) (any, error) {
		res, err := p.verifyUpload(ctx, pg, path, size)
		if err != nil {
			os.Remove(path)
			p.log.Warn("uploaded backup refused", "err", err)
			return nil, err
		}
		pg.Then(p.d.Restart)
		return res, nil
	})
	if err != nil {
		os.Remove(path)
		p.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/jobs/"+j.ID)
	c.JSON(http.StatusAccepted, j)
}

// receiveUpload streams the request's body into a new temporary file in
// the data directory and returns its path and size. On failure nothing is
// left.
func (p *Panel) receiveUpload(c *gin.Context) (string, int64, error) {
	f, err := os.CreateTemp(p.d.DataDir, uploadPrefix+"*.tar.gz")
	if err != nil {
		return "", 0, fmt.Errorf("receive upload: %w", err)
	}
	path := f.Name()
	n, err := io.Copy(f, c.Request.Body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		os.Remove(path)
		if berr := bodyError(err); errors.Is(berr, ErrTooLarge) || errors.Is(berr, ErrTooSlow) {
			return "", 0, berr
		}
		if errors.Is(err, syscall.ENOSPC) {
			return "", 0, &statusError{errNoSpace.status, errNoSpace.code, "the data directory's disk is full: the upload does not fit"}
		}
		return "", 0, fmt.Errorf("receive upload: %w", err)
	case n == 0:
		os.Remove(path)
		return "", 0, badField("", "empty body: send the backup file")
	}
	return path, n, nil
}

// verifyUpload checks the whole backup at path, reporting progress in
// bytes, and stages it for the restart.
func (p *Panel) verifyUpload(ctx context.Context, pg *Progress, path string, size int64) (RestoreResult, error) {
	pg.SetUnit("bytes")
	pg.Set(0, size, "verifying the backup")
	f, err := os.Open(path)
	if err != nil {
		return RestoreResult{}, err
	}
	defer f.Close()
	cr := &countingReader{r: f}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // reports progress while the check reads
		defer close(done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				pg.Set(cr.n.Load(), size, "verifying the backup")
			}
		}
	}()
	m, db, err := store.VerifyBackup(ctx, bufio.NewReaderSize(cr, 1<<16), p.d.DataDir)
	close(stop)
	<-done
	if err != nil {
		if errors.Is(err, store.ErrNewerSchema) {
			return RestoreResult{}, &statusError{http.StatusBadRequest, "invalid", err.Error()}
		}
		return RestoreResult{}, err
	}
	os.Remove(db) // verified; the restore at start extracts it again
	pg.Set(size, size, "verified; staging the restore")
	staged := filepath.Join(p.d.DataDir, PendingRestoreFile)
	if err := os.Rename(path, staged); err != nil {
		return RestoreResult{}, fmt.Errorf("stage restore: %w", err)
	}
	if err := syncDir(p.d.DataDir); err != nil {
		os.Remove(staged)
		return RestoreResult{}, fmt.Errorf("stage restore: %w", err)
	}
	fi, _ := os.Stat(staged)
	res := RestoreResult{
		Backup:  p.backupView(store.BackupFile{Path: staged, Manifest: m, Size: fi.Size(), ModTime: fi.ModTime()}),
		Message: "the backup is verified; the box restarts now and restores it before it opens its store",
	}
	res.Backup.Name, res.Backup.Scheduled = "", false
	if m.Site != p.d.Site || m.Box != p.d.Box {
		res.Warning = fmt.Sprintf("the backup is of box %s/%s, this is %s/%s", m.Site, m.Box, p.d.Site, p.d.Box)
	}
	p.log.Warn("restore staged; restarting", "punches", m.Punches, "site", m.Site, "box", m.Box, "created", m.Created)
	return res, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// syncDir makes a directory's entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
