package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// bkEnv is an env writing to buffers.
func bkEnv() (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &env{stdout: &out, stderr: &errb, lookup: noEnv}, &out, &errb
}

// bkPunches returns n punches of one employee.
func bkPunches(pin string, n int) []punchbox.Punch {
	ps := make([]punchbox.Punch, n)
	for i := range ps {
		ps[i] = storetest.Punch(pin, i)
	}
	return ps
}

func TestBackupCommand(t *testing.T) {
	ctx := context.Background()
	cfg, dataDir := exampleConfig(t, "127.0.0.1:8443")
	// The store stays open, writing, as the daemon's would.
	db := storetest.OpenAt(t, filepath.Join(dataDir, store.FileName))
	if err := db.Put(ctx, bkPunches("1", 40)); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "site.tar.gz")
	e, stdout, stderr := bkEnv()
	if err := runBackup(ctx, e, []string{"--config", cfg, "--out", out}); err != nil {
		t.Fatalf("backup: %v; stderr %q", err, stderr)
	}
	m, err := store.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Punches != 40 || m.Site != "acme-plant-1" || m.Box != "box-01" || m.Punchbox != version {
		t.Errorf("manifest %+v", m)
	}
	line := stdout.String()
	for _, want := range []string{"wrote " + out, "40 punches", "sha256 " + m.SHA256} {
		if !strings.Contains(line, want) {
			t.Errorf("output %q lacks %q", line, want)
		}
	}
	if strings.Count(line, "\n") != 1 {
		t.Errorf("output is not one line: %q", line)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, path, err := store.VerifyBackup(ctx, f, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)

	// The writer goes on while the backup is taken, and after.
	if err := db.Put(ctx, bkPunches("2", 1)); err != nil {
		t.Fatal(err)
	}
}

func TestBackupCommandErrors(t *testing.T) {
	ctx := context.Background()
	cfg, _ := exampleConfig(t, "127.0.0.1:8443")
	tests := []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{"no --out", []string{"--config", cfg}, true, "--out FILE is required"},
		{"missing config", []string{"--config", "/nonexistent/punchbox.yaml", "--out", "x"}, true, "no such file"},
		{"no store yet", []string{"--config", cfg, "--out", filepath.Join(t.TempDir(), "x.tar.gz")}, false, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, _ := bkEnv()
			err := runBackup(ctx, e, tt.args)
			var ue usageError
			if err == nil || errors.As(err, &ue) != tt.usage || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("backup %v = %v (usage error: %v), want %q", tt.args, err, errors.As(err, &ue), tt.want)
			}
		})
	}
}
