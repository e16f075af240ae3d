package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/datadir"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// bkBackupFile writes a backup of a new store of n punches for site/box and
// returns its path.
func bkBackupFile(t *testing.T, n int, site, box string) string {
	t.Helper()
	db := storetest.Open(t)
	if err := db.Put(context.Background(), bkPunches("from-backup", n)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "backup.tar.gz")
	if _, err := db.BackupFile(context.Background(), path, store.BackupMeta{Version: "test", Site: site, Box: box}); err != nil {
		t.Fatal(err)
	}
	return path
}

// bkCurrentStore makes a closed store of n punches in dataDir.
func bkCurrentStore(t *testing.T, dataDir string, n int) string {
	t.Helper()
	path := filepath.Join(dataDir, store.FileName)
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Put(context.Background(), bkPunches("current", n)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// bkCount counts the punches of the store at path.
func bkCount(t *testing.T, path string) int64 {
	t.Helper()
	db := storetest.OpenAt(t, path)
	n, err := db.CountPunches(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return n
}

// bkStdin makes restore read its confirmation from f for the test.
func bkStdin(t *testing.T, f *os.File) {
	t.Helper()
	old := stdin
	stdin = f
	t.Cleanup(func() { stdin = old })
}

func TestRestoreCommand(t *testing.T) {
	tests := []struct {
		name     string
		site     string
		current  int // punches in the current store; 0: none
		wantKept string
		wantWarn bool
	}{
		{"over a store", "acme-plant-1", 5, "the previous database is kept as", false},
		{"into an empty data dir", "acme-plant-1", 0, "there was no previous database", false},
		{"another site's backup", "other-site", 5, "the previous database is kept as", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, dataDir := exampleConfig(t, "127.0.0.1:8443")
			dbPath := filepath.Join(dataDir, store.FileName)
			if tt.current > 0 {
				bkCurrentStore(t, dataDir, tt.current)
			}
			file := bkBackupFile(t, 12, tt.site, "box-01")
			e, stdout, stderr := bkEnv()
			if err := runRestore(context.Background(), e, []string{file, "--config", cfg, "--yes"}); err != nil {
				t.Fatalf("restore: %v; stderr %q", err, stderr)
			}
			out := stdout.String()
			if !strings.Contains(out, "restored "+file+" into "+dbPath+": 12 punches") || !strings.Contains(out, tt.wantKept) {
				t.Errorf("output %q", out)
			}
			if got := strings.Contains(stderr.String(), "warning: the backup is of box other-site/box-01"); got != tt.wantWarn {
				t.Errorf("stderr %q: warning shown %v, want %v", stderr, got, tt.wantWarn)
			}
			if n := bkCount(t, dbPath); n != 12 {
				t.Errorf("restored store counts %d punches, want 12", n)
			}
			if tt.current > 0 {
				kept, _ := filepath.Glob(dbPath + ".pre-restore-*")
				if len(kept) != 1 || !strings.Contains(out, kept[0]) {
					t.Fatalf("kept %v; output %q", kept, out)
				}
				if n := bkCount(t, kept[0]); n != int64(tt.current) {
					t.Errorf("kept store counts %d punches, want %d", n, tt.current)
				}
			}
			// The lock was released.
			if err := datadir.Check(dataDir); err != nil {
				t.Errorf("data dir still locked: %v", err)
			}
		})
	}
}

func TestRestoreCommandRefusesWhileDaemonRuns(t *testing.T) {
	cfg, dataDir := exampleConfig(t, freePort(t))
	d := startDaemon(t, nil, "serve", "--config", cfg)
	d.await(t, "READY=1")

	file := bkBackupFile(t, 3, "acme-plant-1", "box-01")
	e, stdout, _ := bkEnv()
	err := runRestore(context.Background(), e, []string{"--config", cfg, "--yes", file})
	var ue usageError
	if !errors.Is(err, datadir.ErrLocked) || errors.As(err, &ue) || !strings.Contains(err.Error(), "stop the service first") {
		t.Fatalf("restore while the daemon runs = %v; want a runtime error wrapping datadir.ErrLocked", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("output %q", stdout)
	}
	// Nothing was extracted, kept or swapped.
	for _, pattern := range []string{"*.pre-restore-*", ".punchbox-*"} {
		if m, _ := filepath.Glob(filepath.Join(dataDir, pattern)); len(m) != 0 {
			t.Errorf("the refused restore left %v", m)
		}
	}
}

func TestRestoreCommandNeedsConfirmation(t *testing.T) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	pw.WriteString("yes\n") // a pipe is no terminal: its answer does not count
	pw.Close()

	tests := []struct {
		name  string
		stdin *os.File
		usage bool
		want  string
	}{
		{"stdin is a pipe", pr, true, "use --yes"},
		{"stdin is a device without an answer", devNull, false, "no answer; nothing restored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bkStdin(t, tt.stdin)
			cfg, dataDir := exampleConfig(t, "127.0.0.1:8443")
			dbPath := bkCurrentStore(t, dataDir, 4)
			before, err := os.ReadFile(dbPath)
			if err != nil {
				t.Fatal(err)
			}
			file := bkBackupFile(t, 9, "acme-plant-1", "box-01")
			e, stdout, _ := bkEnv()
			err = runRestore(context.Background(), e, []string{file, "--config", cfg})
			var ue usageError
			if err == nil || errors.As(err, &ue) != tt.usage || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("restore = %v (usage error: %v), want %q", err, errors.As(err, &ue), tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("output %q", stdout)
			}
			if after, err := os.ReadFile(dbPath); err != nil || string(after) != string(before) {
				t.Errorf("the store changed: %v", err)
			}
			if kept, _ := filepath.Glob(dbPath + ".pre-restore-*"); len(kept) != 0 {
				t.Errorf("kept %v", kept)
			}
		})
	}
}

func TestRestoreCommandUsage(t *testing.T) {
	cfg, _ := exampleConfig(t, "127.0.0.1:8443")
	file := bkBackupFile(t, 1, "acme-plant-1", "box-01")
	notBackup := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notBackup, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{"no file", []string{"--config", cfg, "--yes"}, true, "name one backup FILE"},
		{"two files", []string{file, file, "--config", cfg, "--yes"}, true, "name one backup FILE"},
		{"missing config", []string{file, "--config", "/nonexistent/punchbox.yaml", "--yes"}, true, "no such file"},
		{"not a backup", []string{notBackup, "--config", cfg, "--yes"}, false, store.ErrBadBackup.Error()},
		{"missing backup", []string{notBackup + ".gz", "--config", cfg, "--yes"}, false, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, _ := bkEnv()
			err := runRestore(context.Background(), e, tt.args)
			var ue usageError
			if err == nil || errors.As(err, &ue) != tt.usage || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("restore %v = %v (usage error: %v), want %q", tt.args, err, errors.As(err, &ue), tt.want)
			}
		})
	}
}

func TestRestoreConfirm(t *testing.T) {
	tests := []struct {
		name, answer string
		ok           bool
	}{
		{"yes", "yes\n", true},
		{"y", " Y \n", true},
		{"yes without newline", "yes", true},
		{"no", "n\n", false},
		{"empty line", "\n", false},
		{"nothing", "", false},
		{"something else", "restore!\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := confirm(strings.NewReader(tt.answer)); (err == nil) != tt.ok {
				t.Errorf("confirm(%q) = %v", tt.answer, err)
			}
		})
	}
}
