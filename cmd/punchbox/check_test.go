package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/readiness"
	"github.com/punchbox/punchbox/store"
)

func TestCheckCommand(t *testing.T) {
	cfg := boxConfig(t, "127.0.0.1:8443", "127.0.0.1:4370") // plain HTTP, debug log, no central

	code, _, errOut := runCmd(t, "check", "--config", cfg)
	if code != exitFailure || !strings.Contains(errOut, "no store at") {
		t.Fatalf("check before the first start: %d %q, want 1 and a hint to start the box", code, errOut)
	}

	db := openData(t, cfg)
	code, out, errOut := runCmd(t, "check", "--config", cfg)
	if code != exitFailure || !strings.Contains(errOut, "checks need attention") {
		t.Fatalf("check of a development box: %d %q, want 1", code, errOut)
	}
	for _, want := range []string{"FAIL  Panel served over HTTPS", "web.insecure_http", "FAIL  Logging not at debug level", "FAIL  An admin account exists", "no mqtt.url"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	if _, err := db.CreateUser(context.Background(), "alice", store.RoleAdmin, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCmd(t, "check", "--config", cfg, "--json")
	var checks []readiness.Check
	if err := json.Unmarshal([]byte(out), &checks); err != nil || code != exitFailure {
		t.Fatalf("check --json: %d, %v:\n%s", code, err, out)
	}
	got := map[string]bool{}
	for _, c := range checks {
		got[c.Name] = c.OK
	}
	if !got["admin"] || got["tls"] || got["log-level"] {
		t.Errorf("checks %v: want admin ok, tls and log-level not", got)
	}
	// What needs the running box is not checked, and not a pass.
	for _, c := range checks {
		switch c.Name {
		case "terminal-clocks":
			if c.OK || c.Status != readiness.StatusNotChecked {
				t.Errorf("%s of a stopped box = %+v, want not checked", c.Name, c)
			}
		case "store":
			if !c.OK {
				t.Errorf("store = %+v, want sound", c)
			}
		case "user":
			// The box's user is told by the owner of its data directory.
			if root := os.Geteuid() == 0; c.OK == root {
				t.Errorf("user check = %+v, running as root: %v", c, root)
			}
		}
	}
	code, out, errOut = runCmd(t, "check", "--config", cfg)
	if code != exitFailure || !strings.Contains(out, "--    Terminal clocks agree with the box     not checked: ") || !strings.Contains(errOut, "not checked") {
		t.Errorf("report of a stopped box: %d\n%s\n%s; want the clocks marked not checked", code, out, errOut)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("site: Bad Site\n"), 0o600)
	if code, _, _ := runCmd(t, "check", "--config", bad); code != exitUsage {
		t.Errorf("check with a bad config: exit %d, want %d", code, exitUsage)
	}
}
