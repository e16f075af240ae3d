package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/web"
)

// pipeStdin makes the next command read input from a pipe holding s.
func pipeStdin(t *testing.T, s string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString(s)
	w.Close()
	t.Cleanup(func() { r.Close() })
	bkStdin(t, r)
}

// openData opens the store of the configuration's data directory.
func openData(t *testing.T, cfg string) *store.DB {
	t.Helper()
	dataDir := filepath.Join(filepath.Dir(cfg), "data")
	db, err := store.Open(context.Background(), filepath.Join(dataDir, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAdminCommand(t *testing.T) {
	cfg := boxConfig(t, "127.0.0.1:8443", "127.0.0.1:4370")
	dataDir := filepath.Join(filepath.Dir(cfg), "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// A setup code from a first start of the panel.
	os.WriteFile(filepath.Join(dataDir, web.SetupCodeFile), []byte("AAAA-BBBB-CCCC\n"), 0o600)

	code, out, errOut := runCmd(t, "admin", "list", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "no users yet") {
		t.Fatalf("list on a new box: %d %q %q", code, out, errOut)
	}

	pipeStdin(t, "correct horse battery\n")
	if code, out, errOut := runCmd(t, "admin", "add", "alice", "--config", cfg); code != exitOK || !strings.Contains(out, "added alice (admin)") {
		t.Fatalf("add: %d %q %q", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dataDir, web.SetupCodeFile)); !os.IsNotExist(err) {
		t.Errorf("setup code kept after the first admin was added: %v", err)
	}

	code, out, errOut = runCmd(t, "admin", "add", "bob", "--role", "viewer", "--generate", "--config", cfg)
	m := regexp.MustCompile(`password for bob: (\S+)`).FindStringSubmatch(out)
	if code != exitOK || m == nil || len(m[1]) < store.MinPasswordLen {
		t.Fatalf("add --generate: %d %q %q", code, out, errOut)
	}
	bobPassword := m[1]

	for name, tc := range map[string]struct {
		args  []string
		stdin string
		code  int
		err   string
	}{
		"short password":   {[]string{"add", "carol"}, "short\n", exitUsage, "shorter than 12"},
		"name as password": {[]string{"add", "carolcarolcarol"}, "CarolCarolCarol\n", exitUsage, "the user name"},
		"no password":      {[]string{"add", "carol"}, "", exitUsage, "no password on stdin"},
		"taken":            {[]string{"add", "alice"}, "another password!\n", exitFailure, "exists"},
		"bad role":         {[]string{"add", "carol", "--role", "root"}, "correct horse battery\n", exitUsage, "want admin or viewer"},
		"bad name":         {[]string{"add", "<carol>"}, "correct horse battery\n", exitFailure, "user name"},
		"no name":          {[]string{"add"}, "", exitUsage, "name the user"},
		"unknown sub":      {[]string{"promote", "bob"}, "", exitUsage, "unknown admin command"},
		"passwd unknown":   {[]string{"passwd", "nobody"}, "correct horse battery\n", exitFailure, "no user nobody"},
		"remove unknown":   {[]string{"remove", "nobody"}, "", exitFailure, "no user nobody"},
	} {
		pipeStdin(t, tc.stdin)
		code, _, errOut := runCmd(t, append(append([]string{"admin"}, tc.args...), "--config", cfg)...)
		if code != tc.code || !strings.Contains(errOut, tc.err) {
			t.Errorf("%s: exit %d %q, want %d with %q", name, code, errOut, tc.code, tc.err)
		}
	}

	code, out, _ = runCmd(t, "admin", "list", "--json", "--config", cfg)
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var u userLine
		if err := json.Unmarshal([]byte(line), &u); err != nil {
			t.Fatalf("list --json line %q: %v", line, err)
		}
		names = append(names, u.Name+":"+string(u.Role))
	}
	if code != exitOK || strings.Join(names, " ") != "alice:admin bob:viewer" {
		t.Errorf("list --json: %d %v", code, names)
	}

	pipeStdin(t, "a new password for bob\n")
	if code, _, errOut := runCmd(t, "admin", "passwd", "bob", "--config", cfg); code != exitOK {
		t.Fatalf("passwd: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "admin", "remove", "alice", "--config", cfg); code != exitFailure || !strings.Contains(errOut, "last admin") {
		t.Errorf("removing the last admin: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, "admin", "remove", "bob", "--config", cfg); code != exitOK {
		t.Errorf("remove bob: %d %s", code, errOut)
	}

	db := openData(t, cfg)
	ctx := context.Background()
	if _, err := db.Authenticate(ctx, "alice", "correct horse battery"); err != nil {
		t.Errorf("alice cannot sign in: %v", err)
	}
	if _, err := db.Authenticate(ctx, "bob", bobPassword); err == nil {
		t.Error("bob was removed but signs in")
	}
	entries, err := db.AuditLog(ctx, store.AuditFilter{Actor: "console"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+" "+e.Target)
	}
	if got := strings.Join(actions, ", "); got != "user.delete bob, user.password bob, user.create bob, user.create alice" {
		t.Errorf("audit: %s", got)
	}
}

// Run as root on the service's data directory, the command leaves every
// file it made to the service's user.
func TestAdminKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to own files as another user")
	}
	cfg := boxConfig(t, "127.0.0.1:8443", "127.0.0.1:4370")
	dataDir := filepath.Join(filepath.Dir(cfg), "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	const nobody = 65534
	if err := os.Chown(dataDir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	pipeStdin(t, "correct horse battery\n")
	if code, _, errOut := runCmd(t, "admin", "add", "alice", "--config", cfg); code != exitOK {
		t.Fatalf("add: %d %s", code, errOut)
	}
	entries, _ := os.ReadDir(dataDir)
	if len(entries) == 0 {
		t.Fatal("no files made")
	}
	for _, e := range entries {
		fi, _ := e.Info()
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != nobody {
			t.Errorf("%s belongs to uid %d, want %d", e.Name(), st.Uid, nobody)
		}
	}
}
